/**
 * tensorlane, the platform-neutral entry: tensors (float32 or float64 in wasm memory), the
 * course's layers with explicit forward and backward (tl.Linear, tl.Conv, ...), PyTorch-named
 * modules composed with tl.sequential (tl.nn), the FullyConnectedNet and DeepConvNet models, the
 * update rules, the Solver, and checkpoints, safetensors and state_dicts. Call tl.init() first.
 *
 * @packageDocumentation
 */
// tensorlane: the platform-neutral public API. No Node built-ins are imported from here.
export { init, isInitialized, simdSupported, runtimeInfo, dispose, MAX_ALLOCATION_BYTES, type InitOptions, type RuntimeInfo } from "./core/runtime.js";
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
  type DType,
  type DTypeOptions,
} from "./core/tensor.js";
export { setSeed } from "./core/random.js";
export type { Labels } from "./core/labels.js";

// Layers: forward -> [out, cache], backward(dout, cache) -> grads.
export { Linear, type LinearCache } from "./layers/linear.js";
export { ReLU, type ReLUCache } from "./layers/relu.js";
export { LinearReLU, type LinearReLUCache } from "./layers/linear-relu.js";
export { Dropout, type DropoutCache, type DropoutParam } from "./layers/dropout.js";
export { BatchNorm, type BatchNormCache, type BatchNormParam, type BatchNormMode } from "./layers/batchnorm.js";
export { SpatialBatchNorm, type SpatialBatchNormCache } from "./layers/spatial-batchnorm.js";
export { Tanh, type TanhCache } from "./layers/tanh.js";
export { LinearBatchNormReLU, type LinearBatchNormReLUCache } from "./layers/linear-batchnorm-relu.js";
export { Conv, type ConvCache, type ConvParam } from "./layers/conv.js";
export { MaxPool, type MaxPoolCache, type PoolParam } from "./layers/maxpool.js";
export { ConvReLU, ConvReLUPool, type ConvReLUCache, type ConvReLUPoolCache } from "./layers/conv-relu.js";

export { softmaxLoss, svmLoss, type SoftmaxLossOptions } from "./layers/losses.js";
export { type Targets, SOFT_LABEL_SUM_TOLERANCE } from "./layers/targets.js";
export {
  randomFlip,
  randomCrop,
  cutout,
  mixup,
  type Augmentation,
  type StreamOptions,
  type RandomFlipOptions,
  type RandomCropOptions,
  type CutoutOptions,
  type MixupOptions,
} from "./training/augment.js";
export {
  sgd,
  sgdMomentum,
  sgdNesterov,
  adagrad,
  rmsprop,
  adam,
  adamw,
  updateRules,
  type UpdateRule,
  type UpdateRuleName,
  type OptimConfig,
  type SgdConfig,
  type SgdMomentumConfig,
  type AdagradConfig,
  type RmspropConfig,
  type AdamConfig,
} from "./training/optim.js";
export { kaimingInitializer, type WeightScale } from "./layers/init.js";
export { evalNumericalGradient, evalNumericalGradientArray, relError, scaledError, checkModelGradients, type GradCheckOptions } from "./training/gradcheck.js";

// Models and training.
export { FullyConnectedNet, type FullyConnectedNetOptions } from "./models/fully-connected-net.js";
export { DeepConvNet, type DeepConvNetOptions } from "./models/deep-conv-net.js";
export { Sequential, sequential, type SequentialOptions, type SequentialConfig, type StateEntry } from "./models/sequential.js";
/** The modules a Sequential is composed of, named as PyTorch's torch.nn: tl.nn.conv2d(1, 32, 3), ... */
export * as nn from "./nn/index.js";
/** Ready-made networks composed of tl.nn modules: tl.models.resnet({ inputShape: [1, 28, 28] }). */
export * as models from "./models/zoo.js";
export { Solver, type SolverOptions, type SolverData, type SolverState, type ProgressEvent } from "./training/solver.js";
export type { TrainableModel, CheckpointableModel, PredictOptions } from "./models/contract.js";
export type { CosineSchedule, ScheduleFunction, LearningRateSchedule } from "./training/schedule.js";

// Data sets (tensorlane/data makes and reads them; the Solver takes them as they are).
export type { ImageDataset, Normalization } from "./data/dataset.js";
export {
  encodeSafetensors,
  decodeSafetensors,
  readSafetensorsHeader,
  type SafetensorsTensor,
  type SafetensorsAnyTensor,
  type SafetensorsContents,
  type SafetensorsEntry,
  type DecodeSafetensorsOptions,
} from "./io/safetensors.js";
// PyTorch state_dicts (safetensors) in and out of a tl.sequential, by name.
export { loadStateDict, saveStateDict, type LoadStateDictOptions, type LoadStateDictResult, type SaveStateDictOptions } from "./io/state-dict.js";
// Checkpoint bytes (safetensors) and the error every file reader throws.
export { FileFormatError } from "./io/format-error.js";
export {
  saveCheckpoint,
  loadCheckpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  type SaveCheckpointOptions,
  type LoadedCheckpoint,
  type SolverCheckpoint,
} from "./training/checkpoint.js";
export { VERSION } from "./core/version.js";

/**
 * Helpers for tensorlane's own tools (the Node entry, the CLI, tests): ParamStore, Workspace,
 * crc32, checkDataset, MODEL_KINDS, ... Not part of the public API: no stability promise. (One
 * namespace, because dist/tensorlane.js is also the chunk the Node entries import from.)
 *
 * @internal
 */
export * as internal from "./internal.js";
