// Internal helpers that tensorlane's own tools (CLI, tests, benchmarks) use but users do not:
// not part of the public API, no stability promise. The index re-exports them only as the
// namespace `internal` (the Node entry and the CLI import them from there: dist/tensorlane.js is
// also the chunk those entries share, so what they use must be an export of it). A separately
// packaged CLI reaches them the same way.
export { ParamStore } from "./models/param-store.js";
export { Workspace } from "./core/workspace.js";
export { crc32 } from "./io/crc32.js";
export { checkDataset, checkNormalization, lookupTable } from "./data/dataset.js";
export { MODEL_KINDS, modelKindOf, type ModelClass } from "./models/kinds.js";
export { checkpointParts, sealCheckpoint } from "./training/checkpoint.js";
export { encodeSafetensorsParts, MAX_SAFETENSORS_HEADER_BYTES, halfToFloatBits } from "./io/safetensors.js";
export { sizeOf } from "./core/tensor.js";
export { requireDtype } from "./core/runtime.js";
export { deriveSeed } from "./core/random.js";
export { DEFAULT_LEARNING_RATES } from "./training/optim.js";
export { mixupLambda } from "./training/augment.js";
// What the tensorlane/data and tensorlane/experiments entries use of the core (they are entries of
// their own, so they import it from here rather than add exports to the library entry).
export { checkDtype, checkShape, checkTensor, empty } from "./core/tensor.js";
export { checkEnum, checkInteger, checkNumber, checkOptions, checkSeed, describe } from "./core/validate.js";
export { formatError } from "./io/format-error.js";
export { kernels } from "./core/runtime.js";
export { checkWeightScale, fillNormal, initStd } from "./layers/init.js";
export { gemm } from "./ops/gemm.js";
export { ACTIVATION_KERNELS, useFamily } from "./core/kernel-families.js";
