// Reductions over lists of dims (amax/amin, var/std, norm, logsumexp), as PyTorch: the values are
// checked against float64 references in tests/op_table.ts; here the gradient at ties, gradcheck
// through non-adjacent dims and strided inputs, the empty list, and a captured training step.
import { describe, expect, test } from 'vitest';
import { captureStep, gradcheck, jvp, memory, optim, realize, ShapeError, sync, type Tensor, tensor } from '../src/index.js';
import { collect as settledMemory } from './gc.js';
import { randHost, rng } from './helpers.js';

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());

describe('amax and amin split the gradient among ties; max and min give it to the first', () => {
  // torch.amax's rule: grad / (number of entries equal to the result), at each of them.
  const x = () =>
    tensor(
      [
        [1, 3, 3],
        [2, 2, 2],
      ],
      { requiresGrad: true },
    );

  test('along one dim and over a list', async () => {
    const a = x();
    a.amax(1).sum().backward();
    expect(await values(a.grad!)).toEqual([0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    const b = x();
    b.amin([0, 1]).backward();
    expect(await values(b.grad!)).toEqual([1, 0, 0, 0, 0, 0]);
    const c = x();
    c.amax([1, 0]).backward();
    expect(await values(c.grad!)).toEqual([0, 0.5, 0.5, 0, 0, 0]);
    const d = x();
    d.max(1).sum().backward();
    expect(await values(d.grad!)).toEqual([0, 1, 0, 1, 0, 0]);
  });

  test('forward mode takes the mean of the tied tangents, as reverse mode does', async () => {
    const v = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const { output, tangent } = jvp((t: Tensor) => t.amax([0, 1], true), [x()], [v]);
    expect(output.shape).toEqual([1, 1]);
    expect(await values(output)).toEqual([3]);
    expect(await values(tangent)).toEqual([2.5]);
    const { tangent: along } = jvp((t: Tensor) => t.amin(1), [x()], [v]);
    expect(await values(along)).toEqual([1, 5]);
  });
});

describe('lists of dims pass gradcheck (float64 replay), strided inputs included', () => {
  const shape = [3, 4, 5];
  const input = (seed: number, transposed = false): Tensor => {
    const h = randHost(rng(seed), transposed ? [5, 4, 3] : shape, 2);
    const t = tensor(Float32Array.from(h.data), { shape: h.shape });
    return transposed ? t.permute([2, 1, 0]) : t;
  };
  const cases: [string, (x: Tensor) => Tensor][] = [
    ['amax dims [0, 2]', (x) => x.amax([0, 2])],
    ['amin dims [-1, 0] keepdim', (x) => x.amin([-1, 0], true)],
    ['var dims [0, 2]', (x) => x.var([0, 2])],
    ['var dims [2, 0] correction 0 keepdim', (x) => x.var([2, 0], { correction: 0, keepdim: true })],
    ['std dims [0, 2]', (x) => x.std([0, 2])],
    ['norm p 2 dims [0, 2]', (x) => x.norm(2, [0, 2])],
    ['norm p 1 dims [0, -1] keepdim', (x) => x.norm(1, [0, -1], true)],
    ['norm p ∞ dims [0, 2]', (x) => x.norm(Infinity, [0, 2])],
    ['logsumexp dims [0, 2]', (x) => x.logsumexp([0, 2])],
    ['logsumexp dims [2, 0] keepdim', (x) => x.logsumexp([2, 0], true)],
    ['logsumexp dims [1, 2] (adjacent)', (x) => x.logsumexp([1, 2])],
  ];
  test.each(cases)('%s', async (_label, fn) => {
    for (const transposed of [false, true]) {
      const result = await gradcheck(fn, [input(7, transposed)]);
      expect(result.passed, `${transposed ? 'strided' : 'dense'}: ${JSON.stringify(result.inputs)}`).toBe(true);
    }
  });
});

describe('the empty list reduces every dim, as PyTorch', () => {
  test('amax, var, std, norm and logsumexp of [] equal their reductions of all elements', async () => {
    const h = randHost(rng(3), [4, 6], 2);
    const x = tensor(Float32Array.from(h.data), { shape: [4, 6] });
    const all = Array.from(h.data);
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1);
    const m = Math.max(...all);
    const close = async (t: Tensor, want: number): Promise<void> => {
      expect(t.shape).toEqual([]);
      expect(Math.abs((await values(t))[0]! - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
    };
    await close(x.amax([]), m);
    await close(x.amin([]), Math.min(...all));
    await close(x.var([]), variance);
    await close(x.std([]), Math.sqrt(variance));
    await close(x.norm(2, []), Math.sqrt(all.reduce((a, b) => a + b * b, 0)));
    await close(x.logsumexp([]), m + Math.log(all.reduce((a, b) => a + Math.exp(b - m), 0)));
  });

  test('a 0-d tensor names its one dim as 0 or -1, not twice', async () => {
    const s = tensor(2.5);
    expect(await values(s.amax([-1]))).toEqual([2.5]);
    expect(await values(s.logsumexp([0]))).toEqual([2.5]);
    expect(() => s.sum([0, -1])).toThrow(ShapeError);
    expect(() => s.amax([0, -1])).toThrow(/amax: dim 0 appears more than once in the dims \[0,-1\]/);
  });
});

test('a captured step with reductions over lists of dims replays as the eager step computes, with memory flat', async () => {
  const init = randHost(rng(11), [3, 4, 5], 1);
  const param = (): Tensor => tensor(Float32Array.from(init.data), { shape: [3, 4, 5], requiresGrad: true });
  const make = (w: Tensor) => {
    const opt = new optim.SGD([w], { lr: 0.05 });
    return (x: Tensor): Tensor => {
      opt.zeroGrad();
      const y = w.mul(x);
      const loss = y
        .amax([0, 2])
        .sum()
        .add(y.var([2, 0]).sum())
        .add(y.norm(2, [0, -1]).sum())
        .add(y.logsumexp([0, 2], true).sum())
        .add(y.std([0, 2]).sum());
      loss.backward();
      opt.step();
      return loss;
    };
  };
  const eagerW = param();
  const capturedW = param();
  const eager = make(eagerW);
  const step = captureStep(make(capturedW));
  const batch = (s: number): Tensor => {
    const h = randHost(rng(200 + s), [3, 4, 5], 1);
    return tensor(Float32Array.from(h.data), { shape: [3, 4, 5] });
  };
  // Tensors earlier tests dropped are counted until the garbage collector finds them: collect them
  // first, then count without collecting (the collector would also hide a tensor this code leaks).
  await settledMemory();
  let afterRecording = memory();
  for (let s = 0; s < 8; s++) {
    const [xe, xc] = [batch(s), batch(s)];
    const want = await eager(xe).item();
    const result = step(xc);
    const got = await result.item();
    for (const t of [xe, xc, result]) t.dispose();
    expect(got, `step ${s}`).toBe(want);
    expect(await values(capturedW), `weights after step ${s}`).toEqual(await values(eagerW));
    realize();
    await sync();
    if (s === 2) afterRecording = memory();
  }
  expect(step.replays).toBeGreaterThanOrEqual(5);
  const end = memory();
  expect(end.liveTensors).toBe(afterRecording.liveTensors);
  expect(end.liveBuffers).toBe(afterRecording.liveBuffers);
});
