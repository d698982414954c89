// Shared test helpers: host tensors with float32-rounded values, GPU round trips, error norms.
import { expect } from 'vitest';
import { nn, type Tensor, tensor } from '../src/index.js';
import { type HostTensor, host } from '../src/ops/host.js';
import { Generator } from '../src/random.js';

export type Rng = Generator;
export const rng = (seed: number): Rng => new Generator(seed);

/** Random float32-representable values (so GPU and reference start from the same numbers). */
export function randHost(g: Rng, shape: number[], scale = 1): HostTensor {
  const t = host(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround((g.uniform() * 2 - 1) * scale);
  return t;
}

export function randLabels(g: Rng, n: number, classes: number): HostTensor {
  const t = host([n], undefined, 'int32');
  for (let i = 0; i < n; i++) t.data[i] = g.int(classes);
  return t;
}

/** An input for a case: its logical values, and whether the GPU tensor is a transposed view. */
export interface CaseInput {
  value: HostTensor;
  transposed?: boolean;
}

/** Uploads a host tensor; a `transposed` input is stored transposed and viewed back (strides swapped). */
export function toGpu(input: CaseInput, requiresGrad = false): Tensor {
  const { value, transposed } = input;
  const dtype = value.dtype ?? 'float32';
  if (!transposed || value.shape.length < 2) {
    return tensor(dtype === 'float32' ? Float32Array.from(value.data) : Int32Array.from(value.data), {
      shape: value.shape,
      dtype,
      requiresGrad,
    });
  }
  // Each matrix (the last two dimensions) stored transposed, then viewed back.
  const [r, c] = value.shape.slice(-2) as [number, number];
  const stored = new Float32Array(value.data.length);
  for (let m = 0; m < value.data.length; m += r * c) {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) stored[m + j * r + i] = value.data[m + i * c + j]!;
  }
  const base = tensor(stored, { shape: [...value.shape.slice(0, -2), c, r] });
  const view = base.transpose(-2, -1);
  view.requiresGrad = requiresGrad;
  return view;
}

export async function toHost(t: Tensor): Promise<HostTensor> {
  return host([...t.shape], await t.data(), t.dtype);
}

/** ‖out − ref‖ / ‖ref‖ (absolute when ref is all zeros). NaN anywhere in out gives NaN. */
export function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(out.length).toBe(ref.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i]! - ref[i]!;
    num += d * d;
    den += ref[i]! * ref[i]!;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export function expectClose(out: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what = ''): void {
  const err = relErr(out, ref);
  expect(err, `${what} relative error ${err}`).toBeLessThan(tol);
}

/** The seed's network as its users write it (Linear(784,128) → ReLU → Linear(128,10)). */
export class SeedNet extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  relu = new nn.ReLU();
  fc2 = new nn.Linear(128, 10);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.relu.forward(this.fc1.forward(x)));
  }
}
