// npm run gradients — the gradient of the seed network's loss four ways, as the lecture lists them:
// forward and central finite differences (one and two extra forward passes per parameter),
// forward-mode AD (one tangent pass per parameter) and reverse-mode AD (one backward pass for all
// of them). Each is run on a sample of parameters, compared with reverse mode, and its cost is
// extrapolated to all P parameters.
import { init, runtimeInfo, nn, data, jvp, tensor, noGrad, manualSeed, sync, WebgradError, type Tensor } from '../index.js';
import { parseArgs, UsageError } from './args.js';
import { Net } from './seed_net.js';

interface Row {
  method: string;
  passesPerParam: string;
  passesAll: string;
  msPerParam: number | null;
  msAll: number;
  maxAbs: number | null;
  maxRel: number | null;
}

function fmtMs(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { samples: 'number', batch: 'number', seed: 'number', eps: 'number', json: 'flag' });
  const samples = (args.samples as number | undefined) ?? 24;
  const batch = (args.batch as number | undefined) ?? 64;
  const eps = (args.eps as number | undefined) ?? 1e-2;
  if (!Number.isInteger(samples) || samples < 4) throw new UsageError(`--samples must be an integer ≥ 4, got ${samples}`);
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`--batch must be a positive integer, got ${batch}`);
  if (!(eps > 0)) throw new UsageError(`--eps must be positive, got ${eps}`);

  const digits = await data.loadDigits();
  await init();
  const info = runtimeInfo();
  manualSeed((args.seed as number | undefined) ?? 0);
  const model = new Net();
  const params = model.namedParameters();
  const P = params.reduce((n, [, p]) => n + p.size, 0);
  const x = tensor(digits.train.images.subarray(0, batch * 784), { shape: [batch, 784] }).keep();
  const y = tensor(digits.train.labels.subarray(0, batch), { shape: [batch], dtype: 'int32' }).keep();
  const lossOf = (...ps: Tensor[]): Tensor => {
    const [w1, b1, w2, b2] = ps as [Tensor, Tensor, Tensor, Tensor];
    return nn.functional.crossEntropy(nn.functional.linear(nn.functional.linear(x, w1, b1).relu(), w2, b2), y);
  };

  // A sample of parameters from every tensor: [tensor index, element index].
  const picks: [number, number][] = [];
  for (let s = 0; s < samples; s++) {
    const k = s % params.length;
    picks.push([k, Math.floor(((s * 2654435761) % 4294967296) / 4294967296 * params[k]![1].size)]);
  }
  const hostValues = await Promise.all(params.map(async ([, p]) => Float32Array.from(await p.data())));

  // Reverse mode: one forward and one backward pass give all P partial derivatives.
  const reverse = async (): Promise<Float32Array[]> => {
    model.zeroGrad();
    lossOf(...params.map(([, p]) => p)).backward();
    return Promise.all(params.map(async ([, p]) => Float32Array.from(await p.grad!.data())));
  };
  await reverse();
  let t0 = performance.now();
  const reps = 5;
  let exact: Float32Array[] = [];
  for (let r = 0; r < reps; r++) exact = await reverse();
  const reverseMs = (performance.now() - t0) / reps;
  const truth = picks.map(([k, i]) => exact[k]![i]!);

  const compare = (values: number[]): [number, number] => {
    let maxAbs = 0;
    let maxRel = 0;
    const scale = Math.max(...truth.map(Math.abs));
    values.forEach((v, j) => {
      const err = Math.abs(v - truth[j]!);
      maxAbs = Math.max(maxAbs, err);
      maxRel = Math.max(maxRel, err / scale);
    });
    return [maxAbs, maxRel];
  };

  // Forward mode: one tangent pass per parameter, with a one-hot tangent.
  const forwardMode = async (): Promise<number[]> => {
    const results: Tensor[] = [];
    for (const [k, i] of picks) {
      const oneHot = new Float32Array(params[k]![1].size);
      oneHot[i] = 1;
      const tangents = params.map(([, p], j) => (j === k ? tensor(oneHot, { shape: p.shape }) : null));
      const { output, tangent } = noGrad(() => jvp(lossOf, params.map(([, p]) => p), tangents));
      results.push(tangent.keep());
      [output, ...tangents].forEach((t) => t?.dispose());
    }
    const values = await Promise.all(results.map((t) => t.item()));
    results.forEach((t) => t.dispose());
    return values;
  };
  await forwardMode();
  t0 = performance.now();
  const fwdAd = await forwardMode();
  const fwdAdMs = (performance.now() - t0) / picks.length;

  // Finite differences, evaluated on the GPU in float32. Each evaluation uploads the perturbed
  // parameter and records the loss; the losses are read back together at the end, so the timing is
  // the forward passes' and not one readback's latency per pass.
  const lossAt = (k: number, i: number, delta: number): Tensor => {
    const [, p] = params[k]!;
    const values = hostValues[k]!;
    const original = values[i]!;
    values[i] = original + delta;
    p.write(values);
    values[i] = original;
    const loss = noGrad(() => lossOf(...params.map(([, q]) => q))).keep();
    p.write(values);
    return loss;
  };
  const read = async (losses: Tensor[]): Promise<number[]> => {
    const values = await Promise.all(losses.map((l) => l.item()));
    losses.forEach((l) => l.dispose());
    return values;
  };
  const [base] = await read([noGrad(() => lossOf(...params.map(([, q]) => q))).keep()]);
  const difference = async (central: boolean): Promise<number[]> => {
    if (central) {
      const pairs = picks.map(([k, i]) => [lossAt(k, i, eps), lossAt(k, i, -eps)] as const);
      const plus = await read(pairs.map((p) => p[0]));
      const minus = await read(pairs.map((p) => p[1]));
      return plus.map((v, j) => (v - minus[j]!) / (2 * eps));
    }
    return (await read(picks.map(([k, i]) => lossAt(k, i, eps)))).map((v) => (v - base!) / eps);
  };
  await difference(false);
  t0 = performance.now();
  const fwdDiff = await difference(false);
  const fwdDiffMs = (performance.now() - t0) / picks.length;
  t0 = performance.now();
  const cenDiff = await difference(true);
  const cenDiffMs = (performance.now() - t0) / picks.length;
  await sync();

  const rows: Row[] = [
    { method: 'reverse-mode AD (backprop)', passesPerParam: '—', passesAll: '1 forward + 1 backward', msPerParam: null, msAll: reverseMs, maxAbs: null, maxRel: null },
    { method: 'forward-mode AD (jvp)', passesPerParam: '1 tangent pass', passesAll: `${P.toLocaleString('en')} tangent passes`, msPerParam: fwdAdMs, msAll: fwdAdMs * P, ...errs(compare(fwdAd)) },
    { method: `central difference (eps ${eps})`, passesPerParam: '2 forward', passesAll: `${(2 * P).toLocaleString('en')} forward`, msPerParam: cenDiffMs, msAll: cenDiffMs * P, ...errs(compare(cenDiff)) },
    { method: `forward difference (eps ${eps})`, passesPerParam: '1 forward', passesAll: `${(P + 1).toLocaleString('en')} forward`, msPerParam: fwdDiffMs, msAll: fwdDiffMs * P, ...errs(compare(fwdDiff)) },
  ];
  if (args.json) {
    console.log(JSON.stringify({ adapter: info.adapter, parameters: P, sampled: picks.length, batch, rows }));
    return;
  }
  console.log(`adapter: ${info.adapter.vendor} / ${info.adapter.architecture} / ${info.adapter.description || info.adapter.device}`);
  console.log(`seed network 784-128-10: P = ${P.toLocaleString('en')} parameters; loss on a batch of ${batch} digits; ${picks.length} sampled parameters`);
  console.log('');
  console.log('method                         passes per param   passes for all P              time per param   time for all P     max |err| vs reverse   max err / max|grad|');
  for (const r of rows) {
    console.log(
      `${r.method.padEnd(30)} ${r.passesPerParam.padEnd(18)} ${r.passesAll.padEnd(29)} ${(r.msPerParam === null ? '—' : fmtMs(r.msPerParam)).padEnd(16)} ` +
        `${(r.msPerParam === null ? fmtMs(r.msAll) + ' (measured)' : '≈ ' + fmtMs(r.msAll)).padEnd(18)} ${(r.maxAbs === null ? '(reference)' : r.maxAbs.toExponential(2)).padEnd(22)} ${r.maxRel === null ? '' : r.maxRel.toExponential(2)}`,
    );
  }
  console.log('');
  console.log(`reverse mode is ≈ ${Math.round((fwdAdMs * P) / reverseMs).toLocaleString('en')}× cheaper than forward mode and ≈ ${Math.round((cenDiffMs * P) / reverseMs).toLocaleString('en')}× cheaper than central differences for all P.`);
}

function errs([maxAbs, maxRel]: [number, number]): { maxAbs: number; maxRel: number } {
  return { maxAbs, maxRel };
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof WebgradError) {
    console.error(`error: ${(err as Error).message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
