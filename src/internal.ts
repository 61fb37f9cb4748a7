// Internal helpers that tensorlane's own tools (CLI, tests, benchmarks) use but users do not:
// not part of the public API, no stability promise. The index re-exports them only as the
// namespace `internal` (the Node entry and the CLI import them from there: dist/tensorlane.js is
// also the chunk those entries share, so what they use must be an export of it). A separately
// packaged CLI reaches them the same way.
export { ParamStore } from "./models/param-store.js";
export { Workspace } from "./workspace.js";
export { crc32 } from "./io/crc32.js";
export { checkDataset } from "./data/dataset.js";
export { MODEL_KINDS, modelKindOf, type ModelClass } from "./models/kinds.js";
export { checkpointParts, sealCheckpoint } from "./io/checkpoint.js";
export { encodeSafetensorsParts, MAX_SAFETENSORS_HEADER_BYTES, halfToFloatBits } from "./io/safetensors.js";
// Argument checks the tensorlane/onnx entry shares (it imports the core through the public entry only).
export { checkEnum, checkInteger, checkOptions, checkSeed, describe } from "./validate.js";
export { sizeOf } from "./tensor.js";
export { requireDtype } from "./runtime.js";
export { MAX_GUNZIP_BYTES } from "./data/gzip.js";
export { CIFAR10_IMAGE_BYTES, CIFAR10_RECORD_BYTES } from "./data/cifar.js";
export { deriveSeed } from "./random.js";
export { DEFAULT_LEARNING_RATES } from "./optim.js";
