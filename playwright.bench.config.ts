// `npm run bench`: the browser benchmark (webgrad vs TensorFlow.js WebGPU) in headless Chromium.

import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

const PORT = Number(process.env.WEBGRAD_BENCH_PORT ?? 5197);
const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

export default defineConfig({
  testDir: 'bench/browser',
  timeout: 3_600_000,
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results/bench',
  use: {
    baseURL: `http://localhost:${PORT}`,
    launchOptions: {
      ...(executablePath ? { executablePath } : {}),
      args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    },
  },
  webServer: {
    command: `node scripts/build-digits.mjs && node scripts/build-names.mjs && npx vite --port ${PORT} --strictPort --logLevel warn`,
    url: `http://localhost:${PORT}/bench/browser/bench.html`,
    reuseExistingServer: false,
    timeout: 120_000,
  },
});
