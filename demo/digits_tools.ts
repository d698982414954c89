// The digits panel's views and tools around the training run: evaluation, drawing a digit, MNIST
// files, the four ways to a gradient, and weights as .safetensors, on the panel's live model.
import { formatDuration } from '../src/gradient_methods.js';
import { compareGradientMethods, data, load, noGrad, parseSafetensors, save, type Tensor, tensor, tidy, WebgradError } from '../src/index.js';
import { ARCHITECTURES, type Architecture, checkpointArchitecture, type DigitsModel } from './architectures.js';
import { $, ui } from './digits_ui.js';
import { DrawPad } from './draw.js';
import { readSeed } from './settings.js';
import { drawDigit, renderConfusion, renderDigits, renderProbabilities, renderWeights, softmax } from './views.js';

export type DigitsState = 'loading' | 'idle' | 'training' | 'paused' | 'done' | 'diverged' | 'lost' | 'error';

/** The digits panel's state that the tools read (and, for data and comparing, change). */
export interface DigitsLive {
  state: DigitsState;
  model: DigitsModel | null;
  /** The architecture of `model` (and of the next one Reset draws). */
  architecture: Architecture;
  epochsDone: number;
  modelSeed: number;
  dataset: data.TrainTest;
  comparing: boolean;
  /** The weights last read back to the page, for continuing after a lost device. */
  snapshot: Float32Array[] | null;
}

/** What the tools may ask of the digits panel. */
export interface DigitsActions {
  say(text: string): void;
  setState(next: DigitsState, text?: string): void;
  reset(): void;
  clearRun(): void;
  syncBatchField(): void;
  /** Loaded weights replace the model's: no optimizer state carries over. */
  weightsLoaded(): void;
}

/** The panel's views of its model: what the training run redraws. */
export interface DigitsViews {
  /** Test accuracy (NaN if some weight is not finite), with the confusion matrix, test digits and weights redrawn. */
  evaluate(): Promise<number>;
  readWeights(): Promise<Float32Array[]>;
  /** Redraws the test digits, the weights and the drawing's prediction for a new model. */
  showModel(): Promise<void>;
}

/** Wires the tools' controls to the panel's `live` state and actions; returns the views the run redraws. */
export function installDigitsTools(live: DigitsLive, ctx: DigitsActions): DigitsViews {
  const { say, setState, reset, clearRun, syncBatchField } = ctx;
  const allFinite = (arrays: Float32Array[]): boolean => arrays.every((a) => a.every(Number.isFinite));

  async function readWeights(): Promise<Float32Array[]> {
    return Promise.all(live.model!.parameters().map(async (p) => Float32Array.from(await p.data())));
  }

  async function evaluate(): Promise<number> {
    const { test } = live.dataset;
    const predicted = new Int32Array(test.count);
    for (let start = 0; start < test.count; start += 1000) {
      const n = Math.min(1000, test.count - start);
      const x = tensor(test.images.subarray(start * 784, (start + n) * 784), { shape: [n, 784] });
      const p = tidy(() => noGrad(() => live.model!.forward(x).argmax(-1)));
      predicted.set(await p.data(), start);
      x.dispose();
      p.dispose();
    }
    const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      confusion[test.labels[i]!]![predicted[i]!]!++;
      if (predicted[i] === test.labels[i]) correct++;
    }
    const weights = await readWeights();
    if (!allFinite(weights)) return NaN; // the caller stops the run and says why
    renderConfusion(ui.confusion, confusion);
    renderDigits(ui.digits, test.images, test.labels, predicted, 60);
    live.snapshot = weights;
    renderFirstLayer(live.snapshot[0]!);
    return correct / test.count;
  }

  /** The MLP's 128 rows of W1 as 28×28 images, or the CNN's 6 conv1 filters as 5×5 ones. */
  function renderFirstLayer(w: Float32Array): void {
    const cnn = live.architecture === 'cnn';
    if (cnn) renderWeights(ui.weights, w, 6, 5, 6);
    else renderWeights(ui.weights, w, 128);
    ui.weights.classList.toggle('filters', cnn);
    ui.weights.setAttribute('aria-label', cnn ? "the first convolution's 6 filters as 5×5 images" : "the 128 hidden units' weights as 28×28 images");
    ui.weightsNote.textContent = ARCHITECTURES[live.architecture].weightsNote;
  }

  async function showModel(): Promise<void> {
    renderDigits(ui.digits, live.dataset.test.images, live.dataset.test.labels, null, 60);
    live.snapshot = await readWeights();
    renderFirstLayer(live.snapshot[0]!);
    void predictDrawing();
  }

  // Drawing: the ten probabilities update live as the user draws.
  let predictQueued = false;
  const pad = new DrawPad($<HTMLCanvasElement>('draw'), () => {
    if (predictQueued) return;
    predictQueued = true;
    requestAnimationFrame(() => {
      predictQueued = false;
      void predictDrawing();
    });
  });
  $('clear').addEventListener('click', () => pad.clear());

  async function predictDrawing(): Promise<void> {
    const pixels = pad.toMnist();
    drawDigit(ui.preview, pixels ?? new Float32Array(784));
    if (!pixels || !live.model || live.state === 'lost' || live.state === 'loading') {
      ui.prediction.textContent = '–';
      renderProbabilities(ui.probabilities, null);
      return;
    }
    const x = tensor(pixels, { shape: [1, 784] });
    const logits = tidy(() => noGrad(() => live.model!.forward(x)));
    const probs = softmax(await logits.data());
    x.dispose();
    logits.dispose();
    const best = probs.indexOf(Math.max(...probs));
    ui.prediction.textContent = String(best);
    renderProbabilities(ui.probabilities, probs);
  }

  // MNIST IDX files, dropped or picked: told apart by name (train / t10k) and rank (images / labels).
  async function loadFiles(files: File[]): Promise<void> {
    if (live.state === 'training' || live.state === 'paused' || live.comparing) {
      say('Data cannot change while training: press Reset first.');
      return;
    }
    try {
      readSeed(ui.seed.value); // loading draws new initial weights: refuse before changing anything
      const find = (re: RegExp): File => {
        const f = files.find((file) => re.test(file.name));
        if (!f) throw new WebgradError(`missing a file matching ${re} among: ${files.map((x) => x.name).join(', ')}`);
        return f;
      };
      const bytes = async (f: File) => new Uint8Array(await f.arrayBuffer());
      const [ti, tl, vi, vl] = [/train-images/, /train-labels/, /t10k-images/, /t10k-labels/].map(find) as [File, File, File, File];
      const train = await data.fromIdx(await bytes(ti), await bytes(tl), { images: ti.name, labels: tl.name });
      const test = await data.fromIdx(await bytes(vi), await bytes(vl), { images: vi.name, labels: vl.name });
      // This network reads 28×28 digits with labels 0–9, and needs something to train and test on.
      for (const [set, file] of [
        [train, ti],
        [test, vi],
      ] as const) {
        if (set.count === 0) throw new WebgradError(`${file.name} holds no images; at least one is needed.`);
        if (set.features !== 784) throw new WebgradError(`${file.name}: images of ${set.features} pixels; this network reads 28×28 = 784.`);
        const bad = set.labels.findIndex((l) => l < 0 || l > 9);
        if (bad >= 0) throw new WebgradError(`label ${set.labels[bad]} at index ${bad} is not a digit 0–9 (${file === ti ? tl.name : vl.name}).`);
      }
      live.dataset = { train, test };
      ui.source.textContent = `MNIST files (${train.count.toLocaleString('en')} train / ${test.count.toLocaleString('en')} test)`;
      syncBatchField();
      reset();
      say(
        `Loaded ${train.count.toLocaleString('en')} training and ${test.count.toLocaleString('en')} test images; new initial weights drawn with seed ${live.modelSeed}.`,
      );
    } catch (err) {
      say(`Could not load the files: ${(err as Error).message} The data set is unchanged.`);
    }
  }
  ui.dropzone.addEventListener('dragover', (e) => {
    e.preventDefault();
    ui.dropzone.classList.add('over');
  });
  ui.dropzone.addEventListener('dragleave', () => ui.dropzone.classList.remove('over'));
  ui.dropzone.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.dropzone.classList.remove('over');
    void loadFiles(Array.from(e.dataTransfer?.files ?? []));
  });
  ui.files.addEventListener('change', () => {
    const files = Array.from(ui.files.files ?? []);
    ui.files.value = ''; // the same files picked again are read again
    void loadFiles(files);
  });
  // Real buttons open the file pickers, so both are reachable from the keyboard.
  ui.pickFiles.addEventListener('click', () => ui.files.click());
  ui.loadWeightsButton.addEventListener('click', () => ui.loadWeights.click());

  // The four ways to a gradient on the live model.
  ui.compare.addEventListener('click', async () => {
    if (!live.model || live.comparing) return;
    live.comparing = true;
    setState(live.state, ui.status.textContent ?? live.state);
    ui.gradients.textContent = 'computing…';
    // The four ways run on a copy of the weights: finite differences perturb what they are given,
    // and the training run (paused, or continued later) must not see any of it.
    const copies = await Promise.all(live.model.parameters().map(async (p) => tensor(await p.data(), { shape: p.shape, requiresGrad: true }).keep()));
    try {
      const n = 64;
      const x = tensor(live.dataset.train.images.subarray(0, n * 784), { shape: [n, 784] }).keep();
      const y = tensor(live.dataset.train.labels.subarray(0, n), { shape: [n], dtype: 'int32' }).keep();
      const { loss: lossOf } = ARCHITECTURES[live.architecture];
      const loss = (...ps: Tensor[]): Tensor => lossOf(x, y, ps);
      const result = await compareGradientMethods(loss, copies, { samples: 8 });
      x.dispose();
      y.dispose();
      const names = {
        'reverse-mode': 'reverse-mode AD (backprop)',
        'forward-mode': 'forward-mode AD',
        'central-difference': 'central difference',
        'forward-difference': 'forward difference',
      };
      const table = document.createElement('table');
      table.className = 'gradients';
      table.innerHTML = '<tr><th>method</th><th>passes for all P</th><th>time for all P</th><th>error vs reverse mode (max / max |grad|)</th></tr>';
      for (const r of result.rows) {
        const row = table.insertRow();
        const cells = [
          names[r.method],
          r.passesForAll,
          r.msPerParameter === null ? `${formatDuration(r.msForAll)} (measured)` : `≈ ${formatDuration(r.msForAll)}`,
          r.maxRelError === null ? 'the reference' : r.maxRelError.toExponential(1),
        ];
        for (const c of cells) row.insertCell().textContent = c;
      }
      ui.gradients.replaceChildren(table);
    } catch (err) {
      ui.gradients.textContent = `failed: ${(err as Error).message}`;
    } finally {
      copies.forEach((c) => c.dispose());
      live.comparing = false;
      setState(live.state, ui.status.textContent ?? live.state);
    }
  });

  // Weights as .safetensors (PyTorch's state_dict names): download, and load to resume training.
  ui.download.addEventListener('click', async () => {
    if (!live.model) return;
    const bytes = await save(live.model);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    link.download = `webgrad-${live.architecture}-epoch${live.epochsDone}.safetensors`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  });
  ui.loadWeights.addEventListener('change', async () => {
    const file = ui.loadWeights.files?.[0];
    ui.loadWeights.value = '';
    if (!file || !live.model) return;
    if (live.state === 'training' || live.state === 'paused' || live.comparing) {
      say('Weights cannot be loaded while training: press Reset first.');
      return;
    }
    // Weights full of NaN or infinity are refused, and the model keeps the weights it had.
    const before = await readWeights();
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      // A checkpoint of the other network would fail on every name; say which network it belongs to.
      const fileArchitecture = checkpointArchitecture(parseSafetensors(bytes, file.name).keys());
      if (fileArchitecture !== null && fileArchitecture !== live.architecture) {
        throw new WebgradError(
          `it holds the weights of the ${ARCHITECTURES[fileArchitecture].label}, and the page trains the ${ARCHITECTURES[live.architecture].label}: ` +
            `choose ${ARCHITECTURES[fileArchitecture].label} under Architecture, then load it again.`,
        );
      }
      load(live.model, bytes);
      const after = await readWeights();
      const names = live.model.namedParameters().map(([name]) => name);
      const bad = after.findIndex((a) => !a.every(Number.isFinite));
      if (bad >= 0) {
        live.model.parameters().forEach((p, i) => p.write(before[i]!));
        throw new WebgradError(`${names[bad] ?? `tensor ${bad}`} holds values that are not finite numbers (NaN or infinity).`);
      }
    } catch (err) {
      say(`Could not load ${file.name}: ${(err as Error).message} The weights are unchanged.`);
      return;
    }
    clearRun();
    ctx.weightsLoaded();
    setState('idle', `loaded ${file.name}`);
    const accuracy = await evaluate();
    ui.accuracy.textContent = accuracy.toFixed(4);
    say(`Loaded ${file.name}: test accuracy ${(accuracy * 100).toFixed(2)}%. Train continues from these weights.`);
    void predictDrawing();
  });

  return { evaluate, readWeights, showModel };
}
