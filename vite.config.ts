// The library build: src/index.ts → dist/webgrad.js (ESM, for browsers and Node), one self-contained
// file, which is what the package ships. `vite build --mode programs` builds the Node command-line
// programs (training, gradients, benchmarks) next to it, sharing a chunk of their own, not shipped.
// WGSL is inlined with ?raw imports; the `webgpu` binding stays external.
import { defineConfig } from 'vite';

const library = { webgrad: 'src/index.ts' };
const programs = {
  train: 'src/cli/train.ts',
  'train-names': 'src/cli/train_names.ts',
  gradients: 'src/cli/gradients.ts',
  'bench-matmul': 'bench/matmul.ts',
  'bench-node': 'bench/node.ts',
};

export default defineConfig(({ mode }) => ({
  // The embedded digits (made by scripts/build-digits.mjs) are copied next to the library.
  publicDir: 'assets/generated',
  // VITE_CACHE_DIR: a dev server of its own pre-bundled dependencies (two servers sharing one
  // node_modules, e.g. from git worktrees, otherwise invalidate each other's and a page fails).
  cacheDir: process.env.VITE_CACHE_DIR ?? 'node_modules/.vite',
  // The dev server serves the browser tests and benchmarks: pre-bundle their dependencies up front
  // so that a first visit never reloads the page mid-run.
  optimizeDeps: {
    entries: ['tests/browser/*.html', 'bench/browser/*.html'],
    include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@jax-js/jax'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: mode === 'programs' ? programs : library,
      formats: ['es'],
    },
    rollupOptions: {
      // The benchmark's TensorFlow.js (a devDependency) is loaded from node_modules at run time.
      external: ['webgpu', /^node:/, /^@tensorflow\//],
    },
  },
}));
