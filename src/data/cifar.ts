// CIFAR-10 binary batches (data_batch_1.bin .. data_batch_5.bin, test_batch.bin): records of
// 1 label byte (0..9) then 3072 pixel bytes, 1024 red, 1024 green, 1024 blue, each a 32x32 plane
// row-major. That is already CHW, so images are copied plane by plane with no reordering.
import { internal } from "../index.js";
import type { ImageDataset } from "./dataset.js";
import { CIFAR10_CLASSES, makeDataset } from "./image-sets.js";

const { describe, formatError } = internal;

/** Bytes of one CIFAR-10 image: 3 x 32 x 32 pixel values. */
export const CIFAR10_IMAGE_BYTES = 3 * 32 * 32;
/** Bytes of one record of a CIFAR-10 binary batch: the label byte, then the image. */
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_IMAGE_BYTES;

/** Parses one CIFAR-10 binary batch. `what` names the file in errors. */
export function parseCifar10(
  bytes: Uint8Array,
  what?: string,
): {
  /** Pixel bytes of every image, N·3·32·32, NCHW order (channel planes R, G, B). */
  images: Uint8Array;
  /** The class of each image, N integers in [0, 10). */
  labels: Int32Array;
} {
  const fn = "parseCifar10";
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array (got ${describe(bytes)})`);
  if (bytes.length === 0) formatError(fn, what, "the file is empty; a CIFAR-10 batch holds 3073-byte records (1 label byte + 3x32x32 pixels)");
  const n = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
  const extra = bytes.length - n * CIFAR10_RECORD_BYTES;
  if (extra !== 0) {
    formatError(
      fn,
      what,
      `truncated or not a CIFAR-10 binary batch: ${bytes.length} bytes is ${n} whole ${CIFAR10_RECORD_BYTES}-byte records (1 label byte + 3x32x32 pixels) plus ${extra} bytes; expected a multiple of ${CIFAR10_RECORD_BYTES}`,
    );
  }
  const images = new Uint8Array(n * CIFAR10_IMAGE_BYTES);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR10_RECORD_BYTES;
    const label = bytes[at];
    if (label > 9) {
      formatError(
        fn,
        what,
        `record ${i} (byte ${at}) has label ${label}; CIFAR-10 labels are 0..9 (CIFAR-100 batches, with 2 label bytes per record, are not supported)`,
      );
    }
    labels[i] = label;
    images.set(bytes.subarray(at + 1, at + CIFAR10_RECORD_BYTES), i * CIFAR10_IMAGE_BYTES);
  }
  return { images, labels };
}

/** Class names from batches.meta.txt (one per line; blank lines ignored); must name 10 classes. */
export function parseCifar10Meta(text: string, what = "batches.meta.txt"): string[] {
  if (typeof text !== "string") throw new TypeError(`parseCifar10Meta: text must be a string (got ${describe(text)})`);
  const names = text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== 10) formatError("parseCifar10Meta", what, `expected 10 class names, one per line (found ${names.length})`);
  return names;
}

/**
 * A data set from one or more CIFAR-10 batches (e.g. the 5 training batches), in order.
 * `names` label the batches in errors; `classes` default to CIFAR-10's names.
 */
export function cifar10Dataset(batches: readonly Uint8Array[], options: { names?: readonly string[]; classes?: readonly string[] } = {}): ImageDataset {
  if (!Array.isArray(batches) || batches.length === 0) {
    throw new TypeError(`cifar10Dataset: batches must be a non-empty array of Uint8Array (got ${describe(batches)})`);
  }
  const parsed = batches.map((b, i) => parseCifar10(b, options.names?.[i] ?? `batch ${i}`));
  const n = parsed.reduce((a, p) => a + p.labels.length, 0);
  let images: Uint8Array;
  let labels: Int32Array;
  if (parsed.length === 1) {
    ({ images, labels } = parsed[0]);
  } else {
    images = new Uint8Array(n * CIFAR10_IMAGE_BYTES);
    labels = new Int32Array(n);
    let k = 0;
    for (const p of parsed) {
      images.set(p.images, k * CIFAR10_IMAGE_BYTES);
      labels.set(p.labels, k);
      k += p.labels.length;
    }
  }
  return makeDataset(images, labels, [3, 32, 32], { numClasses: 10, classes: options.classes ?? CIFAR10_CLASSES });
}
