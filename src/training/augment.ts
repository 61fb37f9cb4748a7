// Data augmentation for image batches (N, C, H, W), seeded and computed in wasm (assembly/augment.ts).
//
// Randomness is counter-based: image i of a call uses counter offset + i of stream `seed` (one
// 64-bit word), so what happens to an image depends only on (seed, offset + i), never on the batch
// around it or on which thread computes it. With a seed, offset defaults to 0; without one, the
// call reserves N counters of the global stream (reproducible after setSeed).
//
// Each function returns a new tensor, or writes into `options.out` when given (a caller's buffer,
// which must not overlap the input), so a training loop allocates nothing per step. Images may be
// float32 or float64 (the kernels of x's dtype; outputs have x's dtype); the draws do not depend
// on the dtype, so both see the same flips, crops, squares and mixup partners for a stream.
import { sharedBlocks } from "../core/blocks.js";
import { bytesPerElement, type DType } from "../core/dtype.js";
import { AUGMENT_KERNELS, useFamily } from "../core/kernel-families.js";
import { labelsToWasm } from "../core/labels.js";
import { drawSeed } from "../core/random.js";
import { kernels, realKernels } from "../core/runtime.js";
import { checkSoftLabels, type Targets } from "../layers/targets.js";
import { checkSameDtype, checkShape, checkTensor, empty, Tensor } from "../core/tensor.js";
import { checkInteger, checkNumber, checkOptions, checkSeed, describe, shapeString } from "../core/validate.js";

/** Where an augmentation draws: stream `seed`, image i at counter offset + i. */
export interface StreamOptions {
  /** Integer in [0, 2^32). Without it the global stream is used. */
  seed?: number;
  /** Counter of image 0 (default 0): lets a training loop give each batch fresh draws. Needs seed. */
  offset?: number;
}

/** Options of randomFlip / randomFlipInto. */
export interface RandomFlipOptions extends StreamOptions {
  /** Probability that an image is mirrored left-right (default 0.5). */
  p?: number;
  /** Written and returned instead of a new tensor: x's shape and dtype, not overlapping x. */
  out?: Tensor;
}

/** Options of randomCrop / randomCropInto (padding is required). */
export interface RandomCropOptions extends StreamOptions {
  /** Zero padding on each side: the shift (dy, dx) is uniform in [-padding, padding]^2. */
  padding: number;
  /** Written and returned instead of a new tensor: x's shape and dtype, not overlapping x. */
  out?: Tensor;
}

/** Options of cutout / cutoutInto (size is required). */
export interface CutoutOptions extends StreamOptions {
  /** Side of the zeroed square, in pixels (clipped at the image borders). */
  size: number;
  /** Written and returned instead of a new tensor: x's shape and dtype, not overlapping x. */
  out?: Tensor;
}

/** Options of mixup / mixupInto (alpha is required). */
export interface MixupOptions extends StreamOptions {
  /** Beta(alpha, alpha) shape of the mixing weight λ (> 0; the paper uses 0.1 to 0.4). */
  alpha: number;
  /** Classes of the one-hot labels; required with integer labels, else y's second dimension. */
  numClasses?: number;
  /**
   * [xOut, yOut], written and returned instead of new tensors: xOut of x's shape, not overlapping
   * x; yOut (N, numClasses), not overlapping soft labels y; both of x's dtype.
   */
  out?: readonly [Tensor, Tensor];
}

/** One augmentation step, as plain data (what Solver's `augment` option and checkpoints hold). */
export type Augmentation =
  | {
      /** Mirror each image left-right (randomFlip). */
      type: "randomFlip";
      /** Probability that an image is mirrored, in [0, 1] (default 0.5). */
      p?: number;
    }
  | {
      /** Pad with zeros and crop back at a random shift (randomCrop). */
      type: "randomCrop";
      /** Zero padding on each side, in pixels: the largest shift. */
      padding: number;
    }
  | {
      /** Zero a random square of each image (cutout). */
      type: "cutout";
      /** Side of the zeroed square, in pixels. */
      size: number;
    }
  | {
      /** Blend pairs of images and their labels (mixup; the labels become soft). */
      type: "mixup";
      /** Shape of the Beta(alpha, alpha) mixing weight, > 0. */
      alpha: number;
    };

// Largest padding or cutout size: far beyond any image, small enough for the kernels' i32 math.
const MAX_EXTENT = 2 ** 24;

/** Each image mirrored left-right with probability p. x: (N, C, H, W) -> (N, C, H, W), new or options.out. */
export function randomFlip(x: Tensor, options: RandomFlipOptions = {}): Tensor {
  const fn = "randomFlip";
  checkTensor(fn, "x", x, 4);
  const o = checkOptions(fn, "options", options, ["p", "seed", "offset", "out"]);
  const given = checkImageOut(fn, o.out, x);
  const p = o.p === undefined ? 0.5 : checkNumber(fn, "options.p", o.p, { min: 0, max: 1, float32: true });
  return writeImages(fn, x, given, (out, [N, C, H, W]) => {
    useFamily(AUGMENT_KERNELS);
    const [seed, offset] = stream(fn, o, N);
    out.markWritten();
    realKernels(x.dtype, fn).random_flip(out.ptr, x.ptr, N, C, H, W, p, seed, offset);
  });
}

/**
 * Each image shifted by (dy, dx) uniform in [-padding, padding]^2 with zeros filling in: the H x W
 * window at offset (padding + dy, padding + dx) of the image zero-padded by `padding` (CIFAR's
 * "pad 4, crop 32"). out[n][c][r][col] = x[n][c][r + dy][col + dx], or 0 outside x. Returns a new
 * tensor, or options.out.
 */
export function randomCrop(x: Tensor, options: RandomCropOptions): Tensor {
  const fn = "randomCrop";
  checkTensor(fn, "x", x, 4);
  const o = checkOptions(fn, "options", options, ["padding", "seed", "offset", "out"]);
  const given = checkImageOut(fn, o.out, x);
  if (o.padding === undefined) throw new TypeError(`${fn}: options.padding is required (an integer >= 0, e.g. 4)`);
  const padding = checkInteger(fn, "options.padding", o.padding, 0, MAX_EXTENT);
  return writeImages(fn, x, given, (out, [N, C, H, W]) => {
    useFamily(AUGMENT_KERNELS);
    const [seed, offset] = stream(fn, o, N);
    out.markWritten();
    realKernels(x.dtype, fn).random_crop(out.ptr, x.ptr, N, C, H, W, padding, seed, offset);
  });
}

/**
 * Cutout (DeVries and Taylor, 2017): per image one size x size square, its centre uniform over
 * the H x W pixels, clipped at the borders, set to 0 in every channel. The square covers rows
 * [cy - floor(size/2), cy - floor(size/2) + size), and columns likewise. Returns a new tensor, or
 * options.out.
 */
export function cutout(x: Tensor, options: CutoutOptions): Tensor {
  const fn = "cutout";
  checkTensor(fn, "x", x, 4);
  const o = checkOptions(fn, "options", options, ["size", "seed", "offset", "out"]);
  const given = checkImageOut(fn, o.out, x);
  if (o.size === undefined) throw new TypeError(`${fn}: options.size is required (an integer >= 0, e.g. 8)`);
  const size = checkInteger(fn, "options.size", o.size, 0, MAX_EXTENT);
  return writeImages(fn, x, given, (out, [N, C, H, W]) => {
    useFamily(AUGMENT_KERNELS);
    const [seed, offset] = stream(fn, o, N);
    out.markWritten();
    realKernels(x.dtype, fn).cutout(out.ptr, x.ptr, N, C, H, W, size, seed, offset);
  });
}

/**
 * Mixup (Zhang et al., 2018): image i becomes λ x_i + (1 - λ) x_j and its label
 * λ onehot(y_i) + (1 - λ) onehot(y_j), with j = perm[i] from a random permutation of the batch
 * and ONE λ ~ Beta(alpha, alpha) for the whole batch (as the paper's algorithm and reference code
 * do; the same λ and partner for images and labels). y: integer labels (N), or soft labels
 * (N, numClasses) of x's dtype. Returns [xMixed (N, C, H, W), yMixed (N, numClasses)], both of
 * x's dtype: new tensors, or options.out's two.
 */
export function mixup(x: Tensor, y: Targets, options: MixupOptions): [Tensor, Tensor] {
  const fn = "mixup";
  checkTensor(fn, "x", x, [2, 3, 4]);
  const o = checkOptions(fn, "options", options, ["alpha", "numClasses", "seed", "offset", "out"]);
  const given = o.out === undefined ? null : checkMixupOut(fn, o.out, x);
  if (o.alpha === undefined) throw new TypeError(`${fn}: options.alpha is required (a number > 0, e.g. 0.2)`);
  const alpha = checkNumber(fn, "options.alpha", o.alpha, { min: 0, minExclusive: true });
  const numClasses = mixupClasses(fn, y, o);
  const N = x.shape[0];
  const rowSize = x.size / Math.max(N, 1);
  const dtype = x.dtype;
  const soft = y instanceof Tensor;
  if (given) {
    checkShape(fn, "options.out[1]", given[1], [N, numClasses], "N x numClasses");
    checkSameDtype(fn, [
      ["x", x],
      ["options.out[1]", given[1]],
    ]);
  }
  if (soft) {
    checkSoftLabels(fn, y, N, numClasses, dtype);
    if (given) checkDisjoint(fn, "options.out[1]", given[1], "y", y);
  }
  const xOut = given ? given[0] : empty(x.shape, fn, dtype);
  let yOut: Tensor | null = given ? given[1] : null;
  try {
    yOut ??= empty([N, numClasses], fn, dtype);
    // Integer labels are checked (and copied into wasm) before anything is drawn.
    const labelsPtr = soft ? 0 : labelsToWasm(fn, y, N, numClasses);
    useFamily(AUGMENT_KERNELS);
    const [seed, offset] = stream(fn, o, N);
    const k = kernels(); // the draws: dtype-neutral, in the core module
    const r = realKernels(dtype, fn); // the rows: x's dtype
    const scratch = mixupScratch(N, numClasses, dtype);
    if (!soft) r.one_hot(scratch.oneHot, labelsPtr, N, numClasses);
    const labels = soft ? (y as Tensor).ptr : scratch.oneHot;
    k.i32_random_permutation(scratch.partner, N, seed, offset);
    const lam = k.f64_random_beta(alpha, seed, offset);
    xOut.markWritten();
    yOut.markWritten();
    r.mix_rows(xOut.ptr, x.ptr, scratch.partner, N, rowSize, lam);
    r.mix_rows(yOut.ptr, labels, scratch.partner, N, numClasses, lam);
    return [xOut, yOut];
  } catch (error) {
    if (!given) {
      xOut.dispose();
      yOut?.dispose();
    }
    throw error;
  }
}

/**
 * The λ that mixup with these alpha, seed and offset mixes by (each image's weight on itself): a
 * pure function of them, so tests and logs can recover it without mixup returning a third value.
 */
export function mixupLambda(alpha: number, seed: number, offset = 0): number {
  const fn = "mixupLambda";
  checkNumber(fn, "alpha", alpha, { min: 0, minExclusive: true });
  return kernels().f64_random_beta(alpha, checkSeed(fn, "seed", seed), checkInteger(fn, "offset", offset, 0, Number.MAX_SAFE_INTEGER));
}

/** Checks an augmentation list (Solver's `augment` option, a checkpoint's copy): returns plain copies. */
export function checkAugmentations(fn: string, name: string, value: unknown): Augmentation[] {
  if (!Array.isArray(value)) throw new TypeError(`${fn}: ${name} must be an array of augmentations like { type: "randomFlip" } (got ${describe(value)})`);
  return value.map((a: unknown, i): Augmentation => {
    const at = `${name}[${i}]`;
    if (a === null || typeof a !== "object" || Array.isArray(a))
      throw new TypeError(`${fn}: ${at} must be an object like { type: "randomFlip" } (got ${describe(a)})`);
    const type = (a as { type?: unknown }).type;
    switch (type) {
      case "randomFlip": {
        const o = checkOptions(fn, at, a, ["type", "p"]);
        return o.p === undefined ? { type } : { type, p: checkNumber(fn, `${at}.p`, o.p, { min: 0, max: 1, float32: true }) };
      }
      case "randomCrop": {
        const o = checkOptions(fn, at, a, ["type", "padding"]);
        return { type, padding: checkInteger(fn, `${at}.padding`, o.padding, 0, MAX_EXTENT) };
      }
      case "cutout": {
        const o = checkOptions(fn, at, a, ["type", "size"]);
        return { type, size: checkInteger(fn, `${at}.size`, o.size, 0, MAX_EXTENT) };
      }
      case "mixup": {
        const o = checkOptions(fn, at, a, ["type", "alpha"]);
        return { type, alpha: checkNumber(fn, `${at}.alpha`, o.alpha, { min: 0, minExclusive: true }) };
      }
      default:
        throw new TypeError(`${fn}: ${at}.type must be one of "randomFlip", "randomCrop", "cutout", "mixup" (got ${describe(type)})`);
    }
  });
}

/**
 * Applies augmentations in order to a batch, ping-ponging between two caller buffers (each of x's
 * shape) so nothing is allocated per step. Augmentation j draws from stream seeds[j] at counter
 * `offset` and, when it is a mixup, writes its labels into softLabels(j) (N, numClasses).
 * Returns the augmented batch (one of the buffers, or x when the list is empty) and the targets
 * (y, or the last mixup's soft labels).
 */
export function applyAugmentations(
  list: readonly Augmentation[],
  x: Tensor,
  y: Targets,
  buffers: readonly [Tensor, Tensor],
  softLabels: (j: number) => Tensor,
  seeds: readonly number[],
  offset: number,
  numClasses: number,
): [Tensor, Targets] {
  let current = x;
  let targets = y;
  list.forEach((a, j) => {
    const out = buffers[0] === current ? buffers[1] : buffers[0];
    const s = { seed: seeds[j], offset };
    if (a.type === "randomFlip") randomFlip(current, { ...s, p: a.p, out });
    else if (a.type === "randomCrop") randomCrop(current, { ...s, padding: a.padding, out });
    else if (a.type === "cutout") cutout(current, { ...s, size: a.size, out });
    else {
      const labels = softLabels(j);
      mixup(current, targets, { ...s, alpha: a.alpha, numClasses, out: [out, labels] });
      targets = labels;
    }
    current = out;
  });
  return [current, targets];
}

// Crop, flip and cutout need images (N, C, H, W); mixup needs the number of classes.
export function checkAugmentShapes(fn: string, list: readonly Augmentation[], rowShape: readonly number[], numClasses: number | undefined): void {
  list.forEach((a, j) => {
    if (a.type !== "mixup" && rowShape.length !== 3) {
      throw new RangeError(`${fn}: options.augment[${j}] (${a.type}) needs images (N, C, H, W), but the training rows have shape ${shapeString(rowShape)}`);
    }
    if (a.type === "mixup" && numClasses === undefined) {
      throw new TypeError(`${fn}: options.augment[${j}] (mixup) needs the number of classes: the model has no config.numClasses`);
    }
  });
}

// ---------------------------------------------------------------------------------------------

// options.out of an image augmentation, checked against x (which checkTensor has passed): null
// when not given.
function checkImageOut(fn: string, value: unknown, x: Tensor): Tensor | null {
  if (value === undefined) return null;
  const out = checkTensor(fn, "options.out", value);
  checkShape(fn, "options.out", out, x.shape, "x's shape");
  checkSameDtype(fn, [
    ["x", x],
    ["options.out", out],
  ]);
  checkDisjoint(fn, "options.out", out, "x", x);
  return out;
}

// options.out of mixup: [xOut, yOut], xOut checked against x here, yOut once numClasses is known.
function checkMixupOut(fn: string, value: unknown, x: Tensor): [Tensor, Tensor] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TypeError(`${fn}: options.out must be [xOut, yOut], two tensors (got ${describe(value)})`);
  }
  const xOut = checkTensor(fn, "options.out[0]", value[0]);
  checkShape(fn, "options.out[0]", xOut, x.shape, "x's shape");
  checkSameDtype(fn, [
    ["x", x],
    ["options.out[0]", xOut],
  ]);
  checkDisjoint(fn, "options.out[0]", xOut, "x", x);
  return [xOut, checkTensor(fn, "options.out[1]", value[1])];
}

// Runs write on the caller's out, or on a new tensor of x's shape (disposed if write throws, so a
// refused call gives back what it took).
function writeImages(fn: string, x: Tensor, given: Tensor | null, write: (out: Tensor, dims: [number, number, number, number]) => void): Tensor {
  const [N, C, H, W] = x.shape;
  if (N > 0 && (H === 0 || W === 0)) throw new RangeError(`${fn}: x must have images of at least 1 x 1 pixels (got ${shapeString(x.shape)})`);
  const out = given ?? empty(x.shape, fn, x.dtype);
  try {
    write(out, [N, C, H, W]);
    return out;
  } catch (error) {
    if (!given) out.dispose();
    throw error;
  }
}

function checkDisjoint(fn: string, outName: string, out: Tensor, inName: string, x: Tensor): void {
  const a = out.ptr,
    b = x.ptr;
  if (out.size > 0 && x.size > 0 && a < b + x.size * bytesPerElement(x.dtype) && b < a + out.size * bytesPerElement(out.dtype)) {
    throw new RangeError(`${fn}: ${outName} must not overlap ${inName} (the result is a new batch; pass another buffer)`);
  }
}

// [seed, offset]: the caller's, or N counters reserved from the global stream.
function stream(fn: string, o: Record<string, unknown>, count: number): [number, number] {
  if (o.seed === undefined) {
    if (o.offset !== undefined) throw new TypeError(`${fn}: options.offset needs options.seed`);
    return drawSeed(Math.max(count, 1));
  }
  const seed = checkSeed(fn, "options.seed", o.seed);
  const offset = o.offset === undefined ? 0 : checkInteger(fn, "options.offset", o.offset, 0, Number.MAX_SAFE_INTEGER);
  return [seed, offset];
}

function mixupClasses(fn: string, y: unknown, o: Record<string, unknown>): number {
  const given = o.numClasses;
  if (y instanceof Tensor) {
    checkTensor(fn, "y", y, 2);
    if (given !== undefined && given !== y.shape[1]) {
      throw new RangeError(`${fn}: options.numClasses is ${describe(given)} but soft labels y have ${y.shape[1]} classes (shape ${shapeString(y.shape)})`);
    }
    return y.shape[1];
  }
  if (given === undefined) throw new TypeError(`${fn}: options.numClasses is required with integer labels (e.g. 10)`);
  return checkInteger(fn, "options.numClasses", given, 1);
}

// One-hot rows (of the batch's dtype) and the partner permutation, one shared block reused across calls.
function mixupScratch(n: number, classes: number, dtype: DType): { partner: number; oneHot: number } {
  const partnerBytes = Math.ceil((n * 4) / 16) * 16;
  const ptr = sharedBlocks().block("mixup", partnerBytes + n * classes * bytesPerElement(dtype), { shrink: true, what: "mixup scratch" });
  return { partner: ptr, oneHot: ptr + partnerBytes };
}
