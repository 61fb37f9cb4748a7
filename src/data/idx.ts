// IDX files (MNIST, Fashion-MNIST): a 4-byte magic number 00 00 TYPE RANK, RANK big-endian
// uint32 dimensions, then the values row-major. tensorlane reads unsigned bytes (TYPE 0x08):
// images are rank 3 (N, H, W), labels rank 1 (N). Input is bytes, raw or gzip-compressed.
import { internal } from "../index.js";
import type { ImageDataset } from "./dataset.js";
import { makeDataset } from "./image-sets.js";
import { gunzip, isGzip, MAX_GUNZIP_BYTES } from "./gzip.js";

const { checkOptions, describe, formatError } = internal;

/** A parsed IDX file (MNIST's format): its dimensions and unsigned-byte values. */
export interface IdxArray {
  /** The dimensions from the header, e.g. [60000, 28, 28]. */
  readonly dims: readonly number[];
  /** The values, row-major (a view into the input bytes, no copy). */
  readonly data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

/** Parses uncompressed IDX bytes (use decodeIdx for raw-or-gzip). `what` names the file in errors. */
export function parseIdx(bytes: Uint8Array, what?: string): IdxArray {
  const fn = "parseIdx";
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array (got ${describe(bytes)})`);
  if (isGzip(bytes)) formatError(fn, what, "the data is gzip-compressed; use decodeIdx, which decompresses it");
  if (bytes.length < 4) {
    formatError(fn, what, `truncated: ${bytes.length} bytes, but an IDX file starts with a 4-byte magic number`);
  }
  const type = bytes[2];
  const rank = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in TYPE_NAMES) || rank < 1 || rank > 4) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    formatError(fn, what, `wrong magic number ${magic}: not an IDX file (expected 00 00 08 03 for images, 00 00 08 01 for labels)`);
  }
  if (type !== 0x08) {
    formatError(
      fn,
      what,
      `element type 0x${type.toString(16).padStart(2, "0")} (${TYPE_NAMES[type]}) is not supported; tensorlane reads unsigned-byte IDX files (type 0x08)`,
    );
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    formatError(fn, what, `truncated: the header of a rank-${rank} IDX file is ${headerBytes} bytes, the file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d; // at most (2^32)^4 = 2^128: a double holds it, no overflow to worry about
  }
  const have = bytes.length - headerBytes;
  if (have < size) {
    formatError(
      fn,
      what,
      `truncated: the header declares dimensions [${dims.join(", ")}] = ${size} bytes of data, but only ${have} bytes follow the ${headerBytes}-byte header`,
    );
  }
  if (have > size) {
    formatError(fn, what, `${have - size} unexpected bytes after the data: the header declares dimensions [${dims.join(", ")}] = ${size} bytes`);
  }
  return Object.freeze({ dims: Object.freeze(dims), data: bytes.subarray(headerBytes) });
}

/** Parses IDX bytes, raw or gzip-compressed (detected by the gzip magic number). */
export async function decodeIdx(bytes: Uint8Array, what?: string, options: { maxBytes?: number } = {}): Promise<IdxArray> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`decodeIdx: bytes must be a Uint8Array (got ${describe(bytes)})`);
  const o = checkOptions("decodeIdx", "options", options, ["maxBytes"]);
  const raw = isGzip(bytes) ? await gunzip(bytes, { what, maxBytes: (o.maxBytes as number | undefined) ?? MAX_GUNZIP_BYTES }) : bytes;
  return parseIdx(raw, what);
}

/** Options of idxDataset: names for error messages and the class count or names. */
export interface IdxDatasetOptions {
  /** Names for the error messages, e.g. the file names. */
  imagesName?: string;
  /** The labels file's name in error messages (default "labels"). */
  labelsName?: string;
  /** Default: the largest label + 1. */
  numClasses?: number;
  /** Class names, one per class, stored as the data set's `classes`. */
  classes?: readonly string[];
}

/**
 * A data set from an images array (rank 3: N, H, W; one channel) and a labels array (rank 1: N),
 * checking that they have the same N.
 */
export function idxDataset(images: IdxArray, labels: IdxArray, options: IdxDatasetOptions = {}): ImageDataset {
  const fn = "idxDataset";
  const imagesName = options.imagesName ?? "images";
  const labelsName = options.labelsName ?? "labels";
  if (images.dims.length !== 3) {
    formatError(
      fn,
      imagesName,
      `an image file must have 3 dimensions (N, H, W); it has ${images.dims.length}: [${images.dims.join(", ")}]${images.dims.length === 1 ? " (is it a label file?)" : ""}`,
    );
  }
  if (labels.dims.length !== 1) {
    formatError(
      fn,
      labelsName,
      `a label file must have 1 dimension (N); it has ${labels.dims.length}: [${labels.dims.join(", ")}]${labels.dims.length === 3 ? " (is it an image file?)" : ""}`,
    );
  }
  const [n, h, w] = images.dims;
  if (labels.dims[0] !== n) {
    formatError(fn, undefined, `label/image count mismatch: ${imagesName} has ${n} images but ${labelsName} has ${labels.dims[0]} labels`);
  }
  if (h === 0 || w === 0) formatError(fn, imagesName, `images of size ${h}x${w} are empty`);
  const labelValues = Int32Array.from(labels.data);
  if (options.numClasses !== undefined) {
    const bad = labelValues.findIndex((l) => l >= options.numClasses!);
    if (bad >= 0) formatError(fn, labelsName, `label ${bad} is ${labelValues[bad]}, outside [0, ${options.numClasses})`);
  }
  return makeDataset(images.data, labelValues, [1, h, w], { numClasses: options.numClasses, classes: options.classes });
}

/** A data set from the bytes of an IDX image file and label file, each raw or gzip-compressed. */
export async function readIdxDataset(imagesBytes: Uint8Array, labelsBytes: Uint8Array, options: IdxDatasetOptions = {}): Promise<ImageDataset> {
  const images = await decodeIdx(imagesBytes, options.imagesName ?? "images");
  const labels = await decodeIdx(labelsBytes, options.labelsName ?? "labels");
  return idxDataset(images, labels, options);
}
