// The digits panel's MLP, the page elements it reads and writes, and how the controls follow its state.
import { nn, type Tensor } from '../src/index.js';
import type { ArchitectureInfo } from './architectures.js';

/** The 784-128-10 network the digits panel trains. */
export class Net extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  relu = new nn.ReLU();
  fc2 = new nn.Linear(128, 10);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.relu.forward(this.fc1.forward(x)));
  }
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
export const ui = {
  status: $('status'),
  adapter: $('adapter'),
  fatal: $('fatal'),
  warning: $('warning'),
  architecture: $<HTMLSelectElement>('architecture'),
  tagline: $('digits-tagline'),
  variant: $<HTMLSelectElement>('variant'),
  batch: $<HTMLInputElement>('batch-size'),
  lr: $<HTMLInputElement>('lr'),
  momentum: $<HTMLInputElement>('momentum'),
  epochs: $<HTMLInputElement>('epochs'),
  seed: $<HTMLInputElement>('seed'),
  note: $('settings-note'),
  lockNote: $('lock-note'),
  train: $<HTMLButtonElement>('train'),
  pause: $<HTMLButtonElement>('pause'),
  reset: $<HTMLButtonElement>('reset'),
  bar: $('progress-bar'),
  progress: $('progress-text'),
  dropzone: $('dropzone'),
  files: $<HTMLInputElement>('files'),
  pickFiles: $<HTMLButtonElement>('pick-files'),
  source: $('data-source'),
  accuracy: $('test-accuracy'),
  rate: $('samples-per-s'),
  msPerStep: $('ms-per-step'),
  steps: $('step-count'),
  digits: $('digits'),
  confusion: $('confusion'),
  weights: $<HTMLCanvasElement>('weights'),
  weightsNote: $('weights-note'),
  prediction: $('prediction'),
  probabilities: $('probabilities'),
  preview: $<HTMLCanvasElement>('draw-preview'),
  compare: $<HTMLButtonElement>('compare-gradients'),
  gradients: $('gradients-table'),
  gradientsNote: $('gradients-note'),
  measureCost: $<HTMLButtonElement>('measure-cost'),
  costChart: $('cost-chart'),
  costTable: $('cost-table'),
  optimizer: $<HTMLSelectElement>('optimizer'),
  download: $<HTMLButtonElement>('download-weights'),
  loadWeights: $<HTMLInputElement>('load-weights'),
  loadWeightsButton: $<HTMLButtonElement>('load-weights-button'),
};
export const fields = { variant: ui.variant, batch: ui.batch, optimizer: ui.optimizer, lr: ui.lr, momentum: ui.momentum, epochs: ui.epochs, seed: ui.seed };

/**
 * The buttons and fields as a panel state allows: Train when idle or done, Pause/Resume while
 * running; settings that shape a run are locked, visibly, while it runs (lr, momentum and epochs
 * apply live), and everything is locked while the comparison runs.
 */
export function showControls(state: string, comparing: boolean): void {
  const running = state === 'training' || state === 'paused';
  ui.train.disabled = !(state === 'idle' || state === 'done') || comparing;
  ui.train.textContent = state === 'done' ? 'Train more' : 'Train';
  ui.pause.disabled = !running;
  ui.pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
  ui.reset.disabled = state === 'loading' || comparing;
  for (const el of [ui.architecture, ui.variant, ui.seed, ui.files, ui.pickFiles, ui.optimizer, ui.loadWeights, ui.loadWeightsButton])
    el.disabled = running || comparing;
  ui.batch.disabled = running || ui.variant.value !== 'minibatch';
  ui.momentum.disabled = ui.optimizer.value !== 'sgd';
  ui.dropzone.classList.toggle('locked', running);
  ui.dropzone.setAttribute('aria-disabled', String(running));
  ui.compare.disabled = comparing || !(state === 'idle' || state === 'done' || state === 'paused');
  ui.measureCost.disabled = ui.compare.disabled;
  ui.lockNote.textContent = running
    ? 'Architecture, variant, batch size, optimizer, seed, data and loading weights are locked while training (Reset to change them); learning rate, momentum and epochs apply at the next step.'
    : '';
}

/** The learning rate and momentum fields take the next network's defaults where they still hold the previous one's; says which changed. */
export function carryDefaults(previous: ArchitectureInfo, next: ArchitectureInfo): string[] {
  const changed: string[] = [];
  if (Number(ui.lr.value) === previous.lr && ui.optimizer.value === 'sgd') {
    ui.lr.value = String(next.lr);
    changed.push(`learning rate ${ui.lr.value}`);
  }
  if (Number(ui.momentum.value) === previous.momentum) {
    ui.momentum.value = String(next.momentum);
    changed.push(`momentum ${ui.momentum.value}`);
  }
  return changed;
}

/** The tagline and the gradient panel's note for a network of `parameters` parameters. */
export function showArchitecture(arch: ArchitectureInfo, parameters: number): void {
  ui.tagline.textContent = arch.tagline;
  ui.gradientsNote.textContent =
    `The lecture's four ways to a gradient on the live ${arch.label} (a batch of 64): finite differences cost one or two ` +
    `forward passes per parameter, forward-mode AD one tangent pass per parameter, reverse-mode AD one backward pass for all ${parameters.toLocaleString('en')}.`;
}
