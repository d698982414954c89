// What every op provides. The table in table.ts is typed so that an op missing a rule does not compile.
import type { Tensor } from '../tensor.js';
import type { HostTensor } from './host.js';

export interface OpContext<A> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: A;
}

/** What forward() is told, and how it keeps tensors for its gradient rule. */
export interface ForwardContext {
  /** True when autograd records this op (gradients on, an input requires them): only then is save() worth it. */
  readonly recording: boolean;
  /** Keeps tensors for vjp (as `saved`, in this order); released with the graph node. */
  save(...tensors: Tensor[]): void;
}

/** What vjp() gets besides the output's gradient. */
export interface VjpContext<A> extends OpContext<A> {
  /** What forward() saved (empty when it saved nothing). */
  readonly saved: readonly Tensor[];
  /** True when the gradient is the all-ones seed backward() starts from: a rule may skip multiplying by it. */
  readonly gradIsOnes: boolean;
}

export interface OpDef<A> {
  /** Validates the inputs (errors name the op and the shapes at fault) and records the kernels. */
  forward(inputs: readonly Tensor[], attrs: A, ctx: ForwardContext): Tensor;
  /** Reverse mode: the gradient of each input from the output's gradient (null: none). */
  vjp(grad: Tensor, ctx: VjpContext<A>): (Tensor | null)[];
  /**
   * For an op whose input gradient is the output's gradient placed at `start` of dimension `d` of
   * the input, zeros elsewhere (narrow): where it lies. backward() then sums the gradients of
   * disjoint slices of one tensor by assembling them in one pass (ops/assemble.ts) instead of
   * placing each in zeros and adding.
   */
  gradientPiece?(ctx: OpContext<A>): { d: number; start: number };
  /** Forward mode: the output's tangent from the inputs' tangents (null: a zero tangent). */
  jvp(tangents: readonly (Tensor | null)[], ctx: OpContext<A>): Tensor | null;
  /** The forward computation in float64 on the CPU: the independent reference for tests. */
  reference(inputs: readonly HostTensor[], attrs: A): HostTensor;
}
