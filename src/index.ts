// webgrad's public API. The demo, the benchmarks and users import only from here.
// The declarations use the WebGPU types (GPUDevice, GPUBuffer): the reference below is kept in
// dist/types/index.d.ts so that a project importing webgrad gets them without any setup.
/// <reference types="@webgpu/types" preserve="true" />
export { init, runtimeInfo, memory, counters, realize, sync, tidy, getDevice, onDeviceLost, detectAnomaly, checkAnomaly } from './runtime/runtime.js';
export type { RuntimeInfo, MemoryInfo } from './runtime/runtime.js';
export type { InitOptions, AdapterSummary, UsedLimits } from './runtime/device.js';
export type { Counters } from './runtime/scheduler.js';
export { Tensor } from './tensor.js';
export type { DType } from './tensor.js';
export { tensor, zeros, ones, full, rand, randn, zerosLike, onesLike } from './creation.js';
export type { TensorOptions, RandomOptions } from './creation.js';
export { manualSeed, Generator } from './random.js';
export { noGrad, isGradEnabled } from './autograd.js';
export {
  WebgradError, ShapeError, DTypeError, ValueError, DisposedError, AutogradError, DeviceLimitError, DeviceLostError, AnomalyError, CaptureError,
} from './errors.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export { jvp } from './forward_ad.js';
export type { JvpResult } from './forward_ad.js';
export { grad, valueAndGrad } from './functional.js';
export { captureStep } from './capture.js';
export { tuneMatmul, matmulVariant } from './tune.js';
export type { MatmulTuning, MatmulVariant } from './tune.js';
export type { CapturedStep, StepResult } from './capture.js';
export { gradcheck, traceReference, GRADCHECK_DEFAULTS } from './gradcheck.js';
export type { GradcheckOptions, GradcheckResult, InputCheck, DifferenceMethod } from './gradcheck.js';
export { compareGradientMethods } from './gradient_methods.js';
export type { GradientComparison, GradientMethodRow, CompareOptions } from './gradient_methods.js';
export { save, load, saveOptimizer, loadOptimizer } from './io/checkpoint.js';
export { parseSafetensors, encodeSafetensors } from './io/safetensors.js';
export type { HostArray } from './io/safetensors.js';
export { fromGPUBuffer, gpuBufferOf } from './interop.js';
