// The demo page: `npm start` serves it, `npm run build:demo` builds it to dist-demo/.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'demo',
  publicDir: '../assets/generated',
  server: { port: Number(process.env.PORT ?? 5173), fs: { allow: ['..'] } },
  preview: { port: Number(process.env.PORT ?? 4173) },
  build: { outDir: '../dist-demo', emptyOutDir: true, target: 'es2022' },
});
