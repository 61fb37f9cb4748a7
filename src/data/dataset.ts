// The image data set's shape and the checks the Solver's byte path needs (data/batches.ts): a
// labelled image set kept as raw bytes, its per-channel normalization, and the lookup table both
// paths normalize with. Making, splitting and converting data sets is tensorlane/data's
// (data/image-sets.ts).
import { checkNumber, describe } from "../core/validate.js";

/** Labelled images as bytes (the form tensorlane/data readers return and the Solver takes as is). */
export interface ImageDataset {
  /** Pixel values 0..255, N*C*H*W bytes in NCHW order (image n, channel c, row y, column x). */
  readonly images: Uint8Array;
  /** The class of each image, an integer in [0, numClasses). Its length is N. */
  readonly labels: Int32Array;
  /** [C, H, W] of one image. */
  readonly shape: readonly [number, number, number];
  /** Number of classes: labels are in [0, numClasses). */
  readonly numClasses: number;
  /** Class names, numClasses of them, when the source has them. */
  readonly classes?: readonly string[];
}

/** Per-channel statistics of pixel values scaled to [0, 1]: x -> (x/255 - mean[c]) / std[c]. */
export interface Normalization {
  /** Per-channel mean of the [0, 1]-scaled pixels, C values. */
  readonly mean: readonly number[];
  /** Per-channel standard deviation of the [0, 1]-scaled pixels, C values, each > 0. */
  readonly std: readonly number[];
}

/** Checks that a value is an ImageDataset whose parts agree. */
export function checkDataset(fn: string, name: string, ds: unknown): ImageDataset {
  if (ds === null || typeof ds !== "object") throw new TypeError(`${fn}: ${name} must be an image data set (got ${describe(ds)})`);
  const d = ds as ImageDataset;
  if (!(d.images instanceof Uint8Array) || !(d.labels instanceof Int32Array) || !Array.isArray(d.shape) || d.shape.length !== 3) {
    throw new TypeError(`${fn}: ${name} must be an image data set { images: Uint8Array, labels: Int32Array, shape: [C, H, W], numClasses }`);
  }
  const per = d.shape[0] * d.shape[1] * d.shape[2];
  if (d.images.length !== d.labels.length * per) {
    throw new RangeError(`${fn}: ${name} has ${d.labels.length} labels but ${d.images.length / per} images`);
  }
  return d;
}

/** Checks a normalization against a channel count. */
export function checkNormalization(fn: string, name: string, value: unknown, channels: number): Normalization {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`${fn}: ${name} must be { mean: number[], std: number[] } (got ${describe(value)})`);
  }
  const { mean, std } = value as Normalization;
  for (const [key, arr] of [
    ["mean", mean],
    ["std", std],
  ] as const) {
    if (!Array.isArray(arr) || arr.length !== channels) {
      throw new RangeError(`${fn}: ${name}.${key} must be an array of ${channels} numbers, one per channel (got ${describe(arr)})`);
    }
    arr.forEach((v, i) => checkNumber(fn, `${name}.${key}[${i}]`, v, key === "std" ? { min: 0, minExclusive: true } : {}));
  }
  return value as Normalization;
}

// value lut[c*256 + v] = (v/255 - mean[c]) / std[c] rounded to the output's precision: computed
// once per call, exact per entry. The Solver's byte path hands the same table to its wasm gather,
// so both paths give the same bits.
export function lookupTable(
  channels: number,
  normalization: Normalization | undefined,
  Values: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array,
): Float32Array | Float64Array {
  const lut = new Values(channels * 256);
  for (let ch = 0; ch < channels; ch++) {
    const mean = normalization ? normalization.mean[ch] : 0;
    const std = normalization ? normalization.std[ch] : 1;
    for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - mean) / std;
  }
  return lut;
}
