// The conv forward of inference (a model's loss(X): test mode, and no backward follows): by
// Winograd's F(2x2, 3x3) where it pays (winogradPays: 3x3, stride 1, enough channels and tiles),
// on weights transformed once per version; elsewhere the direct tiles, on weights packed once per
// version. Training's forward always takes the direct tiles, whose sums the backward and the
// first release's pipeline share; inference scores differ from them by rounding only (a few
// units in the last place: assembly/winograd.ts), the same bits on every runtime and thread count.
import type { Tensor } from "../core/tensor.js";
import type { DType } from "../core/dtype.js";
import { convForward, convForwardWinograd, winogradPays, type ConvSizes } from "./conv.js";
import { packedConvWeights, winogradConvWeights } from "./packed-conv-weights.js";

/** out = [relu]([bn](conv(x, w) + b)) for inference; pointers into wasm memory, sizes trusted (as convForward). */
export function convInference(out: number, x: number, w: Tensor, b: number, d: ConvSizes, relu: boolean, dtype: DType, bn = 0): void {
  if (winogradPays(d)) convForwardWinograd(out, x, w.ptr, winogradConvWeights(w, d.F, d.C), b, d, relu, dtype, bn);
  else convForward(out, x, w.ptr, b, d, relu, dtype, packedConvWeights(w, d.F, d.K), bn);
}
