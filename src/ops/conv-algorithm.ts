// Which algorithm runs a convolution, chosen by its sizes alone (so the same choice, hence the same
// bits, in every runtime and for any thread count), in training and inference alike:
//   forward: Winograd's F(2x2, 3x3) where it pays (winogradPays: 3x3, stride 1, enough channels
//            and tiles), on weights transformed once per version; elsewhere the direct tiles, on
//            weights packed once per version;
//   backward: dx by F(2x2, 3x3) where the convolution that gives it pays (a stride-1 3x3 conv's dx
//            is dout convolved with the filters turned by 180 degrees, with padding 2 - pad), else
//            by the direct kernels together with dw; dw and db, when dx does not bring them, by
//            F(2x2, 3x3) where winogradWeightGradientPays (assembly/winograd-dw.ts), else by the
//            direct chunked sums (assembly/conv.ts), in the same chunks either way.
// Winograd's outputs differ from the direct sums by rounding (a few units in the last place:
// assembly/winograd.ts), each deterministic.
import type { Tensor } from "../core/tensor.js";
import type { DType } from "../core/dtype.js";
import {
  convBackward,
  convForward,
  convForwardWinograd,
  convInputGradientWinograd,
  convWeightGradientWinograd,
  winogradPays,
  winogradWeightGradientPays,
  type ConvSizes,
} from "./conv.js";
import { packedConvWeights, winogradConvWeights } from "./packed-conv-weights.js";

/** out = [relu]([bn](conv(x, w) + b)); pointers into wasm memory, sizes trusted (as convForward). */
export function convolve(out: number, x: number, w: Tensor, b: number, d: ConvSizes, relu: boolean, dtype: DType, bn = 0): void {
  if (winogradPays(d)) convForwardWinograd(out, x, w.ptr, winogradConvWeights(w, d.F, d.C), b, d, relu, dtype, bn);
  else convForward(out, x, w.ptr, b, d, relu, dtype, packedConvWeights(w, d.F, d.K), bn);
}

/**
 * dw (F, K) and db (F) overwritten with the sums over the batch, dx (N, C, H, W) with the input
 * gradient (skipped when dx is 0), as convBackward; dx and dw each by F(2x2, 3x3) where that
 * pays. A dx by the direct kernels brings dw with it (they share the im2col). With weightGrads
 * false (a frozen conv) dw and db are scratch the direct kernels may write, and are not computed
 * at all where they need not be.
 */
export function convolveBackward(dx: number, dw: number, db: number, dout: number, x: number, w: Tensor, d: ConvSizes, dtype: DType, weightGrads = true): void {
  const g = dx === 0 ? null : inputGradientSizes(d);
  if (dx !== 0 && (g === null || !winogradPays(g))) {
    convBackward(dx, dw, db, dout, x, w.ptr, d, dtype);
    return;
  }
  if (weightGrads) {
    if (winogradWeightGradientPays(d)) convWeightGradientWinograd(dw, db, dout, x, d, dtype);
    else convBackward(0, dw, db, dout, x, w.ptr, d, dtype);
  }
  if (g !== null) convInputGradientWinograd(dx, dout, w.ptr, g, dtype);
}

/** The sizes of the convolution that gives a stride-1 3x3 conv's dx (dout, F channels -> C filters), or null for other convs. */
export function inputGradientSizes(d: ConvSizes): ConvSizes | null {
  if (d.HH !== 3 || d.WW !== 3 || d.stride !== 1 || d.pad > 2) return null;
  const { N, C, H, W, F, Ho, Wo } = d;
  return { N, C: F, H: Ho, W: Wo, F: C, HH: 3, WW: 3, stride: 1, pad: 2 - d.pad, Ho: H, Wo: W, K: F * 9, P: H * W };
}
