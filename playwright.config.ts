// Browser tests: headless Chromium with WebGPU on SwiftShader, pages served by Vite on localhost
// (WebGPU needs a secure context). CHROMIUM_PATH picks the browser; Debian's /usr/bin/chromium is
// the default where it exists, else Playwright's own Chromium.

import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

const PORT = Number(process.env.WEBGRAD_TEST_PORT ?? 5199);
const DEMO_PORT = PORT + 1;
export const DEMO_URL = `http://localhost:${DEMO_PORT}/`;
const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

export default defineConfig({
  testDir: 'tests/browser',
  timeout: 300_000,
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://localhost:${PORT}`,
    launchOptions: {
      ...(executablePath ? { executablePath } : {}),
      args: [
        '--enable-unsafe-webgpu',
        '--use-webgpu-adapter=swiftshader',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: [
    {
      command: `npx vite --port ${PORT} --strictPort --logLevel warn`,
      url: `http://localhost:${PORT}/tests/browser/matmul.html`,
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
    },
    // The demo is built (unminified, so error names and stack traces read as in the source) and
    // served as files: a page load is a few requests, where the dev server's one request per module
    // (about 170) cost every test a second or more of its load on a busy software-rendering machine.
    {
      command: `node scripts/build-digits.mjs && node scripts/build-names.mjs && npx vite build --config vite.demo.config.ts --minify false --logLevel warn && npx vite preview --config vite.demo.config.ts --port ${DEMO_PORT} --strictPort`,
      url: DEMO_URL,
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
    },
  ],
});
