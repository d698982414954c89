// Learning-rate schedules, stepped once per epoch as in PyTorch: StepLR (multiply by gamma every
// stepSize epochs) and CosineAnnealingLR (half a cosine from the base rate down to etaMin over tMax).
import { ValueError } from '../errors.js';

/** Anything with a settable learning rate (every webgrad optimizer). */
export interface HasLearningRate {
  lr: number;
}

abstract class Schedule {
  readonly baseLr: number;
  /** Epochs stepped so far. */
  lastEpoch = 0;

  constructor(readonly optimizer: HasLearningRate) {
    this.baseLr = optimizer.lr;
  }

  /** Advances one epoch and sets the optimizer's learning rate. */
  step(): void {
    this.lastEpoch++;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  /** The learning rate in force now. */
  get lr(): number {
    return this.optimizer.lr;
  }

  abstract lrAt(epoch: number): number;
}

export class StepLR extends Schedule {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: HasLearningRate, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    if (!Number.isInteger(options.stepSize) || options.stepSize < 1) throw new ValueError(`StepLR: stepSize must be a positive integer, got ${options.stepSize}.`);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
  }

  lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

export class CosineAnnealingLR extends Schedule {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: HasLearningRate, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    if (!(options.tMax > 0)) throw new ValueError(`CosineAnnealingLR: tMax must be positive, got ${options.tMax}.`);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
  }

  lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}
