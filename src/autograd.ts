// Reverse-mode automatic differentiation over a define-by-run graph. apply() runs an op from the
// table and, when gradients are being recorded, links the result to its inputs; backward() walks
// that graph in reverse topological order, calls each op's vjp rule and accumulates (+=) the
// gradients, so fan-out is right. It knows no op by name.

import { onesLike } from './creation.js';
import { AutogradError, DisposedError, fmtShape, ValueError, WebgradError } from './errors.js';
import { assemble, type Piece } from './ops/assemble.js';
import { type OpAttrs, type OpName, ops } from './ops/table.js';
import { peekTensorId, type Tensor } from './tensor.js';

export interface GradNode {
  op: OpName;
  inputs: readonly Tensor[];
  attrs: unknown;
  /**
   * Versions of the inputs' storages, then the output's, when the op ran: backward() refuses to
   * use a tensor written in place since (its rule would read the new values).
   */
  versions: readonly number[];
  /** Tensors the op's forward kept for its gradient rule (OpDef forward's ctx.save). */
  saved: readonly Tensor[];
  /** Set once backward() has run through this node: its saved tensors are gone. */
  freed: boolean;
}

let gradEnabled = true;

/** Observes every op applied while installed: forward-mode AD and tracing use it. */
export type ApplyHook = (name: OpName, inputs: readonly Tensor[], attrs: unknown, output: Tensor) => void;
let applyHooks: ApplyHook[] = [];

/** Runs fn with hook observing each op it applies (the hook itself runs with no hooks installed). */
export function withApplyHook<T>(hook: ApplyHook, fn: () => T): T {
  const before = applyHooks;
  applyHooks = [...before, hook];
  try {
    return fn();
  } finally {
    applyHooks = before;
  }
}

/** Runs fn without recording gradients and returns its result. */
export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = before;
  }
}

/** False inside noGrad(), where ops record no autograd graph; true otherwise. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs one op of the table: validates, records its kernels, and records the graph edge. */
export function apply<K extends OpName>(name: K, inputs: readonly Tensor[], attrs: OpAttrs[K]): Tensor {
  const first = inputs[0]!;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    t.assertLive(name);
    if (t.runtime !== first.runtime) {
      throw new WebgradError(`${name}: input ${i} belongs to a different device than input 0 (tensors from two init() calls cannot be mixed).`);
    }
  }
  const recording = gradEnabled && inputs.some((t) => t.requiresGrad);
  const saved: Tensor[] = [];
  const ctx = { recording, save: (...tensors: Tensor[]) => void saved.push(...tensors) };
  // The label names the op in anomaly reports.
  const out = first.runtime.scheduler.withLabel(
    () => `${name}(${inputs.map((t) => fmtShape(t.shape)).join(', ')})`,
    () => ops[name].forward(inputs, attrs, ctx),
  );
  if (recording && out.dtype === 'float32') {
    out.requiresGrad = true;
    // Every input and the output, though not every rule reads them all: simple, and never misses one.
    const versions = [...inputs, out].map((t) => t.storage.version);
    out.gradFn = { op: name, inputs, attrs, versions, saved, freed: false };
    out.runtime.trackStepScoped(out);
    for (const s of saved) out.runtime.trackStepScoped(s);
  } else {
    for (const s of saved) s.dispose();
  }
  if (applyHooks.length > 0) {
    const hooks = applyHooks;
    applyHooks = [];
    try {
      for (const hook of hooks) hook(name, inputs, attrs, out);
    } finally {
      applyHooks = hooks;
    }
  }
  return out;
}

/** Tensors from the root back to the leaves, each after everything it feeds (iterative DFS). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i]!;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

/**
 * Accumulates d(root)/d(leaf) into each leaf's .grad. root must be a scalar unless an upstream
 * gradient of its shape is given. The graph is freed afterwards.
 */
export function backward(root: Tensor, gradient?: Tensor): void {
  root.assertLive('backward');
  if (!root.requiresGrad) {
    throw new AutogradError(`backward(): the tensor of shape ${fmtShape(root.shape)} does not require gradients (no input had requiresGrad = true).`);
  }
  if (root.gradFn?.freed) {
    throw new AutogradError('backward(): the graph was already freed by an earlier backward() through it; recompute the forward pass.');
  }
  if (!gradient && root.size !== 1) {
    throw new AutogradError(`backward(): the tensor has shape ${fmtShape(root.shape)}; only a scalar can start backward without an explicit gradient.`);
  }
  if (gradient && gradient.shape.join(',') !== root.shape.join(',')) {
    throw new ValueError(`backward(): gradient of shape ${fmtShape(gradient.shape)} does not match the tensor's shape ${fmtShape(root.shape)}.`);
  }
  // The graph runs where its tensors live (the current runtime may be a newer device).
  const rt = root.runtime;
  const order = topoOrder(root);
  // Everything that can fail is checked before any rule runs: a refused backward changes nothing.
  for (const t of order) checkNode(t);
  // Everything made here is temporary except the gradients stored on leaves (pinned). Leaves are
  // written only after every rule has run, so an error part-way leaves every .grad as it was.
  rt.tidy(() =>
    noGrad(() => {
      const pending = new PendingGradients(peekTensorId());
      const leafGrads: [Tensor, Tensor][] = [];
      pending.add(root, gradient ?? unitGradient(root));
      for (const t of order) {
        const g = pending.take(t);
        if (!g) continue;
        const node = t.gradFn;
        if (!node) {
          leafGrads.push([t, g]);
          pending.done(null, []);
          continue;
        }
        const rule = ops[node.op];
        const ctx = { inputs: node.inputs, output: t, attrs: node.attrs as never };
        if (rule.gradientPiece) {
          const input = node.inputs[0]!;
          if (input.requiresGrad) {
            const { d, start } = rule.gradientPiece(ctx);
            pending.addSlice(input, g, d, start);
          }
          pending.done(g, []);
          continue;
        }
        const inputGrads = rt.scheduler.withLabel(
          () => `backward of ${node.op}`,
          () => rule.vjp(g, { ...ctx, saved: node.saved, gradIsOnes: unitGradients.has(g) }),
        );
        const unused: Tensor[] = [];
        node.inputs.forEach((input, i) => {
          const gi = inputGrads[i];
          if (gi && input.requiresGrad) pending.add(input, gi);
          else if (gi) unused.push(gi);
        });
        pending.done(g, unused);
      }
      for (const [leaf, g] of leafGrads) accumulateLeaf(leaf, g, g === gradient);
      for (const t of order) {
        if (!t.gradFn) continue;
        // A gradient handed on may be a view of a saved tensor: disposing drops only this handle.
        for (const s of t.gradFn.saved) if (!s.isPinned) s.dispose();
        t.gradFn = { ...t.gradFn, inputs: [], saved: [], freed: true };
      }
    }),
  );
}

/**
 * The gradients backward() has yet to hand on, per tensor: a dense sum, and gradients of disjoint
 * slices of it along one dimension (narrows), assembled in one pass when it is taken. A gradient
 * is released as soon as nothing here holds it any more (its rule has run, or it was summed): the
 * recorded work that reads it keeps its memory, and fusion (runtime/fusion.ts) can then keep it in
 * registers instead of writing it. Only tensors made during this backward are released; one
 * object may stand for several inputs' gradients (an add's rule hands g to both), hence the count.
 */
class PendingGradients {
  private readonly dense = new Map<Tensor, Tensor>();
  private readonly slices = new Map<Tensor, { d: number; pieces: Piece[] }>();
  private readonly holds = new Map<Tensor, number>();
  /** Let go of during the current node: released when it is done (a rule may hand one tensor to two inputs). */
  private dropped: Tensor[] = [];

  constructor(private readonly firstId: number) {}

  /** Adds gi to x's gradient. */
  add(x: Tensor, gi: Tensor): void {
    const prev = this.dense.get(x);
    if (!prev) {
      this.dense.set(x, this.hold(gi));
      return;
    }
    this.dense.set(x, this.hold(prev.add(gi)));
    this.drop(prev);
    this.dropped.push(gi);
  }

  /** Adds g as the gradient of the slice of x at `start` along d (zeros elsewhere). */
  addSlice(x: Tensor, g: Tensor, d: number, start: number): void {
    let entry = this.slices.get(x);
    const end = start + g.shape[d]!;
    // Slices along another dimension, or overlapping ones, are summed instead.
    if (entry && (entry.d !== d || entry.pieces.some((p) => start < p.start + p.t.shape[d]! && p.start < end))) {
      this.settleSlices(x);
      entry = undefined;
    }
    if (!entry) {
      entry = { d, pieces: [] };
      this.slices.set(x, entry);
    }
    entry.pieces.push({ t: this.hold(g), start });
  }

  /** x's whole gradient, now the caller's until done(): its slices assembled and added in. */
  take(x: Tensor): Tensor | undefined {
    this.settleSlices(x);
    const g = this.dense.get(x);
    this.dense.delete(x);
    return g;
  }

  /** The node whose gradient `taken` was is done: it and `unused` (results no input needs) go unless held. */
  done(taken: Tensor | null, unused: readonly Tensor[]): void {
    if (taken) this.drop(taken);
    for (const t of [...this.dropped, ...unused]) {
      if (!this.holds.has(t) && t.id >= this.firstId && !t.isPinned && !t.isDisposed) t.dispose();
    }
    this.dropped = [];
  }

  private settleSlices(x: Tensor): void {
    const entry = this.slices.get(x);
    if (!entry) return;
    this.slices.delete(x);
    entry.pieces.sort((p, q) => p.start - q.start);
    // Several slices are summed (PyTorch adds their zero-padded gradients: −0 + 0 is +0); one is placed as it is.
    const mode = entry.pieces.length > 1 ? 'sum' : 'copy';
    const assembled = assemble('narrow backward', x.runtime, entry.pieces, x.shape, entry.d, 'float32', mode);
    for (const p of entry.pieces) this.drop(p.t);
    this.add(x, assembled);
  }

  private hold(g: Tensor): Tensor {
    this.holds.set(g, (this.holds.get(g) ?? 0) + 1);
    return g;
  }

  private drop(g: Tensor): void {
    const n = this.holds.get(g)! - 1;
    if (n > 0) this.holds.set(g, n);
    else this.holds.delete(g);
    this.dropped.push(g);
  }
}

/** Throws if backward() cannot run through t: a freed graph, a released tensor, an in-place write. */
function checkNode(t: Tensor): void {
  const node = t.gradFn;
  if (!node) {
    if (t.grad?.isDisposed) {
      throw new DisposedError(
        `backward(): the .grad of a leaf of shape ${fmtShape(t.shape)} was released; set it to null (zeroGrad()) before accumulating into it.`,
      );
    }
    return;
  }
  if (node.freed) throw new AutogradError(`backward(): part of the graph (op ${node.op}) was already freed by an earlier backward().`);
  for (const input of node.inputs) input.assertLive(`backward through ${node.op}`);
  const saved = [...node.inputs, t];
  saved.forEach((s, i) => {
    const now = s.storage.version;
    if (now === node.versions[i]) return;
    const which = i < node.inputs.length ? `its input ${i}` : 'its output';
    throw new AutogradError(
      `backward(): one of the tensors needed for the gradient of ${node.op} (${which}, of shape ${fmtShape(s.shape)}) ` +
        `has been modified by an in-place operation since ${node.op} ran: its version is ${now}, ${node.op} saved version ${node.versions[i]} ` +
        '(write(), load() and an optimizer step update tensors in place). Run the forward pass again after the change, or make the change after backward().',
    );
  });
}

/** Seeds of backward() without an explicit gradient: ones, which a rule may skip multiplying by. */
const unitGradients = new WeakSet<Tensor>();

function unitGradient(root: Tensor): Tensor {
  const ones = onesLike(root);
  unitGradients.add(ones);
  return ones;
}

/** Drops the gradients of these tensors (PyTorch's zero_grad(set_to_none=True)). */
export function clearGradients(params: Iterable<Tensor>): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}

function accumulateLeaf(leaf: Tensor, g: Tensor, fromCaller: boolean): void {
  if (leaf.grad) {
    const sum = leaf.grad.add(g);
    leaf.grad.dispose();
    leaf.grad = sum.pin();
    return;
  }
  // The stored gradient must be contiguous (optimizers read it as a flat array) and owned by this
  // leaf alone: a vjp may hand the same tensor to several inputs, and the caller keeps its own.
  const owned = g.isContiguous && g.offset === 0 && !g.isPinned && !fromCaller;
  leaf.grad = (owned ? g : apply('reshape', [g], { shape: g.shape, forceCopy: true })).pin();
}
