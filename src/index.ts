// tensorlane: the platform-neutral public API. No Node built-ins are imported from here.
export { init, isInitialized, simdSupported, MAX_ALLOCATION_BYTES, type InitOptions } from "./runtime.js";
export {
  Tensor,
  tensor,
  zeros,
  ones,
  full,
  randn,
  rand,
  tidy,
  keep,
  memory,
  MAX_TENSOR_SIZE,
  type Shape,
  type TensorData,
  type NestedArray,
  type RandomOptions,
} from "./tensor.js";
export { setSeed } from "./random.js";
export {
  BatchNorm,
  batchNormForwardInto,
  batchNormBackwardInto,
  resolveBatchNormParam,
  type BatchNormParam,
  type BatchNormState,
  type BatchNormCache,
  type BatchNormMode,
} from "./layers/batchnorm.js";
export {
  SpatialBatchNorm,
  spatialBatchNormForwardInto,
  spatialBatchNormBackwardInto,
  type SpatialBatchNormCache,
} from "./layers/spatial-batchnorm.js";
export { Tanh, tanhForwardInto, tanhBackwardInto, type TanhCache } from "./layers/tanh.js";
export { LinearBatchNormReLU, type LinearBatchNormReLUCache } from "./layers/linear-batchnorm-relu.js";
