// Times LeNet training (captured SGD-momentum steps, batch 64) and each conv2d kernel of LeNet's
// two convolutions in isolation, on the built library. Usage:
//   npm run build:lib --silent && node scripts/bench-conv.mjs [path/to/webgrad.js] [steps]
// Not a test: figures depend on the machine and its load (print `uptime` with them).
import { pathToFileURL } from 'node:url';

const lib = await import(pathToFileURL(process.argv[2] ?? 'dist/webgrad.js').href);
const steps = Number(process.argv[3] ?? 30);
const { init, models, optim, nn, captureStep, tensor, randn, noGrad, sync, manualSeed, memory } = lib;
await init();
manualSeed(0);
const B = 64;

// Keeps every result alive until the work ran (a result disposed before the flush is never computed).
async function timeIt(label, reps, body) {
  const run = async (n) => {
    const kept = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) kept.push(...body());
    await sync();
    const ms = (performance.now() - t0) / n;
    for (const t of kept) t.dispose();
    return ms;
  };
  await run(1);
  // The fastest of three runs: the machine is shared, and slower runs measure the neighbours.
  const times = [await run(reps), await run(reps), await run(reps)];
  return { label, ms: Math.min(...times) };
}

// Whole training step.
const model = new models.LeNet({}, { seed: 0 });
const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const step = captureStep((x, y) => {
  opt.zeroGrad();
  const loss = nn.functional.crossEntropy(model.forward(x), y);
  loss.backward();
  opt.step();
  return loss;
});
const batches = Array.from({ length: 4 }, (_, i) => ({
  x: tensor(Float32Array.from({ length: B * 784 }, (_, j) => ((j * 31 + i * 7) % 255) / 255), { shape: [B, 784] }),
  y: tensor(Int32Array.from({ length: B }, (_, j) => (j + i) % 10), { shape: [B], dtype: 'int32' }),
}));
for (let i = 0; i < 4; i++) (await step(batches[i].x, batches[i].y)).dispose();
await sync();
let t0 = performance.now();
let last;
for (let i = 0; i < steps; i++) {
  last?.dispose();
  const b = batches[i % 4];
  last = step(b.x, b.y);
}
const lossValue = await last.item();
const stepMs = (performance.now() - t0) / steps;
last.dispose();
console.log(`training: ${stepMs.toFixed(1)} ms/step, ${((B * 1000) / stepMs).toFixed(0)} samples/s (loss ${lossValue.toFixed(4)})`);

// Each conv kernel alone: forward (noGrad), forward + input gradient, forward + weight gradient.
const shapes = [
  { name: 'conv1', x: [B, 1, 28, 28], w: [6, 1, 5, 5], padding: 2 },
  { name: 'conv2', x: [B, 6, 14, 14], w: [16, 6, 5, 5], padding: 0 },
];
const reps = 5;
for (const s of shapes) {
  const x = randn(s.x);
  const w = randn(s.w);
  const b = randn([s.w[0]]);
  const fwd = await timeIt('forward', reps, () => [noGrad(() => nn.functional.conv2d(x, w, b, { padding: s.padding }))]);
  const g = noGrad(() => nn.functional.conv2d(x, w, b, { padding: s.padding }));
  const xr = x.detach();
  xr.requiresGrad = true;
  const wr = w.detach();
  wr.requiresGrad = true;
  const withGrad = (leaf, input, weight) => () => {
    const y = nn.functional.conv2d(input, weight, null, { padding: s.padding });
    y.backward(g);
    const grad = leaf.grad;
    leaf.grad = null;
    return [y, grad];
  };
  const bwdInput = await timeIt('forward+input grad', reps, withGrad(xr, xr, w));
  const bwdWeight = await timeIt('forward+weight grad', reps, withGrad(wr, x, wr));
  console.log(
    `${s.name} ${JSON.stringify(s.x)}*${JSON.stringify(s.w)}: forward ${fwd.ms.toFixed(2)} ms, input grad ≈ ${(bwdInput.ms - fwd.ms).toFixed(2)} ms, weight grad ≈ ${(bwdWeight.ms - fwd.ms).toFixed(2)} ms (of a ${stepMs.toFixed(1)} ms step)`,
  );
  for (const t of [x, w, b, g, xr, wr]) t.dispose();
}
// The rest of the step, for the shares: LeNet's forward alone, and forward + backward (no update).
{
  const xr = batches[0].x;
  const fwd = await timeIt('model forward', reps, () => [noGrad(() => model.forward(xr))]);
  const fb = await timeIt('model forward+backward', reps, () => {
    const loss = nn.functional.crossEntropy(model.forward(xr), batches[0].y);
    loss.backward();
    const grads = model.parameters().map((p) => p.grad);
    for (const p of model.parameters()) p.grad = null;
    return [loss, ...grads];
  });
  const h = randn([B, 6, 28, 28]);
  const hr = h.detach();
  hr.requiresGrad = true;
  const pool = await timeIt('maxPool2d forward+backward', reps, () => {
    const y = nn.functional.maxPool2d(hr, 2);
    y.backward(y);
    const grad = hr.grad;
    hr.grad = null;
    return [y, grad];
  });
  console.log(`model forward ${fwd.ms.toFixed(2)} ms, forward+backward ${fb.ms.toFixed(2)} ms; maxPool2d [64,6,28,28] forward+backward ${pool.ms.toFixed(2)} ms`);
  for (const t of [h, hr]) t.dispose();
}
console.log(`live tensors at the end: ${memory().liveTensors}`);
