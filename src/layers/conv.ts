// Convolution layer, NCHW, as im2col + GEMM or, for 3x3 stride-1 convs where it pays, Winograd's
// F(2x2, 3x3) (ops/conv-algorithm.ts; assembly/conv.ts and assembly/winograd.ts explain the
// schemes; ops/conv.ts splits them over threads). x: (N, C, H, W), w: (F, C, HH, WW), b: (F) ->
// out: (N, F, Ho, Wo) with
//   Ho = 1 + floor((H + 2·pad - HH) / stride),  Wo = 1 + floor((W + 2·pad - WW) / stride).
// When (H + 2·pad - HH) is not a multiple of the stride, the division FLOORS, as in PyTorch: the
// last rows/columns that no window reaches are ignored in forward and get zero gradient.
import { convolve, convolveBackward } from "../ops/conv-algorithm.js";
import { allOrNothing, checkSameDtype, checkShape, checkTensor, empty, MAX_TENSOR_SIZE, type Tensor } from "../core/tensor.js";
import { checkInteger, checkOptions, shapeString } from "../core/validate.js";
import { checkCache } from "./linear.js";

/** The course's conv_param: stride and zero padding of Conv.forward (both axes). */
export interface ConvParam {
  /** Step between windows, an integer >= 1. Default 1. */
  stride?: number;
  /** Zero padding on every side, an integer >= 0. Default 0. */
  pad?: number;
}

/** Every size a conv pass needs, checked once. K = C·HH·WW (a cols row), P = Ho·Wo (a cols column). */
export interface ConvDims {
  N: number;
  C: number;
  H: number;
  W: number;
  F: number;
  HH: number;
  WW: number;
  stride: number;
  pad: number;
  Ho: number;
  Wo: number;
  K: number;
  P: number;
}

/** What backward needs: the forward inputs by reference. x: (N, C, H, W), w: (F, C, HH, WW), b: (F) */
export interface ConvCache {
  /** The forward input, (N, C, H, W). */
  x: Tensor;
  /** The filters, (F, C, HH, WW). */
  w: Tensor;
  /** The biases, (F). */
  b: Tensor;
  /** The forward's convParam with its defaults filled in. */
  convParam: {
    /** Step between windows (>= 1). */
    stride: number;
    /** Zero padding on every side (>= 0). */
    pad: number;
  };
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
  checkSameDtype(fn, [
    [`${prefix}x`, x],
    [`${prefix}w`, w],
    [`${prefix}b`, b],
  ]);
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

/**
 * out = conv(x, w) + b, or relu(conv(x, w) + b) with `relu`. out: (N, F, Ho, Wo). By Winograd's
 * F(2x2, 3x3) where it pays (ops/conv-algorithm.ts), else the fused direct kernel (conv_forward:
 * 8-pixel panels of im2col packed from a zero-padded copy of the images, so forward needs no cols
 * matrix), split over threads by images (ops/conv.ts), on w transformed or packed once per
 * version (ops/packed-conv-weights.ts). Shapes are trusted (check them once with convDims).
 * float64 runs the same kernels from the float64 module, split the same way. bn: 0, or a batch
 * norm in test mode applied before the ReLU (convBatchNormTable's table).
 */
export function convForwardInto(out: Tensor, x: Tensor, w: Tensor, b: Tensor, d: ConvDims, relu = false, bn = 0): void {
  convolve(out.ptr, x.ptr, w, b.ptr, d, relu, x.dtype, bn);
}

/**
 * dw = sum_n dout[n] · cols[n]ᵀ, db = sum over n and positions of dout, dx = col2im(wᵀ · dout[n]),
 * or by F(2x2, 3x3) where that pays (ops/conv-algorithm.ts), skipped when dx is null (e.g. for a
 * first layer). dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F), dout: (N, F, Ho, Wo); all three
 * are overwritten. The sums over images run in chunks
 * fixed by the sizes (ops/conv.ts), so any thread count gives the same bits; the im2col scratch
 * is each task's own.
 */
export function convBackwardInto(dx: Tensor | null, dw: Tensor, db: Tensor, dout: Tensor, x: Tensor, w: Tensor, d: ConvDims): void {
  convolveBackward(dx === null ? 0 : dx.ptr, dw.ptr, db.ptr, dout.ptr, x.ptr, w, d, x.dtype);
}

const convUnguarded = {
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
    checkSameDtype(fn, [
      ["dout", dout],
      ["cache.x", x],
    ]);
    const dx = empty(x.shape, fn, x.dtype);
    const dw = empty(w.shape, fn, x.dtype);
    const db = empty([d.F], fn, x.dtype);
    convBackwardInto(dx, dw, db, dout, x, w, d);
    return [dx, dw, db];
  },
};

// Each method under allOrNothing; a plain object, so unused it tree-shakes away (see linear.ts).
/**
 * The convolution layer, NCHW, with an explicit forward and backward (the course's
 * conv_forward_fast / conv_backward_fast; PyTorch's F.conv2d): x (N, C, H, W), w (F, C, HH, WW),
 * b (F) -> out (N, F, Ho, Wo), Ho = 1 + floor((H + 2·pad - HH) / stride). A forward or backward
 * that throws frees what it allocated. For composed models use tl.nn.conv2d.
 *
 * @namespace
 */
export const Conv: typeof convUnguarded = {
  forward: (...args) => allOrNothing(() => convUnguarded.forward(...args)),
  backward: (...args) => allOrNothing(() => convUnguarded.backward(...args)),
};
