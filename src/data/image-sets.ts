// A labelled image set kept as raw bytes, and what training needs from it: a seeded
// train/validation split, per-channel normalization, and float32 NCHW tensors on demand.
//
// Images stay as bytes (one per pixel value) until a batch is needed: CIFAR-10's 50,000 training
// images are 154 MB as bytes but 614 MB as float32, and a Solver only needs one batch at a time.
// Everything here is integer or basic IEEE arithmetic (+ - * /, and one sqrt per channel done in
// wasm), so the same data and seed give the same bits in every runtime.
import { internal, type DType, type Tensor } from "../index.js";
import type { ImageDataset, Normalization } from "./dataset.js";

// tensorlane/data is an entry of its own: it reaches the core's helpers through `internal`, so the
// library entry exports nothing for it (src/internal.ts).
const {
  checkDataset,
  checkDtype,
  checkInteger,
  checkNumber,
  checkOptions,
  checkSeed,
  checkShape,
  checkTensor,
  deriveSeed,
  describe,
  empty,
  kernels,
  lookupTable,
  checkNormalization: checkChannels,
} = internal;

/** Checks a normalization against a channel count. */
export function checkNormalization(fn: string, name: string, value: unknown, channels: number): Normalization {
  return checkChannels(fn, name, value, channels);
}

// Plain arrays, read-only by type: Object.freeze at module scope is a call bundlers must keep.
/** Fashion-MNIST's class names (label order). */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** CIFAR-10's class names (label order), as in its batches.meta.txt. */
export const CIFAR10_CLASSES: readonly string[] = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/** The number of images in a data set. */
export function datasetSize(ds: ImageDataset): number {
  return ds.labels.length;
}

/**
 * Makes a data set, checking that the pieces agree: images hold N*C*H*W bytes for N labels, and
 * every label is in [0, numClasses). numClasses defaults to the largest label + 1.
 */
export function makeDataset(
  images: Uint8Array,
  labels: Int32Array,
  shape: readonly number[],
  options: { numClasses?: number; classes?: readonly string[] } = {},
): ImageDataset {
  const fn = "makeDataset";
  if (!(images instanceof Uint8Array)) throw new TypeError(`${fn}: images must be a Uint8Array (got ${describe(images)})`);
  if (!(labels instanceof Int32Array)) throw new TypeError(`${fn}: labels must be an Int32Array (got ${describe(labels)})`);
  if (!Array.isArray(shape) || shape.length !== 3) {
    throw new TypeError(`${fn}: shape must be [C, H, W] (got ${describe(shape)})`);
  }
  shape.forEach((d, i) => checkInteger(fn, `shape[${i}]`, d, 1));
  const opts = checkOptions(fn, "options", options, ["numClasses", "classes"]);
  const [c, h, w] = shape;
  const per = c * h * w;
  if (images.length !== labels.length * per) {
    throw new RangeError(
      `${fn}: ${labels.length} labels need ${labels.length} images of ${c}x${h}x${w} = ${labels.length * per} bytes (got ${images.length} bytes, ${images.length / per} images)`,
    );
  }
  let maxLabel = -1;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < 0) throw new RangeError(`${fn}: label ${i} is ${l}; labels must be >= 0`);
    if (l > maxLabel) maxLabel = l;
  }
  const numClasses = opts.numClasses === undefined ? maxLabel + 1 : checkInteger(fn, "options.numClasses", opts.numClasses, 1);
  if (numClasses < 1) throw new RangeError(`${fn}: a data set with no labels needs options.numClasses`);
  if (maxLabel >= numClasses) {
    const i = labels.findIndex((l) => l >= numClasses);
    throw new RangeError(`${fn}: label ${i} is ${labels[i]}, outside [0, ${numClasses}) (numClasses ${numClasses})`);
  }
  let classes: readonly string[] | undefined;
  if (opts.classes !== undefined) {
    const names = opts.classes as unknown;
    if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) {
      throw new TypeError(`${fn}: options.classes must be an array of strings (got ${describe(names)})`);
    }
    if (names.length !== numClasses) {
      throw new RangeError(`${fn}: options.classes must name ${numClasses} classes (got ${names.length})`);
    }
    classes = Object.freeze([...names]);
  }
  return Object.freeze({ images, labels, shape: Object.freeze([c, h, w]) as [number, number, number], numClasses, classes });
}

/** A new data set holding copies of the images at `indices`, in that order. */
export function subset(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  checkDataset("subset", "ds", ds);
  const n = datasetSize(ds);
  const idx = checkIndices("subset", indices, n);
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images = new Uint8Array(idx.length * per);
  const labels = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    images.set(ds.images.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = ds.labels[i];
  }
  return makeDataset(images, labels, ds.shape, { numClasses: ds.numClasses, classes: ds.classes });
}

/**
 * A permutation of 0..n-1 from a seed: Fisher-Yates where step i draws an integer hash of
 * (seed, i). No Math.random: the same seed gives the same order everywhere.
 */
export function shuffledIndices(n: number, seed: number): Int32Array {
  checkInteger("shuffledIndices", "n", n, 0, 2 ** 31 - 1);
  checkSeed("shuffledIndices", "seed", seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    // hash / 2^32 is in [0, 1) exactly, so j is in [0, i].
    const j = Math.floor((deriveSeed(seed, i) / 4294967296) * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** Options of splitTrainVal: the validation size (valCount or valFraction, not both) and the seed (required). */
export interface SplitOptions {
  /** How many images go to validation (an integer), or ... */
  valCount?: number;
  /** ... which fraction of them, in (0, 1) (rounded to the nearest count). */
  valFraction?: number;
  /** Integer in [0, 2^32): the same seed gives the same split. */
  seed: number;
}

/**
 * A seeded train/validation split: a shuffled permutation, its first valCount images go to
 * validation, the rest to training. Both keep the original order of their images.
 */
export function splitTrainVal(
  ds: ImageDataset,
  options: SplitOptions,
): {
  /** The images not drawn for validation, in their original order. */
  train: ImageDataset;
  /** The valCount images drawn for validation, in their original order. */
  val: ImageDataset;
} {
  const fn = "splitTrainVal";
  checkDataset(fn, "ds", ds);
  const opts = checkOptions(fn, "options", options, ["valCount", "valFraction", "seed"]);
  if (opts.seed === undefined) throw new TypeError(`${fn}: options.seed is required (an integer in [0, 2^32))`);
  const seed = checkSeed(fn, "options.seed", opts.seed);
  const n = datasetSize(ds);
  let valCount: number;
  if (opts.valCount !== undefined && opts.valFraction !== undefined) {
    throw new TypeError(`${fn}: give options.valCount or options.valFraction, not both`);
  } else if (opts.valCount !== undefined) {
    valCount = checkInteger(fn, "options.valCount", opts.valCount, 0, n);
  } else if (opts.valFraction !== undefined) {
    const f = checkNumber(fn, "options.valFraction", opts.valFraction, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
    valCount = Math.round(f * n);
  } else {
    throw new TypeError(`${fn}: options.valCount or options.valFraction is required`);
  }
  const perm = shuffledIndices(n, seed);
  const val = perm.slice(0, valCount).sort();
  const train = perm.slice(valCount).sort();
  return { train: subset(ds, train), val: subset(ds, val) };
}

/**
 * Per-channel mean and standard deviation (population) of pixel values scaled to [0, 1],
 * computed exactly from integer sums. Compute it on the training split; apply it to every split.
 * A channel that is constant gets std 1 (normalization then only centers it). Needs init().
 */
export function computeNormalization(ds: ImageDataset): Normalization {
  checkDataset("computeNormalization", "ds", ds);
  const [c, h, w] = ds.shape;
  const n = datasetSize(ds);
  if (n === 0) throw new RangeError("computeNormalization: ds has no images");
  const plane = h * w;
  const count = n * plane;
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    // Integer sums: exact while count * 255^2 < 2^53 (over 10^11 pixels per channel).
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * plane;
      let s = 0;
      let s2 = 0;
      for (let p = 0; p < plane; p++) {
        const v = ds.images[base + p];
        s += v;
        s2 += v * v;
      }
      sum += s;
      sumSq += s2;
    }
    // E[v^2] - E[v]^2 in double: a few correctly rounded operations on exact sums, so the same
    // bits everywhere; pixel data never has the tiny variance where this form loses precision.
    const m = sum / count;
    const variance = Math.max(0, sumSq / count - m * m);
    const s = kernels().f64_sqrt(variance) / 255; // wasm's correctly rounded sqrt, not the host's Math
    mean.push(m / 255);
    std.push(s > 0 ? s : 1);
  }
  return Object.freeze({ mean: Object.freeze(mean), std: Object.freeze(std) });
}

/** A normalization as a string, for checkpoint metadata. Numbers round-trip exactly. */
export function encodeNormalization(norm: Normalization): string {
  checkNormalization("encodeNormalization", "norm", norm, (norm as Normalization)?.mean?.length ?? -1);
  return JSON.stringify({ mean: norm.mean, std: norm.std });
}

/** Parses encodeNormalization's string, validating it (it may come from a file). */
export function decodeNormalization(text: string): Normalization {
  if (typeof text !== "string") throw new TypeError(`decodeNormalization: text must be a string (got ${describe(text)})`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RangeError(`decodeNormalization: not valid JSON (got ${JSON.stringify(text.slice(0, 80))})`);
  }
  const channels = Array.isArray((value as Normalization | null)?.mean) ? (value as Normalization).mean.length : -1;
  if (channels < 1) throw new RangeError(`decodeNormalization: expected {"mean": [...], "std": [...]} (got ${JSON.stringify(text.slice(0, 80))})`);
  const norm = checkNormalization("decodeNormalization", "text", value, channels);
  return Object.freeze({ mean: Object.freeze([...norm.mean]), std: Object.freeze([...norm.std]) });
}

/** The labels at `indices` (all of them by default), as a new Int32Array. */
export function labelsOf(ds: ImageDataset, indices?: ArrayLike<number>): Int32Array {
  checkDataset("labelsOf", "ds", ds);
  if (indices === undefined) return ds.labels.slice();
  const idx = checkIndices("labelsOf", indices, datasetSize(ds));
  const out = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) out[k] = ds.labels[idx[k]];
  return out;
}

/**
 * Writes images as NCHW into an existing tensor of shape (indices.length, C, H, W), in its dtype
 * (float32 or float64): x/255, then (x - mean[c]) / std[c] when a normalization is given. For
 * training loops that reuse one batch buffer.
 */
export function writeImages(out: Tensor, ds: ImageDataset, indices: ArrayLike<number>, normalization?: Normalization): Tensor {
  const fn = "writeImages";
  checkTensor(fn, "out", out);
  checkDataset(fn, "ds", ds);
  const idx = checkIndices(fn, indices, datasetSize(ds));
  const [c, h, w] = ds.shape;
  checkShape(fn, "out", out, [idx.length, c, h, w], "indices.length x C x H x W");
  if (normalization !== undefined) checkNormalization(fn, "normalization", normalization, c);
  return writeImagesUnchecked(out, ds, idx, normalization);
}

// writeImages after its checks (out, ds, indices, normalization).
function writeImagesUnchecked(out: Tensor, ds: ImageDataset, idx: ArrayLike<number>, normalization: Normalization | undefined): Tensor {
  const [c, h, w] = ds.shape;
  const lut = lookupTable(c, normalization, out.dtype === "float64" ? Float64Array : Float32Array);
  const plane = h * w;
  const per = c * plane;
  const view = out.view(); // derived after every allocation above; nothing below allocates in wasm
  let o = 0;
  for (let k = 0; k < idx.length; k++) {
    let src = idx[k] * per;
    for (let ch = 0; ch < c; ch++) {
      const base = ch * 256;
      for (let p = 0; p < plane; p++) view[o++] = lut[base + ds.images[src++]];
    }
  }
  return out;
}

/**
 * The images at `indices` (all by default) as a new tensor (N, C, H, W), float32 unless
 * `options.dtype` is "float64", scaled and normalized as writeImages does. Needs init().
 */
export function toTensor(ds: ImageDataset, options: { indices?: ArrayLike<number>; normalization?: Normalization; dtype?: DType } = {}): Tensor {
  const fn = "toTensor";
  checkDataset(fn, "ds", ds);
  const opts = checkOptions(fn, "options", options, ["indices", "normalization", "dtype"]);
  const dtype = checkDtype(fn, "options.dtype", opts.dtype);
  const n = datasetSize(ds);
  const idx = opts.indices === undefined ? identity(n) : checkIndices(fn, opts.indices as ArrayLike<number>, n);
  const normalization = opts.normalization as Normalization | undefined;
  if (normalization !== undefined) checkNormalization(fn, "normalization", normalization, ds.shape[0]); // before allocating
  return imagesTensor(fn, ds, idx, normalization, dtype);
}

// toTensor after its checks (ds, indices, normalization): allocate, then fill.
function imagesTensor(fn: string, ds: ImageDataset, idx: ArrayLike<number>, normalization: Normalization | undefined, dtype: DType = "float32"): Tensor {
  const out = empty([idx.length, ...ds.shape], fn, dtype);
  try {
    return writeImagesUnchecked(out, ds, idx, normalization);
  } catch (error) {
    out.dispose();
    throw error;
  }
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function checkIndices(fn: string, indices: ArrayLike<number>, n: number): ArrayLike<number> {
  if (indices === null || typeof indices !== "object" || typeof indices.length !== "number") {
    throw new TypeError(`${fn}: indices must be an array or Int32Array of image indices (got ${describe(indices)})`);
  }
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RangeError(`${fn}: indices[${k}] is ${describe(i)}; image indices must be integers in [0, ${n})`);
    }
  }
  return indices;
}

/**
 * The Solver's data from two splits: { XTrain, yTrain, XVal, yVal }, images as float32 NCHW
 * tensors normalized with `normalization` (compute it on the training split). Needs init();
 * the caller disposes XTrain and XVal.
 */
export function toSolverData(
  train: ImageDataset,
  val: ImageDataset,
  normalization?: Normalization,
): {
  /** Training images (N, C, H, W), float32, normalized; the caller disposes it. */
  XTrain: Tensor;
  /** Training labels, N integers in [0, numClasses). */
  yTrain: Int32Array;
  /** Validation images (Nv, C, H, W), float32, normalized the same way; the caller disposes it. */
  XVal: Tensor;
  /** Validation labels, Nv integers in [0, numClasses). */
  yVal: Int32Array;
} {
  const fn = "toSolverData";
  checkDataset(fn, "train", train);
  checkDataset(fn, "val", val);
  if (train.shape.join() !== val.shape.join()) {
    throw new RangeError(`toSolverData: train images are [${train.shape.join(", ")}] but val images are [${val.shape.join(", ")}]`);
  }
  if (normalization !== undefined) checkNormalization(fn, "normalization", normalization, train.shape[0]);
  // Checked once above; the two conversions below trust it.
  const XTrain = imagesTensor(fn, train, identity(datasetSize(train)), normalization);
  try {
    const XVal = imagesTensor(fn, val, identity(datasetSize(val)), normalization);
    return { XTrain, yTrain: train.labels.slice(), XVal, yVal: val.labels.slice() };
  } catch (error) {
    XTrain.dispose();
    throw error;
  }
}
