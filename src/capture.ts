// captureStep: a training step recorded once and replayed. The first call for a set of input
// shapes runs the step eagerly (a warm-up that creates the optimizer's state); the second runs it
// again while the scheduler keeps everything it recorded; the plan of
// buffers, the pipelines and one bind group per dispatch become a Program. Later calls with the
// same shapes copy the inputs into the program's slots and replay it in one submit, running none
// of the step's JavaScript. A new input shape records a new program (kept alongside the others).

import { apply, withApplyHook } from './autograd.js';
import { CaptureError, fmtShape, ShapeError, ValueError } from './errors.js';
import { cat } from './indexing.js';
import { checkBufferLimits } from './ops/common.js';
import type { Program } from './runtime/program.js';
import { type Runtime, runtime } from './runtime/runtime.js';
import type { Storage } from './runtime/scheduler.js';
import { numel, peekTensorId, Tensor } from './tensor.js';

/** What a captured step may return: a tensor, a list of tensors, or nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: a step with no return statement is inferred as returning void, which `undefined` would refuse
export type StepResult = Tensor | readonly Tensor[] | void;

/** A step function captured by captureStep(): call it like the function itself. */
export interface CapturedStep<Args extends Tensor[], Result extends StepResult> {
  (...args: Args): Result;
  /**
   * Runs the step K times in one submit over K batches already on the GPU: each argument has a
   * leading dimension of K (step k gets `arg[k]`), and each returned tensor comes back stacked
   * with a leading K (a step returning a scalar loss gives losses of shape [K]). Equal, bit for
   * bit, to K calls of the step in order. See captureStep.
   */
  many(...args: Args): Result;
  /** How many times the step ran its JavaScript to record a program (once per input shape). */
  readonly captures: number;
  /** How many steps were replays of a recorded program (many() counts each of its steps). */
  readonly replays: number;
  /** Frees the recorded programs' buffers; the next call records again. */
  dispose(): void;
}

interface Recorded {
  program: Program;
  /**
   * Every tensor made before the recording that an op of the step read (parameters, tensors of the
   * closure), with its requiresGrad then: freezing or unfreezing one changes what the step computes.
   */
  leaves: { tensor: Tensor; requiresGrad: boolean }[];
  inputChecks: ((t: Tensor) => void)[][];
  outputs: { shape: readonly number[]; dtype: Tensor['dtype'] }[];
  /** Whether the step returned one tensor, a list, or nothing. */
  form: 'tensor' | 'list' | 'none';
  /** Whether anomaly detection was on when it was recorded (its checks are part of the program). */
  anomalyDetection: boolean;
}

/**
 * Records a training step once and replays it on the GPU: after a warm-up call and a recording
 * call, each call with inputs of the same shapes costs one submit and no JavaScript of the step. Use it for a step that does the same work
 * every time — zeroGrad, forward, loss, backward, optimizer step — and returns what you want to read:
 *
 * ```ts
 * const trainStep = captureStep((x: Tensor, y: Tensor) => {
 *   opt.zeroGrad();
 *   const loss = lossFn.forward(model.forward(x), y);
 *   loss.backward();
 *   opt.step();
 *   return loss;
 * });
 * for (const [x, y] of loader) {
 *   const loss = trainStep(x, y); // a fresh tensor each call; read it whenever you like
 * }
 * ```
 *
 * Rules: the step must not read values back (data(), item()) — return them instead; it must
 * clear gradients before backward (zeroGrad), since accumulating into the last step's gradients
 * would read a tensor it disposes; everything varying between calls must come in as an argument.
 * The learning rate (including from a schedule) and Adam's step count are refreshed on every
 * replay. Returned tensors are copies, detached from autograd. After a replay the parameters and
 * the optimizer state are updated exactly as the eager step would update them, and each
 * parameter's `.grad` (the tensor set during the recording) holds the replayed step's gradient.
 * Label ranges are checked on every call, as crossEntropy checks them.
 *
 * `trainStep.many(xs, ys)` runs K steps in one submit over K batches already on the GPU, where
 * every argument has a leading dimension K (xs [K, batch, …], ys [K, batch]): before step k, batch
 * k of each argument is copied into the program's input slot on the GPU, and every returned tensor
 * comes back stacked with a leading K (a scalar loss gives losses [K]). It equals K calls of the
 * step in order, bit for bit: Adam's step count advances per step, dropout draws a new mask per
 * step, batch-norm running statistics update per step. Settings read on the host (the learning
 * rate, also from a schedule) are read once per call, so a schedule stepped between steps changes
 * the rate only between calls. Batch shapes without a program yet are warmed up and recorded by
 * ordinary calls on the first batches, then the rest run in one submit. Refused before any step
 * runs: K = 0, arguments whose leading dimensions differ or that have none, disposed arguments,
 * a label out of range in any batch, stacked results over the device's buffer limits.
 *
 * ```ts
 * const xs = tensor(images, { shape: [50, 1, 784] });                  // 50 batches of 1
 * const ys = tensor(labels, { shape: [50, 1], dtype: 'int32' });
 * const losses = trainStep.many(xs, ys);                               // [50], one submit
 * ```
 */
export function captureStep<Args extends Tensor[], Result extends StepResult>(fn: (...args: Args) => Result): CapturedStep<Args, Result> {
  let programs = new Map<string, Recorded>();
  const warmed = new Set<string>();
  let owner: Runtime | null = null;
  let captures = 0;
  let replays = 0;

  const release = (): void => {
    if (owner && !owner.scheduler.lostMessage) for (const r of programs.values()) owner.scheduler.disposeProgram(r.program);
    programs = new Map();
    warmed.clear();
  };

  /** The current runtime; a new device (init() again) drops the programs of the old one, which cannot run. */
  const adopt = (): Runtime => {
    const rt = runtime();
    if (owner !== rt) {
      programs = new Map();
      warmed.clear();
      owner = rt;
    }
    return rt;
  };

  const step = (...args: Args): Result => {
    const rt = adopt();
    checkArguments('captureStep', rt, args);
    const key = args.map((a) => `${a.dtype}${fmtShape(a.shape)}`).join(' ');
    const known = programs.get(key);
    // Inputs must be contiguous regions to be copied in; a view is made contiguous first.
    const sources = args.map((a) => (a.isContiguous ? a : apply('reshape', [a], { shape: a.shape, forceCopy: true })));
    try {
      if (known) {
        // Checks first: a rejected input changes nothing.
        known.inputChecks.forEach((checks, i) => checks.forEach((check) => check(args[i]!)));
        const results = changedUnder(rt, known)
          ? null
          : rt.scheduler.replay(
              known.program,
              sources.map((a) => ({ storage: a.storage, byteOffset: a.offset * 4, stride: 0 })),
              1,
              known.outputs.map((o) => numel(o.shape) * 4),
            );
        if (results) {
          replays++;
          return shapeResult(rt, known, results);
        }
        // What the step depends on changed under the program (momentum switched on, a layer frozen,
        // optimizer state replaced, anomaly detection switched on or off): start this shape over — an eager call now, a new recording next.
        rt.scheduler.disposeProgram(known.program);
        programs.delete(key);
        warmed.delete(key);
      }
      if (!warmed.has(key)) {
        // The first call for a shape runs eagerly: state made on a first step (momentum buffers,
        // Adam's zero-filled moments, first-step flags) exists before anything is recorded, so the
        // program holds only the work every step repeats.
        const result = fn(...args);
        if (result instanceof Promise) throw new CaptureError('captureStep: the step must be synchronous (it returned a Promise).');
        // Only a warm-up that ran to the end made the first-step state (a refused label throws before the optimizer step).
        warmed.add(key);
        return detachResult(result) as Result;
      }
      const recorded = record(rt, fn, sources, args);
      captures++;
      programs.set(key, recorded.entry);
      return shapeResult(rt, recorded.entry, recorded.results);
    } finally {
      sources.forEach((s, i) => s !== args[i] && s.dispose());
    }
  };

  const many = (...stacks: Args): Result => {
    const rt = adopt();
    const steps = checkStacks(rt, stacks);
    const sliceSizes = stacks.map((a) => numel(a.shape.slice(1)));
    const key = stacks.map((a) => `${a.dtype}${fmtShape(a.shape.slice(1))}`).join(' ');
    const sources = stacks.map((a) => (a.isContiguous ? a : apply('reshape', [a], { shape: a.shape, forceCopy: true })));
    // Per output of the step: its values for the steps run so far, each piece with a leading step dimension.
    const pieces: Tensor[][] = [];
    let form: Recorded['form'] | null = null;
    const collect = (result: StepResult, stacked: boolean): void => {
      form = result === undefined ? 'none' : result instanceof Tensor ? 'tensor' : 'list';
      const outputs = result === undefined ? [] : result instanceof Tensor ? [result] : result;
      outputs.forEach((t, i) => {
        const piece = stacked ? t : t.unsqueeze(0);
        if (piece !== t) t.dispose();
        if (pieces[i]) pieces[i].push(piece);
        else pieces[i] = [piece];
      });
    };
    try {
      for (let k = 0; k < steps; ) {
        const known = programs.get(key);
        if (known) {
          // Each label check sees the whole argument: a label out of range in any step stops the call before it runs.
          known.inputChecks.forEach((checks, i) => checks.forEach((check) => check(stacks[i]!)));
          known.outputs.forEach((o) => checkBufferLimits(rt, 'captureStep.many', [steps - k, ...o.shape], 'a stacked result of shape'));
          const results = changedUnder(rt, known)
            ? null
            : rt.scheduler.replay(
                known.program,
                sources.map((a, i) => ({ storage: a.storage, byteOffset: (a.offset + k * sliceSizes[i]!) * 4, stride: sliceSizes[i]! * 4 })),
                steps - k,
                known.outputs.map((o) => numel(o.shape) * 4),
              );
          if (results) {
            replays += steps - k;
            const stackedOutputs = known.outputs.map((o) => ({ shape: [steps - k, ...o.shape], dtype: o.dtype }));
            collect(shapeResult(rt, { ...known, outputs: stackedOutputs }, results), true);
            break;
          }
        }
        // No program for these shapes yet (or it no longer stands for the step): an ordinary call
        // on step k's batch warms up, records or records again, exactly as K separate calls would.
        const batches = sources.map((a, i) => batchOf(a, k, stacks[i]!));
        try {
          collect(step(...(batches as Args)), false);
        } finally {
          for (const b of batches) b.dispose();
        }
        k++;
      }
    } catch (err) {
      for (const list of pieces) for (const t of list) t.dispose();
      throw err;
    } finally {
      sources.forEach((s, i) => s !== stacks[i] && s.dispose());
    }
    const outputs = pieces.map((list) => {
      if (list.length === 1) return list[0]!;
      const joined = cat(list, 0);
      for (const t of list) t.dispose();
      return joined;
    });
    if (form === 'none') return undefined as Result;
    if (form === 'tensor') return outputs[0] as Result;
    return outputs as unknown as Result;
  };

  Object.defineProperties(step, {
    captures: { get: () => captures },
    replays: { get: () => replays },
    many: { value: many },
    dispose: { value: release },
  });
  return step as CapturedStep<Args, Result>;
}

/** Runs fn once under capture and turns what it recorded into a program. */
function record<Args extends Tensor[]>(rt: Runtime, fn: (...args: Args) => StepResult, sources: Tensor[], args: Args): { entry: Recorded; results: Storage[] } {
  const scheduler = rt.scheduler;
  const anomalyDetection = scheduler.anomalyDetection;
  scheduler.settle(sources.filter((s) => s.storage.pendingUses > 0).map((s) => s.storage));
  scheduler.beginCapture();
  const inputs: Tensor[] = [];
  const firstTensorId = peekTensorId();
  const leaves = new Map<Tensor, boolean>();
  const noteLeaves = (_name: string, opInputs: readonly Tensor[]): void => {
    for (const t of opInputs) if (t.id < firstTensorId && !leaves.has(t)) leaves.set(t, t.requiresGrad);
  };
  try {
    sources.forEach((src, i) => {
      const storage = scheduler.captureInput(src.storage, src.offset * 4, src.size * 4);
      const t = new Tensor(rt, storage, src.shape, src.dtype);
      t.hostRange = args[i]!.hostRange;
      inputs.push(t);
    });
    const result = withApplyHook(noteLeaves, () => fn(...(inputs as Args)));
    if (result instanceof Promise) throw new CaptureError('captureStep: the step must be synchronous (it returned a Promise).');
    const form = result === undefined ? 'none' : result instanceof Tensor ? 'tensor' : 'list';
    const outputs = result === undefined ? [] : result instanceof Tensor ? [result] : [...(result as readonly Tensor[])];
    outputs.forEach((o, i) => {
      if (!(o instanceof Tensor))
        throw new CaptureError(`captureStep: the step returned a non-tensor at position ${i}; return a Tensor, a list of tensors, or nothing.`);
      o.assertLive('captureStep result');
    });
    const { program, inputChecks, results } = scheduler.endCapture(outputs.map((o) => o.storage));
    const leafList = [...leaves].map(([tensor, requiresGrad]) => ({ tensor, requiresGrad }));
    return {
      entry: { program, leaves: leafList, inputChecks, outputs: outputs.map((o) => ({ shape: o.shape, dtype: o.dtype })), form, anomalyDetection },
      results,
    };
  } catch (err) {
    scheduler.abortCapture();
    throw err;
  } finally {
    inputs.forEach((t) => t.dispose());
  }
}

function shapeResult<Result extends StepResult>(rt: Runtime, entry: Recorded, results: Storage[]): Result {
  const tensors = results.map((s, i) => new Tensor(rt, s, entry.outputs[i]!.shape, entry.outputs[i]!.dtype));
  if (entry.form === 'none') return undefined as Result;
  if (entry.form === 'tensor') return tensors[0] as Result;
  return tensors as unknown as Result;
}

/** The eager call's results as the replays give them: detached from autograd and owned by the caller. */
function detachResult(result: StepResult): StepResult {
  if (result === undefined) return undefined;
  if (result instanceof Tensor) return result.detach();
  return result.map((t, i) => {
    if (!(t instanceof Tensor))
      throw new CaptureError(`captureStep: the step returned a non-tensor at position ${i}; return a Tensor, a list of tensors, or nothing.`);
    return t.detach();
  });
}

/** Whether what a program depends on changed under it: anomaly detection switched, a leaf frozen, unfrozen or disposed. */
function changedUnder(rt: Runtime, known: Recorded): boolean {
  return (
    known.anomalyDetection !== rt.scheduler.anomalyDetection ||
    known.leaves.some(({ tensor, requiresGrad }) => tensor.isDisposed || tensor.requiresGrad !== requiresGrad)
  );
}

/** The checks every argument of a captured step gets: a live tensor of this device that needs no gradient. */
function checkArguments(fn: string, rt: Runtime, args: readonly unknown[]): void {
  args.forEach((a, i) => {
    if (!(a instanceof Tensor)) throw new CaptureError(`${fn}: argument ${i} is not a Tensor (got ${typeof a}); pass every varying value as a tensor.`);
    a.assertLive(`${fn === 'captureStep' ? 'captured step' : fn} (argument ${i})`);
    if (a.runtime !== rt) throw new CaptureError(`${fn}: argument ${i} belongs to a different device (tensors from two init() calls cannot be mixed).`);
    if (a.requiresGrad) {
      // Arguments are copied into the captured step's own buffers, so a gradient could not reach the caller's tensor.
      throw new CaptureError(
        `${fn}: argument ${i} (${fmtShape(a.shape)}) requires gradients; arguments are copied into the captured step, so its gradient would be lost. ` +
          'Use parameters from the closure (a module or optimizer) and pass only data as arguments (or detach() it).',
      );
    }
  });
}

/** many()'s arguments: those of a step, each with a leading dimension, the same K ≥ 1 for all. Returns K. */
function checkStacks(rt: Runtime, stacks: readonly Tensor[]): number {
  if (stacks.length === 0) {
    throw new ValueError(
      'captureStep.many: the step takes no arguments, so there is no leading dimension to count its steps; call the step once per step instead.',
    );
  }
  checkArguments('captureStep.many', rt, stacks);
  stacks.forEach((a, i) => {
    if (a.ndim === 0) throw new ShapeError(`captureStep.many: argument ${i} is 0-d (shape []); each argument needs a leading dimension of one entry per step.`);
  });
  const steps = stacks[0]!.shape[0]!;
  if (stacks.some((a) => a.shape[0] !== steps)) {
    const shapes = stacks.map((a, i) => `argument ${i} ${fmtShape(a.shape)}`).join(', ');
    throw new ShapeError(`captureStep.many: the arguments' leading dimensions (one entry per step) differ: ${shapes}.`);
  }
  if (steps === 0) {
    throw new ValueError(
      `captureStep.many: no steps to run (argument 0 has shape ${fmtShape(stacks[0]!.shape)}); the leading dimension is the number of steps and must be at least 1.`,
    );
  }
  return steps;
}

/**
 * Step k's batch of a contiguous stacked argument, as a tensor of its own. Labels made from host
 * values keep the range of the whole argument (wider than the batch's own, never narrower), so a
 * label out of range anywhere stops the first step, before it changes anything, as replays do.
 */
function batchOf(stacked: Tensor, k: number, original: Tensor): Tensor {
  const shape = stacked.shape.slice(1);
  const view = stacked.narrow(0, k, 1);
  const batch = apply('reshape', [view], { shape, forceCopy: true });
  view.dispose();
  const range = original.hostRange;
  if (range) batch.hostRange = range;
  return batch;
}
