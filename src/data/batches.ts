// Where the Solver's rows come from: a float32 tensor (N, ...) with its labels, or a uint8 image
// set (ImageDataset) plus a normalization, converted batch by batch in wasm (u8 -> f32 and
// normalized through the same lookup table writeImages uses, so a byte batch has exactly the bits
// of the float path's batch).
import { Blocks } from "../core/blocks.js";
import { AUGMENT_KERNELS, TRAIN_KERNELS, useFamily } from "../core/kernel-families.js";
import { checkLabels, type Labels } from "../core/labels.js";
import { f32, i32, kernels, realKernels, u8 } from "../core/runtime.js";
import { checkTensor, type DType, type Tensor } from "../core/tensor.js";
import { checkOptions, shapeString } from "../core/validate.js";
import { checkDataset, checkNormalization, lookupTable, type ImageDataset, type Normalization } from "./dataset.js";

/**
 * Training and validation data: float32 tensors with integer labels, or uint8 image sets (see
 * ImageDataset) with the normalization to apply. Byte sets stay bytes (in host memory): each
 * batch is converted and normalized in wasm, giving the same bits as toSolverData's tensors
 * without a float32 copy of the set (CIFAR-10: 154 MB of bytes instead of 614 MB of floats).
 */
export type SolverData =
  | {
      /** Training inputs (N, ...), float32 or float64 (the course's X_train). */
      XTrain: Tensor;
      /** Training labels, N integers in [0, numClasses). */
      yTrain: Labels;
      /** Validation inputs (Nv, ...), same row shape and dtype as XTrain. */
      XVal: Tensor;
      /** Validation labels, Nv integers in [0, numClasses). */
      yVal: Labels;
    }
  | {
      /** Training images as bytes (converted to float32 per batch). */
      train: ImageDataset;
      /** Validation images as bytes, same image shape as train. */
      val: ImageDataset;
      /** Per-channel mean and std applied to each batch after scaling to [0, 1]; none when absent. */
      normalization?: Normalization;
    };

export interface BatchSource {
  /** Rows available. */
  readonly count: number;
  /** Shape of one row, e.g. [C, H, W]. */
  readonly rowShape: readonly number[];
  readonly labels: Labels;
  /** The rows' dtype (a byte set gives float32). */
  readonly dtype: DType;
  /** Classes of a byte set (its numClasses); undefined for tensors. */
  readonly numClasses?: number;
  /** Writes rows idx[0..n) (i32 at idxPtr) into out (n, ...rowShape). */
  gather(fn: string, out: Tensor, idxPtr: number, n: number): void;
  /** Rows [start, start + n) as float32: a view of the tensor, or converted into `scratch` (>= n rows). Dispose the result. */
  rows(start: number, n: number, scratch: () => Tensor): Tensor;
  /** Gives back wasm memory the source owns (the byte copy); a tensor source owns none. */
  dispose(): void;
}

/** Rows of a float32 or float64 tensor (the caller keeps owning it). */
export function tensorSource(name: string, X: Tensor, labels: Labels): BatchSource {
  const rowShape = X.shape.slice(1);
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  return {
    count: X.shape[0],
    rowShape,
    labels,
    dtype: X.dtype,
    gather(fn, out, idxPtr, n) {
      checkTensor(fn, name, X); // disposed since the Solver was made?
      useFamily(TRAIN_KERNELS);
      realKernels(X.dtype).gather_rows(out.ptr, X.ptr, idxPtr, n, rowSize);
    },
    rows(start, n) {
      return X.sliceView(start * rowSize, [n, ...rowShape]);
    },
    dispose() {},
  };
}

/**
 * Images of a uint8 set, normalized on the fly: x -> (x/255 - mean[c]) / std[c], or x/255
 * without a normalization. The set stays in host memory, where it already is: each batch's image
 * bytes are copied into a small staging buffer in wasm (a byte copy decides no number), and one
 * wasm kernel converts and normalizes them through the table. Wasm memory holds one batch of
 * bytes, not the set: copying CIFAR-10's 154 MB in would cost about 300 MB of wasm memory, since
 * the allocator doubles memory when it grows. The set's bytes must not change while training.
 * Needs init().
 */
export function byteSource(fn: string, name: string, ds: ImageDataset, normalization?: Normalization): BatchSource {
  checkDataset(fn, name, ds);
  const [C, H, W] = ds.shape;
  const plane = H * W;
  const per = C * plane;
  if (normalization !== undefined) checkNormalization(fn, "normalization", normalization, C);
  const lut = lookupTable(C, normalization);
  // The table, and the staging buffer for n images (grown on demand, then reused: memory flat after warm-up).
  const blocks = new Blocks(`${fn}: ${name}`);
  const lutPtr = blocks.block("table", lut.length * 4);
  f32().set(lut, lutPtr >>> 2);
  const stage = (n: number): number => blocks.block("batch bytes", n * per);
  let disposed = false;
  const live = (what: string): void => {
    if (disposed) throw new TypeError(`${what}: ${name} was disposed with its Solver`);
  };
  return {
    count: ds.labels.length,
    dtype: "float32",
    rowShape: [C, H, W],
    labels: ds.labels.slice(), // a private copy: later edits of the caller's array cannot reach training
    numClasses: ds.numClasses,
    gather(what, out, idxPtr, n) {
      live(what);
      useFamily(AUGMENT_KERNELS); // convert_u8_lut
      const at = stage(n);
      const idx = i32().subarray(idxPtr >>> 2, (idxPtr >>> 2) + n); // views derived after the allocation
      const bytes = u8();
      for (let k = 0; k < n; k++) bytes.set(ds.images.subarray(idx[k] * per, (idx[k] + 1) * per), at + k * per);
      kernels().convert_u8_lut(out.ptr, at, n, C, plane, lutPtr);
    },
    rows(start, n, scratch) {
      live(fn);
      useFamily(AUGMENT_KERNELS);
      const out = scratch().sliceView(0, [n, C, H, W]);
      const at = stage(n);
      u8().set(ds.images.subarray(start * per, (start + n) * per), at);
      kernels().convert_u8_lut(out.ptr, at, n, C, plane, lutPtr);
      return out;
    },
    dispose() {
      disposed = true;
      blocks.dispose();
    },
  };
}

/** What the Solver learns from its data before anything is allocated. */
export interface DataInfo {
  rowShape: readonly number[];
  numClasses?: number;
}

/**
 * Checks the Solver's data once (nothing allocated): tensors with labels, or byte sets. `classes`
 * bounds the labels (undefined: any non-negative integer).
 */
export function checkSolverData(fn: string, data: unknown, classes?: number): DataInfo {
  const bound = classes ?? Number.MAX_SAFE_INTEGER;
  if (data !== null && typeof data === "object" && "train" in data) return checkByteData(fn, data, bound);
  const d = checkOptions(fn, "data", data, ["XTrain", "yTrain", "XVal", "yVal"]);
  for (const key of ["XTrain", "yTrain", "XVal", "yVal"]) {
    if (d[key] === undefined) throw new TypeError(`${fn}: data.${key} is required ({ XTrain, yTrain, XVal, yVal })`);
  }
  const XTrain = checkTensor(fn, "data.XTrain", d.XTrain);
  const XVal = checkTensor(fn, "data.XVal", d.XVal);
  if (XTrain.shape.length < 2 || XTrain.shape[0] === 0) {
    throw new RangeError(`${fn}: data.XTrain must have shape (N, ...) with N >= 1 (got ${shapeString(XTrain.shape)})`);
  }
  if (XVal.shape.length !== XTrain.shape.length || XVal.shape.slice(1).some((s, i) => s !== XTrain.shape[i + 1])) {
    throw new RangeError(`${fn}: data.XVal rows must have the shape of data.XTrain rows (got ${shapeString(XVal.shape)} vs ${shapeString(XTrain.shape)})`);
  }
  checkLabels(`${fn} (data.yTrain)`, d.yTrain, XTrain.shape[0], bound);
  checkLabels(`${fn} (data.yVal)`, d.yVal, XVal.shape[0], bound);
  return { rowShape: XTrain.shape.slice(1) };
}

// Byte sets { train, val, normalization? }.
function checkByteData(fn: string, data: object, classes: number): DataInfo {
  const d = checkOptions(fn, "data", data, ["train", "val", "normalization"]);
  const train = checkDataset(fn, "data.train", d.train);
  const val = checkDataset(fn, "data.val", d.val);
  if (train.labels.length === 0) throw new RangeError(`${fn}: data.train must hold at least one image`);
  if (train.shape.join() !== val.shape.join()) {
    throw new RangeError(`${fn}: data.val images are ${shapeString(val.shape)} but data.train images are ${shapeString(train.shape)}`);
  }
  checkLabels(`${fn} (data.train labels)`, train.labels, train.labels.length, classes);
  checkLabels(`${fn} (data.val labels)`, val.labels, val.labels.length, classes);
  return { rowShape: train.shape, numClasses: train.numClasses };
}

/** The Solver's two row sources; a byte set's allocates its table here. */
export function makeSources(fn: string, data: SolverData): [BatchSource, BatchSource] {
  if ("train" in data) {
    const train = byteSource(fn, "data.train", data.train, data.normalization);
    try {
      return [train, byteSource(fn, "data.val", data.val, data.normalization)];
    } catch (error) {
      train.dispose();
      throw error;
    }
  }
  // Private copies of the labels (checked at construction; later edits of the caller's arrays cannot reach training).
  return [tensorSource("data.XTrain", data.XTrain, Int32Array.from(data.yTrain)), tensorSource("data.XVal", data.XVal, Int32Array.from(data.yVal))];
}
