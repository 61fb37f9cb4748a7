// Convolution layer, NCHW, as im2col + GEMM, one image at a time (assembly/conv.ts explains the
// scheme). x: (N, C, H, W), w: (F, C, HH, WW), b: (F) -> out: (N, F, Ho, Wo) with
//   Ho = 1 + floor((H + 2·pad - HH) / stride),  Wo = 1 + floor((W + 2·pad - WW) / stride).
// When (H + 2·pad - HH) is not a multiple of the stride, the division FLOORS, as in PyTorch: the
// last rows/columns that no window reaches are ignored in forward and get zero gradient.
import { gemm, gemmScratch } from "../ops/gemm.js";
import { allocBytes, freeBytes, kernels } from "../runtime.js";
import { allOrNothingMethods, checkSameDtype, checkShape, checkTensor, empty, MAX_TENSOR_SIZE, type DType, type Tensor } from "../tensor.js";
import { checkInteger, checkOptions, shapeString } from "../validate.js";
import { checkCache } from "./linear.js";

export interface ConvParam {
  /** Step between windows, an integer >= 1. Default 1. */
  stride?: number;
  /** Zero padding on every side, an integer >= 0. Default 0. */
  pad?: number;
}

/** Every size a conv pass needs, checked once. K = C·HH·WW (a cols row), P = Ho·Wo (a cols column). */
export interface ConvDims {
  N: number; C: number; H: number; W: number;
  F: number; HH: number; WW: number;
  stride: number; pad: number;
  Ho: number; Wo: number;
  K: number; P: number;
}

/** What backward needs: the forward inputs by reference. x: (N, C, H, W), w: (F, C, HH, WW), b: (F) */
export interface ConvCache {
  x: Tensor;
  w: Tensor;
  b: Tensor;
  convParam: { stride: number; pad: number };
}

/**
 * The largest stride or pad accepted: no tensor dimension is larger, and the bound keeps the
 * kernels' i32 index arithmetic (oh·stride - pad + ki, H + 2·pad) from overflowing.
 */
export const MAX_STRIDE_OR_PAD = MAX_TENSOR_SIZE;

/** An integer in [min, MAX_STRIDE_OR_PAD], for strides and padding. */
export function checkStep(fn: string, name: string, value: unknown, min: number): number {
  checkInteger(fn, name, value, min);
  if ((value as number) > MAX_STRIDE_OR_PAD) {
    throw new RangeError(`${fn}: ${name} must be at most ${MAX_STRIDE_OR_PAD}, larger than any tensor dimension (got ${value})`);
  }
  return value as number;
}

/** Checks convParam: integers stride >= 1 and pad >= 0 (defaults 1 and 0). */
export function checkConvParam(fn: string, convParam: unknown, name = "convParam"): { stride: number; pad: number } {
  const o = checkOptions(fn, name, convParam, ["stride", "pad"]);
  const stride = o.stride === undefined ? 1 : checkStep(fn, `${name}.stride`, o.stride, 1);
  const pad = o.pad === undefined ? 0 : checkStep(fn, `${name}.pad`, o.pad, 0);
  return { stride, pad };
}

/** Checks x, w, b and convParam agree and the output is non-empty; returns the sizes. `prefix` as for linearDims. */
export function convDims(fn: string, x: Tensor, w: Tensor, b: Tensor, convParam: unknown, prefix = ""): ConvDims {
  checkTensor(fn, `${prefix}x`, x, 4);
  checkTensor(fn, `${prefix}w`, w, 4);
  checkTensor(fn, `${prefix}b`, b, 1);
  const { stride, pad } = checkConvParam(fn, convParam, `${prefix}convParam`);
  const [N, C, H, W] = x.shape;
  const [F, Cw, HH, WW] = w.shape;
  const xs = shapeString(x.shape);
  const ws = shapeString(w.shape);
  if (N === 0 || C === 0 || H === 0 || W === 0) throw new RangeError(`${fn}: ${prefix}x must have no zero-sized dimension (N, C, H, W) (got ${xs})`);
  if (F === 0 || HH === 0 || WW === 0) throw new RangeError(`${fn}: ${prefix}w must have no zero-sized dimension (F, C, HH, WW) (got ${ws})`);
  if (Cw !== C) throw new RangeError(`${fn}: ${prefix}w has ${Cw} input channels (shape ${ws}) but ${prefix}x has ${C} (shape ${xs})`);
  checkShape(fn, `${prefix}b`, b, [F], `one bias per filter of ${prefix}w ${ws}`);
  checkSameDtype(fn, [[`${prefix}x`, x], [`${prefix}w`, w], [`${prefix}b`, b]]);
  if (HH > H + 2 * pad || WW > W + 2 * pad) {
    throw new RangeError(
      `${fn}: the ${HH}x${WW} filter (w ${ws}) is larger than the padded input ${H + 2 * pad}x${W + 2 * pad} (x ${xs}, pad ${pad}): the output would be empty`,
    );
  }
  const Ho = 1 + Math.floor((H + 2 * pad - HH) / stride);
  const Wo = 1 + Math.floor((W + 2 * pad - WW) / stride);
  const K = C * HH * WW;
  const P = Ho * Wo;
  return { N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, K, P };
}

/** True when cols would equal the image itself (1x1 filter, stride 1, no pad): no im2col needed. */
export function convIsPointwise(d: ConvDims): boolean {
  return d.HH === 1 && d.WW === 1 && d.stride === 1 && d.pad === 0;
}

/** Shape of the im2col scratch a pass needs: (K, P), or null for a pointwise conv. */
export function convColsShape(d: ConvDims): [number, number] | null {
  return convIsPointwise(d) ? null : [d.K, d.P];
}

function colsPtr(fn: string, cols: Tensor | null, d: ConvDims, dtype: DType): number {
  if (convIsPointwise(d)) return 0;
  if (cols === null || cols.size < d.K * d.P || cols.dtype !== dtype) {
    throw new RangeError(`${fn}: cols scratch must hold ${d.K}x${d.P} floats (${dtype}) (got ${cols === null ? "null" : `${cols.dtype} ${shapeString(cols.shape)}`})`);
  }
  return cols.ptr;
}

/**
 * out = conv(x, w) + b, or relu(conv(x, w) + b) with `relu`. out: (N, F, Ho, Wo). One fused
 * kernel for the whole batch (f32_conv_forward: the im2col panels are gathered straight from x,
 * so forward needs no cols scratch). Shapes are trusted (check them once with convDims).
 */
export function convForwardInto(out: Tensor, x: Tensor, w: Tensor, b: Tensor, d: ConvDims, relu = false): void {
  if (x.dtype === "float64") {
    convForwardF64(out, x, w, b, d, relu);
    return;
  }
  const k = kernels();
  const { N, C, H, W, F, HH, WW, stride, pad, Ho, Wo } = d;
  const work = gemmScratch(k.f32_conv_forward_work_bytes(F, C, H, W, HH, WW, pad));
  k.f32_conv_forward(out.ptr, x.ptr, w.ptr, b.ptr, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, work);
}

// float64 forward: per image, im2col into a scratch grown once and reused (steps stay
// allocation-free), out[n] = b (per filter row), then out[n] += w (F, K) · cols (K, P).
let f64ColsPtr = 0;
let f64ColsBytes = 0;

function f64ColsScratch(bytes: number): number {
  if (bytes <= f64ColsBytes) return f64ColsPtr;
  if (f64ColsPtr) freeBytes(f64ColsPtr);
  f64ColsPtr = 0;
  f64ColsBytes = 0;
  f64ColsPtr = allocBytes(bytes, "Conv.forward (float64 im2col scratch)");
  f64ColsBytes = bytes;
  return f64ColsPtr;
}

function convForwardF64(out: Tensor, x: Tensor, w: Tensor, b: Tensor, d: ConvDims, relu: boolean): void {
  const k = kernels();
  const { N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, K, P } = d;
  const cols = convIsPointwise(d) ? 0 : f64ColsScratch(K * P * 8);
  const xP = x.ptr, wP = w.ptr, bP = b.ptr, oP = out.ptr;
  for (let n = 0; n < N; n++) {
    const xn = xP + n * C * H * W * 8;
    const on = oP + n * F * P * 8;
    if (cols) k.f64_im2col(cols, xn, C, H, W, HH, WW, stride, pad, Ho, Wo);
    k.f64_fill_rows(on, bP, F, P);
    gemm("nn", on, wP, cols || xn, F, P, K, { accumulate: true, dtype: "float64" });
  }
  if (relu) k.f64_relu(oP, oP, out.size);
}

/**
 * dw = sum_n dout[n] · cols[n]ᵀ, db = sum over n and positions of dout, dx = col2im(wᵀ · dout[n])
 * (skipped when dx is null, e.g. for a first layer). dx: (N, C, H, W), dw: (F, C, HH, WW),
 * db: (F), dout: (N, F, Ho, Wo); all three are overwritten. cols: scratch of K·P floats, reused
 * for the image's columns and then for their gradient.
 */
export function convBackwardInto(
  dx: Tensor | null, dw: Tensor, db: Tensor, dout: Tensor, x: Tensor, w: Tensor, cols: Tensor | null, d: ConvDims,
): void {
  const k = kernels();
  const { N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, K, P } = d;
  const dtype = x.dtype;
  const f64 = dtype === "float64";
  const bytes = x.itemBytes;
  const colsP = colsPtr("convBackwardInto", cols, d, dtype);
  const xP = x.ptr, wP = w.ptr, dwP = dw.ptr, doutP = dout.ptr;
  const dxP = dx === null ? 0 : dx.ptr;
  const im2col = f64 ? k.f64_im2col : k.f32_im2col;
  const col2im = f64 ? k.f64_col2im : k.f32_col2im;
  (f64 ? k.f64_conv_bias_backward : k.f32_conv_bias_backward)(db.ptr, doutP, N, F, P);
  for (let n = 0; n < N; n++) {
    const xn = xP + n * C * H * W * bytes;
    const gn = doutP + n * F * P * bytes;
    let src = xn;
    if (colsP) {
      im2col(colsP, xn, C, H, W, HH, WW, stride, pad, Ho, Wo);
      src = colsP;
    }
    // dw (F, K) (+)= dout[n] (F, P) · cols (K, P)ᵀ
    gemm("nt", dwP, gn, src, F, K, P, { accumulate: n > 0, dtype });
    if (!dxP) continue;
    const dxn = dxP + n * C * H * W * bytes;
    if (colsP) {
      // dcols (K, P) = w (F, K)ᵀ · dout[n] (F, P), then scattered back onto the image
      gemm("tn", colsP, wP, gn, K, P, F, { dtype });
      col2im(dxn, colsP, C, H, W, HH, WW, stride, pad, Ho, Wo);
    } else {
      gemm("tn", dxn, wP, gn, K, P, F, { dtype });
    }
  }
}

function colsFor(fn: string, d: ConvDims, dtype: DType): Tensor | null {
  const shape = convColsShape(d);
  return shape === null ? null : empty(shape, `${fn} (im2col scratch)`, dtype);
}

export const Conv = allOrNothingMethods({
  /**
   * out = conv(x, w) + b with zero padding and stride. x: (N, C, H, W), w: (F, C, HH, WW), b: (F),
   * convParam { stride = 1, pad = 0 } -> out: (N, F, Ho, Wo) (floor division, see the top of the file).
   */
  forward(x: Tensor, w: Tensor, b: Tensor, convParam: ConvParam = {}): [Tensor, ConvCache] {
    const fn = "Conv.forward";
    const d = convDims(fn, x, w, b, convParam);
    const out = empty([d.N, d.F, d.Ho, d.Wo], fn, x.dtype);
    convForwardInto(out, x, w, b, d);
    return [out, { x, w, b, convParam: { stride: d.stride, pad: d.pad } }];
  },

  /** Returns [dx (N, C, H, W), dw (F, C, HH, WW), db (F)]. dout: (N, F, Ho, Wo) */
  backward(dout: Tensor, cache: ConvCache): [Tensor, Tensor, Tensor] {
    const fn = "Conv.backward";
    const { x, w, b, convParam } = checkCache(fn, cache, ["x", "w", "b", "convParam"]) as unknown as ConvCache;
    const d = convDims(fn, x, w, b, convParam, "cache.");
    checkTensor(fn, "dout", dout);
    checkShape(fn, "dout", dout, [d.N, d.F, d.Ho, d.Wo], "the forward output's shape");
    checkSameDtype(fn, [["dout", dout], ["cache.x", x]]);
    const dx = empty(x.shape, fn, x.dtype);
    const dw = empty(w.shape, fn, x.dtype);
    const db = empty([d.F], fn, x.dtype);
    const cols = colsFor(fn, d, x.dtype);
    try {
      convBackwardInto(dx, dw, db, dout, x, w, cols, d);
    } finally {
      cols?.dispose();
    }
    return [dx, dw, db];
  },
});
