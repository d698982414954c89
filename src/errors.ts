// Error classes that the library throws. Each message names the op and the shapes or values at fault.

/** Base class of every error webgrad throws on purpose. */
export class WebgradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that an op cannot combine, e.g. a matmul inner-dimension mismatch. */
export class ShapeError extends WebgradError {}

/** A dtype an op does not accept, e.g. float labels for crossEntropy. */
export class DTypeError extends WebgradError {}

/** A value out of its allowed range, e.g. a class label outside [0, classes). */
export class ValueError extends WebgradError {}

/** Use of a tensor after dispose(), or after its step scope released it. */
export class DisposedError extends WebgradError {}

/** Autograd misuse: backward from a non-scalar, or through a freed graph. */
export class AutogradError extends WebgradError {}

/** A tensor larger than the device's buffer limits, or an allocation the device refused. */
export class DeviceLimitError extends WebgradError {}

/** The GPU device went away (driver reset, device.destroy(), ...): call init() again. */
export class DeviceLostError extends WebgradError {}

/** Anomaly detection found a NaN or infinity: names the first op that produced one. */
export class AnomalyError extends WebgradError {}

/** A step given to captureStep() did something a replay cannot repeat (read a value back, ...). */
export class CaptureError extends WebgradError {}

/** Shape printed the way people write it: [64, 784]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
