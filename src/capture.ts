// captureStep: a training step recorded once and replayed. The first call for a set of input
// shapes runs the step eagerly (a warm-up that creates the optimizer's state); the second runs it
// again while the scheduler keeps everything it recorded; the plan of
// buffers, the pipelines and one bind group per dispatch become a Program. Later calls with the
// same shapes copy the inputs into the program's slots and replay it in one submit, running none
// of the step's JavaScript. A new input shape records a new program (kept alongside the others).

import { apply, withApplyHook } from './autograd.js';
import { CaptureError, fmtShape } from './errors.js';
import type { Program } from './runtime/program.js';
import { type Runtime, runtime } from './runtime/runtime.js';
import type { Storage } from './runtime/scheduler.js';
import { peekTensorId, Tensor } from './tensor.js';

/** What a captured step may return: a tensor, a list of tensors, or nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: a step with no return statement is inferred as returning void, which `undefined` would refuse
export type StepResult = Tensor | readonly Tensor[] | void;

/** A step function captured by captureStep(): call it like the function itself. */
export interface CapturedStep<Args extends Tensor[], Result extends StepResult> {
  (...args: Args): Result;
  /** How many times the step ran its JavaScript to record a program (once per input shape). */
  readonly captures: number;
  /** How many calls were replays of a recorded program. */
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

  const step = (...args: Args): Result => {
    const rt = runtime();
    if (owner !== rt) {
      // A new device (init() again): programs of the old one cannot run.
      programs = new Map();
      warmed.clear();
      owner = rt;
    }
    args.forEach((a, i) => {
      if (!(a instanceof Tensor)) throw new CaptureError(`captureStep: argument ${i} is not a Tensor (got ${typeof a}); pass every varying value as a tensor.`);
      a.assertLive(`captured step (argument ${i})`);
      if (a.runtime !== rt) throw new CaptureError(`captureStep: argument ${i} belongs to a different device (tensors from two init() calls cannot be mixed).`);
      if (a.requiresGrad) {
        // Arguments are copied into the program's own buffers, so a gradient could not reach the caller's tensor.
        throw new CaptureError(
          `captureStep: argument ${i} (${fmtShape(a.shape)}) requires gradients; arguments are copied into the captured step, so its gradient would be lost. ` +
            'Use parameters from the closure (a module or optimizer) and pass only data as arguments (or detach() it).',
        );
      }
    });
    const key = args.map((a) => `${a.dtype}${fmtShape(a.shape)}`).join(' ');
    const known = programs.get(key);
    // Inputs must be contiguous regions to be copied in; a view is made contiguous first.
    const sources = args.map((a) => (a.isContiguous ? a : apply('reshape', [a], { shape: a.shape, forceCopy: true })));
    try {
      if (known) {
        // Checks first: a rejected input changes nothing.
        known.inputChecks.forEach((checks, i) => checks.forEach((check) => check(args[i]!)));
        const changed =
          known.anomalyDetection !== rt.scheduler.anomalyDetection ||
          known.leaves.some(({ tensor, requiresGrad }) => tensor.isDisposed || tensor.requiresGrad !== requiresGrad);
        const results = changed
          ? null
          : rt.scheduler.replay(
              known.program,
              sources.map((a) => ({ storage: a.storage, byteOffset: a.offset * 4 })),
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
        warmed.add(key);
        const result = fn(...args);
        if (result instanceof Promise) throw new CaptureError('captureStep: the step must be synchronous (it returned a Promise).');
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

  Object.defineProperties(step, {
    captures: { get: () => captures },
    replays: { get: () => replays },
    dispose: { value: release },
  });
  return step as CapturedStep<Args, Result>;
}

/** Runs fn once under capture and turns what it recorded into a program. */
function record<Args extends Tensor[]>(rt: Runtime, fn: (...args: Args) => StepResult, sources: Tensor[], args: Args): { entry: Recorded; results: Storage[] } {
  const scheduler = rt.scheduler;
  const anomalyDetection = scheduler.anomalyDetection;
  sources.forEach((s) => s.storage.pendingUses > 0 && scheduler.flush());
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
