// npm run gradients — the gradient of the 784-128-10 MLP's loss four ways
// (forward and central finite differences, forward-mode and reverse-mode AD), each compared with
// reverse mode and its cost extrapolated to all P parameters.

import { formatDuration } from '../gradient_methods.js';
import { compareGradientMethods, data, init, manualSeed, nn, runtimeInfo, type Tensor, tensor, WebgradError } from '../index.js';
import { parseArgs, UsageError } from './args.js';
import { runsBehindDawnNoiseFilter } from './dawn_noise.js';
import { Net } from './seed_net.js';

const LABELS = {
  'reverse-mode': 'reverse-mode AD (backprop)',
  'forward-mode': 'forward-mode AD (jvp)',
  'central-difference': 'central difference',
  'forward-difference': 'forward difference',
} as const;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { samples: 'number', batch: 'number', seed: 'number', eps: 'number', json: 'flag' });
  const samples = (args.samples as number | undefined) ?? 24;
  const batch = (args.batch as number | undefined) ?? 64;
  const eps = (args.eps as number | undefined) ?? 1e-2;
  if (!Number.isInteger(samples) || samples < 4) throw new UsageError(`--samples must be an integer ≥ 4, got ${samples}`);
  if (!Number.isInteger(batch) || batch < 1 || batch > 8000) throw new UsageError(`--batch must be an integer from 1 to 8000, got ${batch}`);
  if (!(eps > 0)) throw new UsageError(`--eps must be positive, got ${eps}`);

  const digits = await data.loadDigits();
  await init();
  const info = runtimeInfo();
  manualSeed((args.seed as number | undefined) ?? 0);
  const model = new Net();
  const x = tensor(digits.train.images.subarray(0, batch * 784), { shape: [batch, 784] }).keep();
  const y = tensor(digits.train.labels.subarray(0, batch), { shape: [batch], dtype: 'int32' }).keep();
  const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor =>
    nn.functional.crossEntropy(nn.functional.linear(nn.functional.linear(x, w1, b1).relu(), w2, b2), y);
  const result = await compareGradientMethods(loss as (...p: Tensor[]) => Tensor, model.parameters(), { samples, eps });

  if (args.json) {
    console.log(JSON.stringify({ adapter: info.adapter, batch, ...result }));
    return;
  }
  console.log(`adapter: ${info.adapter.vendor} / ${info.adapter.architecture} / ${info.adapter.description || info.adapter.device}`);
  console.log(
    `MLP 784-128-10: P = ${result.parameters.toLocaleString('en')} parameters; loss on a batch of ${batch} digits; ` +
      `${result.sampled} sampled parameters; finite differences with eps ${eps} in float32 on the GPU`,
  );
  console.log('');
  console.log(
    'method                       per parameter     for all P                     time/param   time for all P       max |err| vs reverse  max err / max|grad|',
  );
  for (const r of result.rows) {
    const all = r.msPerParameter === null ? `${formatDuration(r.msForAll)} (measured)` : `≈ ${formatDuration(r.msForAll)}`;
    console.log(
      `${LABELS[r.method].padEnd(28)} ${(r.passesPerParameter ?? '—').padEnd(17)} ${r.passesForAll.padEnd(29)} ` +
        `${(r.msPerParameter === null ? '—' : formatDuration(r.msPerParameter)).padEnd(12)} ${all.padEnd(20)} ` +
        `${(r.maxAbsError === null ? '(reference)' : r.maxAbsError.toExponential(2)).padEnd(21)} ${r.maxRelError === null ? '' : r.maxRelError.toExponential(2)}`,
    );
  }
  const [reverse, forwardMode, central] = result.rows as [(typeof result.rows)[0], (typeof result.rows)[0], (typeof result.rows)[0]];
  console.log('');
  console.log(
    `for all P, reverse mode is ≈ ${Math.round(forwardMode.msForAll / reverse.msForAll).toLocaleString('en')}× cheaper than forward mode ` +
      `and ≈ ${Math.round(central.msForAll / reverse.msForAll).toLocaleString('en')}× cheaper than central differences.`,
  );
}

if (runsBehindDawnNoiseFilter())
  main().catch((err: unknown) => {
    if (err instanceof UsageError || err instanceof WebgradError) {
      console.error(`error: ${(err as Error).message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  });
