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
  makeDataset,
  checkDataset,
  datasetSize,
  subset,
  shuffledIndices,
  splitTrainVal,
  computeNormalization,
  checkNormalization,
  encodeNormalization,
  decodeNormalization,
  labelsOf,
  writeImages,
  toTensor,
  FASHION_MNIST_CLASSES,
  CIFAR10_CLASSES,
  type ImageDataset,
  type Normalization,
  type SplitOptions,
} from "./data/dataset.js";
export { parseIdx, decodeIdx, idxDataset, readIdxDataset, type IdxArray, type IdxDatasetOptions } from "./data/idx.js";
export { parseCifar10, parseCifar10Meta, cifar10Dataset, CIFAR10_IMAGE_BYTES, CIFAR10_RECORD_BYTES } from "./data/cifar.js";
export { gunzip, isGzip, MAX_GUNZIP_BYTES, type GunzipOptions } from "./data/gzip.js";
export {
  encodeSafetensors,
  encodeSafetensorsParts,
  decodeSafetensors,
  readSafetensorsHeader,
  MAX_SAFETENSORS_HEADER_BYTES,
  type SafetensorsTensor,
  type SafetensorsContents,
  type SafetensorsEntry,
} from "./io/safetensors.js";
export { FileFormatError } from "./io/format-error.js";
