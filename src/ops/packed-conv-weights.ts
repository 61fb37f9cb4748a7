// Conv weights packed once per version (issue 22), as packed-weights.ts packs a Linear layer's
// (the same rules: a version is packed the second time a call sees it, a stale packing is never
// read, the buffer is freed with the tensor, a packing that cannot get memory is skipped): w (F,
// C, HH, WW) in conv_forward_pack's layout (4 filters interleaved), read by the conv forward
// instead of packing w on every call (at batch 1 on a 4x4 map the packing moves as many bytes as
// the product reads). Packing is a copy: the bits of the unpacked path. Convs that run by Winograd's
// F(2x2, 3x3) keep their transformed weights the same way (winogradConvWeights).
import { bytesPerElement } from "../core/dtype.js";
import { CONV_KERNELS, useFamily } from "../core/kernel-families.js";
import { realKernels } from "../core/runtime.js";
import type { Tensor } from "../core/tensor.js";
import { currentPacking, type Packer } from "./packed-weights.js";

const conv: Packer = {
  bytes: (dtype, F, K) => realKernels(dtype).conv_forward_packed_reals(F, K) * bytesPerElement(dtype),
  pack: (dtype, ptr, w, F, K) => realKernels(dtype).conv_forward_pack(ptr, w, F, K),
};

/**
 * Conv weights w (F filters of K = C·HH·WW values) packed for the forward tiles, current for w's
 * version: its pointer, or 0 when the caller should pack them itself (the first call of a version).
 */
export function packedConvWeights(w: Tensor, F: number, K: number): number {
  useFamily(CONV_KERNELS);
  return currentPacking(w, conv, F, K);
}

const winograd: Packer = {
  bytes: (dtype, F, C) => realKernels(dtype).conv3x3_winograd_packed_reals(F, C) * bytesPerElement(dtype),
  pack: (dtype, ptr, w, F, C) => realKernels(dtype).conv3x3_winograd_pack(ptr, w, F, C),
};

/**
 * 3x3 conv weights w (F, C, 3, 3) transformed for conv3x3_winograd (G w Gᵀ per filter and
 * channel), current for w's version: its pointer, or 0 when the caller should transform them
 * itself (the first call of a version).
 */
export function winogradConvWeights(w: Tensor, F: number, C: number): number {
  useFamily(CONV_KERNELS);
  return currentPacking(w, winograd, F, C);
}
