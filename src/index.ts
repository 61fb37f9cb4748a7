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
export { type Labels } from "./labels.js";

// Layers: forward -> [out, cache], backward(dout, cache) -> grads.
export { Linear, type LinearCache } from "./layers/linear.js";
export { ReLU, type ReLUCache } from "./layers/relu.js";
export { LinearReLU, type LinearReLUCache } from "./layers/linear-relu.js";
export { Dropout, type DropoutCache, type DropoutParam } from "./layers/dropout.js";

export { softmaxLoss, svmLoss } from "./losses.js";
export {
  sgd,
  sgdMomentum,
  adagrad,
  rmsprop,
  adam,
  updateRules,
  type UpdateRule,
  type UpdateRuleName,
  type OptimConfig,
  type SgdConfig,
  type SgdMomentumConfig,
  type AdagradConfig,
  type RmspropConfig,
  type AdamConfig,
} from "./optim.js";
export { kaimingInitializer, type WeightScale } from "./init.js";
export { evalNumericalGradient, evalNumericalGradientArray, relError, scaledError, checkModelGradients, type GradCheckOptions } from "./gradcheck.js";

// Models and training.
export { FullyConnectedNet, type FullyConnectedNetOptions } from "./models/fully-connected-net.js";
export { ParamStore } from "./models/param-store.js";
export { Solver, type SolverOptions, type SolverData, type ProgressEvent, type TrainableModel } from "./solver.js";
export { Workspace } from "./workspace.js";
