// webgrad's public API. The demo, the benchmarks and users import only from here.
// The declarations use the WebGPU types (GPUDevice, GPUBuffer): the reference below is kept in
// dist/types/index.d.ts so that a project importing webgrad gets them without any setup.
/// <reference types="@webgpu/types" preserve="true" />

export { isGradEnabled, noGrad } from './autograd.js';
export type { CapturedStep, StepResult } from './capture.js';
export { captureStep } from './capture.js';
export type { RandomOptions, TensorOptions } from './creation.js';
export { arange, full, ones, onesLike, rand, randn, tensor, zeros, zerosLike } from './creation.js';
export * as data from './data/index.js';
export {
  AnomalyError,
  AutogradError,
  CaptureError,
  DeviceLimitError,
  DeviceLostError,
  DisposedError,
  DTypeError,
  ShapeError,
  ValueError,
  WebgradError,
} from './errors.js';
export type { JvpResult } from './forward_ad.js';
export { jvp } from './forward_ad.js';
export { grad, valueAndGrad } from './functional.js';
export type { DifferenceMethod, GradcheckOptions, GradcheckResult, InputCheck } from './gradcheck.js';
export { GRADCHECK_DEFAULTS, gradcheck, traceReference } from './gradcheck.js';
export type { CompareOptions, GradientComparison, GradientMethodRow } from './gradient_methods.js';
export { compareGradientMethods } from './gradient_methods.js';
export { cat, chunk, gather, indexSelect, maskedFill, split, stack, tril, triu } from './indexing.js';
export { fromGPUBuffer, gpuBufferOf } from './interop.js';
export { load, loadOptimizer, save, saveOptimizer } from './io/checkpoint.js';
export type { HostArray } from './io/safetensors.js';
export { encodeSafetensors, parseSafetensors } from './io/safetensors.js';
export { bmm, matmul } from './linalg.js';
export { abs, clamp, cos, div, exp, log, log1p, maximum, minimum, neg, pow, rsqrt, sigmoid, sin, sqrt, square, tanh } from './math.js';
export * as models from './models/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export { Generator, manualSeed } from './random.js';
export type { AdapterSummary, InitOptions, UsedLimits } from './runtime/device.js';
export { setFusion } from './runtime/fusion.js';
export type { MemoryInfo, RuntimeInfo } from './runtime/runtime.js';
export { checkAnomaly, counters, detectAnomaly, getDevice, init, memory, onDeviceLost, realize, runtimeInfo, sync, tidy } from './runtime/runtime.js';
export type { Counters } from './runtime/scheduler.js';
export type { DType } from './tensor.js';
export { Tensor, where } from './tensor.js';
export type { MatmulTuning, MatmulVariant } from './tune.js';
export { matmulVariant, tuneMatmul } from './tune.js';
