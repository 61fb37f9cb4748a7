/**
 * tensorlane/node: everything tensorlane and tensorlane/data export, plus files on disk: data
 * folders (IDX, CIFAR-10), checkpoint and safetensors files, and atomic file writes.
 *
 * @packageDocumentation
 */
// tensorlane for Node: everything the platform-neutral entry and tensorlane/data have, plus files
// on disk (data folders, atomic checkpoint writes). The CLI builds on this entry.
export * from "../index.js";
export * from "../data/index.js";
export {
  loadIdxFolder,
  loadCifar10Folder,
  loadDataFolder,
  type DataSplits,
} from "./data-files.js";
export {
  writeFileAtomic,
  writeFileAtomicSync,
  saveCheckpointFile,
  saveCheckpointFileSync,
  loadCheckpointFile,
  readFileBytes,
  writeSafetensorsFile,
  readSafetensorsFile,
  MAX_READ_BYTES,
  type FileData,
} from "./checkpoint-file.js";
