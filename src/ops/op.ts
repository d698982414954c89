// What every op provides. The table in table.ts is typed so that an op missing a rule does not compile.
import type { Tensor } from '../tensor.js';
import type { HostTensor } from './host.js';

export interface OpContext<A> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: A;
}

export interface OpDef<A> {
  /** Validates the inputs (errors name the op and the shapes at fault) and records the kernels. */
  forward(inputs: readonly Tensor[], attrs: A): Tensor;
  /** Reverse mode: the gradient of each input from the output's gradient (null: none). */
  vjp(grad: Tensor, ctx: OpContext<A>): (Tensor | null)[];
  /** Forward mode: the output's tangent from the inputs' tangents (null: a zero tangent). */
  jvp(tangents: readonly (Tensor | null)[], ctx: OpContext<A>): Tensor | null;
  /** The forward computation in float64 on the CPU: the independent reference for tests. */
  reference(inputs: readonly HostTensor[], attrs: A): HostTensor;
}
