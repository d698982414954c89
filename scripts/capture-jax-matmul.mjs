// Writes the WGSL that jax-js (@jax-js/jax, a devDependency) generates for a few matmuls under
// `jit`, by running it on Dawn's Node binding (the `webgpu` package) and keeping every shader module
// it creates. For docs/matmul.md: `node scripts/capture-jax-matmul.mjs [out-dir]` (default
// test-results/jax-matmul). jax-js supports only browsers officially; this gives it the Node
// binding's `navigator.gpu`. Shapes: [label, A's shape, B's shape, transpose A, transpose B].
import { mkdirSync, writeFileSync } from 'node:fs';
import { create, globals } from 'webgpu';

const outDir = process.argv[2] ?? 'test-results/jax-matmul';
mkdirSync(outDir, { recursive: true });
Object.assign(globalThis, globals);
const gpu = create([]);
/** @type {any} */ (globalThis).navigator = { gpu, userAgent: 'node' };
const shaders = [];
const requestAdapter = gpu.requestAdapter.bind(gpu);
gpu.requestAdapter = async (options) => {
  const adapter = await requestAdapter(options);
  if (!adapter) throw new Error('capture-jax-matmul: no WebGPU adapter (run npm run setup for lavapipe)');
  const requestDevice = adapter.requestDevice.bind(adapter);
  adapter.requestDevice = async (descriptor) => {
    const device = await requestDevice(descriptor);
    const createShaderModule = device.createShaderModule.bind(device);
    device.createShaderModule = (d) => {
      shaders.push(d.code);
      return createShaderModule(d);
    };
    return device;
  };
  return adapter;
};

const jax = await import('@jax-js/jax');
await jax.init('webgpu');
jax.defaultDevice('webgpu');
const np = jax.numpy;
/** @type {[string, number[], number[], boolean, boolean][]} */
const products = [
  ['1024x1024x1024', [1024, 1024], [1024, 1024], false, false],
  ['mlp-full-fc1_8000x784x128', [8000, 784], [784, 128], false, false],
  ['mlp-full-dW1_XT-G_784x8000x128', [8000, 784], [8000, 128], true, false],
  ['mlp-full-dX_G-WT_8000x128x784', [8000, 128], [784, 128], false, true],
];
for (const [label, aShape, bShape, ta, tb] of products) {
  const a = jax.random.uniform(jax.random.key(1), aShape);
  const b = jax.random.uniform(jax.random.key(2), bShape);
  const before = shaders.length;
  const product = jax.jit((x, y) => np.matmul(ta ? np.transpose(x) : x, tb ? np.transpose(y) : y));
  const c = product(a, b);
  await jax.blockUntilReady(c);
  c.dispose();
  shaders.slice(before).forEach((code, i) => writeFileSync(`${outDir}/${label}_${i}.wgsl`, code));
  console.log(`${label}: ${shaders.length - before} shader(s)`);
}
process.exit(0);
