// Labels that are views of a larger tensor (a batch narrowed out of all of them, every other
// label) must give the losses and gradients their values give as a tensor of their own: the
// kernels read labels from the start of their storage, so a view must be made dense first.
import { expect, test } from 'vitest';
import { nn, type Tensor, tensor } from '../src/index.js';

const N = 6;
const C = 4;
const logitValues = Float32Array.from({ length: N * C }, (_, i) => Math.sin(i * 1.7));
// Two batches of labels side by side, the second not a copy of the first.
const all = Int32Array.from({ length: 2 * N }, (_, i) => (i * 3 + 1) % C);

const views: [string, () => Tensor, Int32Array][] = [
  ['the second batch narrowed out of both', () => tensor(all, { shape: [2 * N], dtype: 'int32' }).narrow(0, N, N), all.slice(N)],
  [
    'every other label (stride 2)',
    () =>
      tensor(all, { shape: [N, 2], dtype: 'int32' })
        .transpose(0, 1)
        .narrow(0, 1, 1)
        .squeeze(0),
    Int32Array.from({ length: N }, (_, i) => all[2 * i + 1]!),
  ],
];

const losses: [string, (x: Tensor, y: Tensor) => Tensor][] = [
  ['crossEntropy', (x, y) => nn.functional.crossEntropy(x, y)],
  ['crossEntropy, sum', (x, y) => nn.functional.crossEntropy(x, y, { reduction: 'sum' })],
  ['nllLoss', (x, y) => nn.functional.nllLoss(x.logSoftmax(1), y)],
  ['nllLoss, none', (x, y) => nn.functional.nllLoss(x.logSoftmax(1), y, { reduction: 'none' }).sum()],
];

test.each(views.flatMap(([v, make, values]) => losses.map(([l, loss]) => [`${l} with ${v}`, make, values, loss] as const)))(
  '%s: equals the labels as a tensor of their own',
  async (_label, makeView, values, loss) => {
    const run = async (labels: Tensor): Promise<number[][]> => {
      const x = tensor(logitValues, { shape: [N, C] });
      x.requiresGrad = true;
      const l = loss(x, labels);
      l.backward();
      return [[...(await l.data())], [...(await x.grad!.data())]];
    };
    const view = makeView();
    expect([...(await view.data())]).toEqual([...values]);
    expect(await run(view)).toEqual(await run(tensor(values, { shape: [N], dtype: 'int32' })));
  },
);
