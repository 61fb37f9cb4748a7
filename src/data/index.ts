/**
 * tensorlane/data: labelled image sets as bytes (ImageDataset), their readers (IDX, CIFAR-10,
 * gzip), seeded splits and subsets, per-channel normalization, and conversion to the Solver's
 * tensors. Platform-neutral; reading folders from disk is tensorlane/node's.
 *
 * @packageDocumentation
 */
// tensorlane/data: byte-backed image sets and what training needs from them (IDX / CIFAR-10
// readers, gzip, seeded splits, normalization, tensors on demand). An entry of its own, so apps
// that bring their data as tensors load none of it. Platform-neutral: the files on disk are
// tensorlane/node's (loadIdxFolder, loadCifar10Folder, loadDataFolder).
export type { ImageDataset, Normalization } from "./dataset.js";
export {
  makeDataset,
  datasetSize,
  subset,
  shuffledIndices,
  splitTrainVal,
  computeNormalization,
  encodeNormalization,
  decodeNormalization,
  labelsOf,
  writeImages,
  toTensor,
  toSolverData,
  FASHION_MNIST_CLASSES,
  CIFAR10_CLASSES,
  type SplitOptions,
} from "./image-sets.js";
export { checkNormalization } from "./image-sets.js";
export { parseIdx, decodeIdx, idxDataset, readIdxDataset, type IdxArray, type IdxDatasetOptions } from "./idx.js";
export { parseCifar10, parseCifar10Meta, cifar10Dataset, CIFAR10_IMAGE_BYTES, CIFAR10_RECORD_BYTES } from "./cifar.js";
export { gunzip, isGzip, MAX_GUNZIP_BYTES, type GunzipOptions } from "./gzip.js";
