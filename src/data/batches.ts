// Where the Solver's rows come from: a float32 tensor (N, ...) with its labels, or a uint8 image
// set (ImageDataset) plus a normalization, kept as bytes in wasm memory and converted batch by
// batch in wasm (gather, u8 -> f32, normalize through the same lookup table writeImages uses, so
// a byte batch has exactly the bits of the float path's batch).
import type { Labels } from "../labels.js";
import { allocBytes, f32, freeBytes, kernels, u8 } from "../runtime.js";
import { checkTensor, type Tensor } from "../tensor.js";
import { checkDataset, lookupTable, type ImageDataset, type Normalization } from "./dataset.js";

export interface BatchSource {
  /** Rows available. */
  readonly count: number;
  /** Shape of one row, e.g. [C, H, W]. */
  readonly rowShape: readonly number[];
  readonly labels: Labels;
  /** Classes of a byte set (its numClasses); undefined for tensors. */
  readonly numClasses?: number;
  /** Writes rows idx[0..n) (i32 at idxPtr) into out (n, ...rowShape). */
  gather(fn: string, out: Tensor, idxPtr: number, n: number): void;
  /** Rows [start, start + n) as float32: a view of the tensor, or converted into `scratch` (>= n rows). Dispose the result. */
  rows(start: number, n: number, scratch: () => Tensor): Tensor;
  /** Gives back wasm memory the source owns (the byte copy); a tensor source owns none. */
  dispose(): void;
}

/** Rows of a float32 tensor (the caller keeps owning it). */
export function tensorSource(name: string, X: Tensor, labels: Labels): BatchSource {
  const rowShape = X.shape.slice(1);
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  return {
    count: X.shape[0],
    rowShape,
    labels,
    gather(fn, out, idxPtr, n) {
      checkTensor(fn, name, X); // disposed since the Solver was made?
      kernels().f32_gather_rows(out.ptr, X.ptr, idxPtr, n, rowSize);
    },
    rows(start, n) {
      return X.sliceView(start * rowSize, [n, ...rowShape]);
    },
    dispose() {},
  };
}

/**
 * Images of a uint8 set, copied once into wasm memory (N*C*H*W bytes plus a 1 KB table per
 * channel), normalized on the fly: x -> (x/255 - mean[c]) / std[c], or x/255 without a
 * normalization. Needs init().
 */
export function byteSource(fn: string, name: string, ds: ImageDataset, normalization?: Normalization): BatchSource {
  checkDataset(fn, name, ds);
  const [C, H, W] = ds.shape;
  const plane = H * W;
  const per = C * plane;
  const lut = lookupTable(fn, C, normalization); // validates the normalization
  const lutPtr = allocBytes(lut.length * 4, `${fn}: ${name} table`);
  let bytesPtr = 0;
  try {
    bytesPtr = allocBytes(ds.images.length, `${fn}: ${name} images (${ds.images.length} bytes)`);
  } catch (error) {
    freeBytes(lutPtr);
    throw error;
  }
  f32().set(lut, lutPtr >>> 2);
  u8().set(ds.images, bytesPtr);
  let disposed = false;
  const live = (what: string): void => {
    if (disposed) throw new TypeError(`${what}: ${name} was disposed with its Solver`);
  };
  return {
    count: ds.labels.length,
    rowShape: [C, H, W],
    labels: ds.labels,
    numClasses: ds.numClasses,
    gather(what, out, idxPtr, n) {
      live(what);
      kernels().f32_gather_u8_lut(out.ptr, bytesPtr, idxPtr, n, C, plane, lutPtr);
    },
    rows(start, n, scratch) {
      live(fn);
      const buffer = scratch();
      const out = buffer.sliceView(0, [n, C, H, W]);
      kernels().f32_convert_u8_lut(out.ptr, bytesPtr + start * per, n, C, plane, lutPtr);
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      freeBytes(bytesPtr);
      freeBytes(lutPtr);
    },
  };
}
