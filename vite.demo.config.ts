// The demo page: `npm start` serves it, `npm run build:demo` builds it to dist-demo/.

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string): string => fileURLToPath(new URL(`./demo/${name}`, import.meta.url));

export default defineConfig({
  root: 'demo',
  publicDir: '../assets/generated',
  // Its own dependency cache: the test server (vite.config.ts) runs beside it, and two servers
  // sharing node_modules/.vite overwrite each other's pre-bundled dependencies.
  cacheDir: '../node_modules/.vite-demo',
  // Pre-bundle up front, so a first visit never triggers a dependency reload mid-session.
  optimizeDeps: { entries: ['index.html', 'interop.html'], include: ['uplot'] },
  server: { port: Number(process.env.PORT ?? 5173), fs: { allow: ['..'] } },
  preview: { port: Number(process.env.PORT ?? 4173) },
  build: {
    outDir: '../dist-demo',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { main: page('index.html'), interop: page('interop.html') } },
  },
});
