// The digits panel's MLP and the page elements it reads and writes.
import { nn, type Tensor } from '../src/index.js';

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
