// Learning-rate schedules, stepped once per epoch as in PyTorch: StepLR (multiply by gamma every
// stepSize epochs) and CosineAnnealingLR (half a cosine from the base rate down to etaMin over tMax).

import { checkOptionNames, describeValue, isFiniteNonNegative, showSetting } from '../arguments.js';
import { ValueError } from '../errors.js';

/** Anything with a settable learning rate (every webgrad optimizer). */
export interface HasLearningRate {
  /** The learning rate; a schedule reads it once as its base and sets it on every step(). */
  lr: number;
}

abstract class Schedule {
  /** The optimizer's learning rate when the schedule was made: the rate at epoch 0. */
  readonly baseLr: number;
  /** Epochs stepped so far. */
  lastEpoch = 0;

  /**
   * @param name - The schedule's name, for error messages.
   * @param optimizer - The optimizer whose learning rate the schedule sets.
   */
  constructor(
    name: string,
    readonly optimizer: HasLearningRate,
  ) {
    if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.lr !== 'number') {
      throw new ValueError(`${name}: optimizer must be an optimizer (anything with a numeric lr), got ${describeValue(optimizer)}.`);
    }
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

  /** The learning rate the schedule gives at an epoch (epoch 0 is baseLr). */
  abstract lrAt(epoch: number): number;
}

/**
 * Multiplies the learning rate by gamma every stepSize epochs. Call step() once per epoch.
 *
 * ```ts
 * const schedule = new optim.StepLR(opt, { stepSize: 10, gamma: 0.5 });
 * ```
 */
export class StepLR extends Schedule {
  /** Epochs between two decays. */
  readonly stepSize: number;
  /** Factor applied at each decay (default 0.1). */
  readonly gamma: number;

  constructor(optimizer: HasLearningRate, options: { stepSize: number; gamma?: number }) {
    super('StepLR', optimizer);
    checkOptionNames('StepLR', options, ['stepSize', 'gamma']);
    const { stepSize, gamma = 0.1 } = options ?? {};
    if (!Number.isInteger(stepSize) || stepSize < 1) throw new ValueError(`StepLR: stepSize must be a positive integer, got ${showSetting(stepSize)}.`);
    if (!isFiniteNonNegative(gamma)) throw new ValueError(`StepLR: gamma must be a finite number ≥ 0, got ${showSetting(gamma)}.`);
    this.stepSize = stepSize;
    this.gamma = gamma;
  }

  lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** Lowers the learning rate along half a cosine from baseLr to etaMin over tMax epochs. Call step() once per epoch. */
export class CosineAnnealingLR extends Schedule {
  /** Epochs of the half cosine: the rate reaches etaMin at epoch tMax. */
  readonly tMax: number;
  /** The lowest learning rate (default 0). */
  readonly etaMin: number;

  constructor(optimizer: HasLearningRate, options: { tMax: number; etaMin?: number }) {
    super('CosineAnnealingLR', optimizer);
    checkOptionNames('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    const { tMax, etaMin = 0 } = options ?? {};
    if (!(isFiniteNonNegative(tMax) && tMax > 0)) throw new ValueError(`CosineAnnealingLR: tMax must be a positive finite number, got ${showSetting(tMax)}.`);
    if (!isFiniteNonNegative(etaMin)) throw new ValueError(`CosineAnnealingLR: etaMin must be a finite number ≥ 0, got ${showSetting(etaMin)}.`);
    this.tMax = tMax;
    this.etaMin = etaMin;
  }

  lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}
