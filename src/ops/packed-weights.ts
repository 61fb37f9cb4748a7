// Weights packed once per version (issue 22): op(B) of a layer's weight tensor in gemm_pack_b's
// panels, kept beside the tensor (Tensor.attachment) and used by the GEMM and GEMV kernels instead
// of packing (or, at batch 1-3, striding through) the weights on every call. Packing is a copy, so
// results are the bits of the unpacked path.
//
// A packing is used only while the tensor's version is the one it was made from: every library
// write bumps the version (Tensor.version), so a stale packing is never read. A version is packed
// the second time a call sees it, not the first: in training the weights change between any two
// forward passes and packing them would be a wasted copy (the 4-row path packs its slices as it
// goes anyway); in inference the second call packs and every later one reuses it. The buffer is
// reused for later versions (same size) and freed when the tensor (or its base) is disposed.
import type { DType } from "../core/dtype.js";
import { allocBytes, freeBytes, realKernels } from "../core/runtime.js";
import type { Attachment, Tensor } from "../core/tensor.js";
import { packB } from "./gemm.js";
import { threadCount } from "../core/threads/dispatch.js";

/** How one kind of packing is sized and made: n and k as the caller names them. */
export interface Packer {
  bytes(dtype: DType, n: number, k: number): number;
  pack(dtype: DType, ptr: number, w: number, n: number, k: number): void;
}

/** One packing of one weight tensor, by a packer for sizes n, k. */
class PackedWeights implements Attachment {
  ptr = 0;
  /** The version the buffer holds (-1: none), and the last version a call saw unpacked. */
  packed = -1;
  seen = -1;

  constructor(
    readonly packer: Packer,
    readonly n: number,
    readonly k: number,
    readonly dtype: DType,
  ) {}

  release(): void {
    if (this.ptr !== 0) freeBytes(this.ptr);
    this.ptr = 0;
    this.packed = -1;
  }
}

const straight: Packer = {
  bytes: (dtype, n, k) => realKernels(dtype).gemm_packed_b_bytes(n, k),
  pack: (dtype, ptr, w, n, k) => packB(dtype, ptr, w, n, k, false, threadCount()),
};
const transposed: Packer = {
  bytes: straight.bytes,
  pack: (dtype, ptr, w, n, k) => packB(dtype, ptr, w, n, k, true, threadCount()),
};

/**
 * op(B) of weight tensor w packed for a product with n output columns and depth k (w holds k x n
 * values: (k, n) straight, or (n, k) transposed), current for w's version: its pointer, or 0 when
 * the caller should use w itself (the first call of a version, see above).
 */
export function packedWeights(w: Tensor, isTransposed: boolean, n: number, k: number): number {
  return currentPacking(w, isTransposed ? transposed : straight, n, k);
}

/** w packed by `packer` for sizes n, k, current for w's version: its pointer, or 0 (see above). */
export function currentPacking(w: Tensor, packer: Packer, n: number, k: number): number {
  const held = w.attachment;
  if (held !== null && !(held instanceof PackedWeights)) return 0; // the slot holds something else: leave it
  let p = held;
  const version = w.version;
  if (p !== null && p.packer === packer && p.n === n && p.k === k) {
    if (p.packed === version) return p.ptr;
    if (p.seen !== version) {
      p.seen = version;
      return 0;
    }
  } else {
    // First use of w, or a use as another operand (reshaped, transposed): start over.
    p?.release();
    w.attachment = p = new PackedWeights(packer, n, k, w.dtype);
    p.seen = version;
    return 0;
  }
  if (p.ptr === 0) {
    // A packing only saves time: when memory is short, the caller runs on w itself and fails (or
    // not) on its own allocations, with its own name in the message.
    try {
      p.ptr = allocBytes(packer.bytes(p.dtype, n, k), "packed weights");
    } catch (error) {
      if (error instanceof RangeError) return 0;
      throw error;
    }
  }
  packer.pack(p.dtype, p.ptr, w.ptr, n, k);
  p.packed = version;
  return p.ptr;
}
