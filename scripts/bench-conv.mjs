// Times LeNet training (captured SGD-momentum steps, batch 64) and each conv2d kernel of LeNet's
// two convolutions in isolation, on the built library. Usage:
//   npm run build:lib --silent && node scripts/bench-conv.mjs [path/to/webgrad.js] [steps]
// Not a test: figures depend on the machine and its load (print `uptime` with them). Lavapipe runs
// the kernels on threads of this process, so its CPU time (user + system) counts the work done
// whatever the other processes on the machine do: each figure is given as wall time and CPU time.
import { pathToFileURL } from 'node:url';

const lib = await import(pathToFileURL(process.argv[2] ?? 'dist/webgrad.js').href);
const steps = Number(process.argv[3] ?? 30);
const { init, models, optim, nn, captureStep, tensor, randn, noGrad, sync, manualSeed, memory } = lib;
await init();
manualSeed(0);
const B = 64;

const cpuMs = (since) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

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
  x: tensor(
    Float32Array.from({ length: B * 784 }, (_, j) => ((j * 31 + i * 7) % 255) / 255),
    { shape: [B, 784] },
  ),
  y: tensor(
    Int32Array.from({ length: B }, (_, j) => (j + i) % 10),
    { shape: [B], dtype: 'int32' },
  ),
}));
for (let i = 0; i < 4; i++) (await step(batches[i].x, batches[i].y)).dispose();
await sync();
const t0 = performance.now();
const c0 = process.cpuUsage();
let last;
for (let i = 0; i < steps; i++) {
  last?.dispose();
  const b = batches[i % 4];
  last = step(b.x, b.y);
}
const lossValue = await last.item();
const wallMs = (performance.now() - t0) / steps;
const stepMs = cpuMs(c0) / steps;
last.dispose();
console.log(
  `training: wall ${wallMs.toFixed(1)} ms/step (${((B * 1000) / wallMs).toFixed(0)} samples/s), CPU ${stepMs.toFixed(1)} ms/step (${((B * 1000) / stepMs).toFixed(0)} samples per CPU-second) (loss ${lossValue.toFixed(4)})`,
);

// Each conv kernel alone, 10 times in one captured step (replays run no JavaScript of the step):
// forward with bias; forward + input gradient; forward + weight gradient (bias gradient included).
const shapes = [
  { name: 'conv1', x: [B, 1, 28, 28], w: [6, 1, 5, 5], padding: 2 },
  { name: 'conv2', x: [B, 6, 14, 14], w: [16, 6, 5, 5], padding: 0 },
];
const reps = 5;
const copies = 10;
async function timeCaptured(fn, inputs) {
  const step = captureStep(fn);
  const run = async (n) => {
    const kept = [];
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) kept.push(step(...inputs));
    await sync();
    const ms = cpuMs(c0) / n / copies;
    for (const r of kept) for (const t of [r].flat()) t.dispose();
    return ms;
  };
  await run(3);
  const ms = Math.min(await run(reps), await run(reps), await run(reps));
  step.dispose();
  return ms;
}
for (const s of shapes) {
  const x = randn(s.x);
  const w = randn(s.w);
  const b = randn([s.w[0]]);
  const g = noGrad(() => randn([B, s.w[0], s.name === 'conv1' ? 28 : 10, s.name === 'conv1' ? 28 : 10]));
  const fwd = await timeCaptured(
    (x, w, b) => noGrad(() => Array.from({ length: copies }, () => nn.functional.conv2d(x, w, b, { padding: s.padding }))),
    [x, w, b],
  );
  const grads = (which) => (x, w, b, g) => {
    const out = [];
    for (let i = 0; i < copies; i++) {
      const leaf = (which === 'input' ? x : w).detach();
      leaf.requiresGrad = true;
      const y = which === 'input' ? nn.functional.conv2d(leaf, w, b, { padding: s.padding }) : nn.functional.conv2d(x, leaf, b, { padding: s.padding });
      y.backward(g);
      out.push(leaf.grad);
    }
    return out;
  };
  const withInput = await timeCaptured(grads('input'), [x, w, b, g]);
  const withWeight = await timeCaptured(grads('weight'), [x, w, b, g]);
  console.log(
    `${s.name} ${JSON.stringify(s.x)}*${JSON.stringify(s.w)}, CPU ms per call: forward ${fwd.toFixed(2)}, forward + input grad ${withInput.toFixed(2)}, forward + weight grad ${withWeight.toFixed(2)} (of a ${stepMs.toFixed(1)} ms step)`,
  );
  for (const t of [x, w, b, g]) t.dispose();
}
console.log(`live tensors at the end: ${memory().liveTensors}`);
