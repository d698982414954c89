// oneHot(labels, numClasses): int32 labels of shape S to int32 [...S, numClasses], 1 at each
// label's class. Composed from an eq comparison of the labels (seen as [...S, 1]) with the class
// indices [numClasses], then a cast. The indices cost numClasses² work (fine for class counts).
// No gradient (integer output).

import { DTypeError, fmtShape, ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { compare } from './compare.js';
import { host } from './host.js';
import type { OpDef } from './op.js';
import { bandMask } from './triangular.js';

export interface OneHotAttrs {
  /** The number of classes; -1: one more than the largest label (known only for labels made from host values). */
  numClasses: number;
}

const NO_SAVE = { recording: false, save: () => {} };

/** The class count, checked against the labels' range where it is known ([min, max] or null). */
function classCount(labels: { shape: readonly number[] }, range: readonly [number, number] | null, numClasses: number): number {
  if (!Number.isInteger(numClasses) || numClasses < -1) throw new ValueError(`oneHot: numClasses must be an integer ≥ -1, got ${numClasses}.`);
  const empty = labels.shape.includes(0);
  if (range && !empty) {
    if (range[0] < 0) throw new ValueError(`oneHot: class values must be non-negative, got ${range[0]}.`);
    if (numClasses !== -1 && range[1] >= numClasses) {
      throw new ValueError(`oneHot: class values must be smaller than numClasses ${numClasses}, got ${range[1]}.`);
    }
  }
  if (numClasses !== -1) return numClasses;
  if (empty) throw new ValueError(`oneHot: cannot infer numClasses from empty labels (shape ${fmtShape(labels.shape)}); pass numClasses.`);
  if (!range) {
    throw new ValueError(
      `oneHot: numClasses = -1 needs the largest label, which is unknown for labels computed on the GPU (shape ${fmtShape(labels.shape)}); pass numClasses.`,
    );
  }
  return range[1] + 1;
}

export const oneHot: OpDef<OneHotAttrs> = {
  forward: ([labels], { numClasses }) => {
    const t = labels!;
    if (t.dtype !== 'int32') throw new DTypeError(`oneHot: labels must be int32 (class indices), got ${t.dtype} (shape ${fmtShape(t.shape)}).`);
    const count = classCount(t, t.hostRange, numClasses);
    const rt = t.runtime;
    const column = new Tensor(rt, t.storage, [...t.shape, 1], 'int32', [...t.strides, 0], t.offset);
    // The class indices 0…count−1 made on the GPU (so a captured step replays them): row c of the
    // strictly lower triangle of a count × count matrix of ones has c ones.
    const lower = bandMask(rt, count, count, -count, -1);
    const classes = lower.sum(1);
    lower.dispose();
    const hits = compare.forward([column, classes], { op: 'eq' }, NO_SAVE);
    column.dispose();
    classes.dispose();
    const out = cast.forward([hits], { dtype: 'int32' }, NO_SAVE);
    hits.dispose();
    return out;
  },
  vjp: () => [null],
  jvp: () => null,
  reference: ([labels], { numClasses }) => {
    const data = labels!.data;
    const range: [number, number] | null = data.length ? [Math.min(...data), Math.max(...data)] : null;
    const count = classCount(labels!, range, numClasses);
    const out = host([...labels!.shape, count], undefined, 'int32');
    data.forEach((c, i) => {
      if (c >= 0 && c < count) out.data[i * count + c] = 1;
    });
    return out;
  },
};
