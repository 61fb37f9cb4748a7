// Average pooling over NCHW planes, over `real` (see real.ts), with PyTorch's nn.AvgPool2d
// semantics in floor mode (ceil_mode = False, no divisor_override):
//   Ho = floor((H + 2·ph - kh) / sh) + 1, Wo likewise; window (oh, ow) covers rows
//   [oh·sh - ph, oh·sh - ph + kh) and columns [ow·sw - pw, ow·sw - pw + kw), clipped to the plane;
//   out = (sum of the window's pixels) / count, count = kh·kw with count_include_pad (padding
//   zeros counted) or the number of real pixels in the window without it.
// Sums run in a fixed order, from 0, rows ascending then columns ascending, one division at the
// end (as PyTorch's CPU kernel); the SIMD paths give every output exactly that order, lane by
// lane, so they and the scalar twins in reference/avgpool.ts agree bit for bit.
//
// Global average pooling (nn.AdaptiveAvgPool2d(1)): out[p] = (sum of plane p) / (H·W), the sum in
// f64 in both dtypes, four lanes then the tail (see global_avgpool_forward).
//
// Every kernel takes `planes` consecutive planes (N·C, or a thread's share of them): planes are
// independent, so any split gives the same bits.
import { FLOAT32, LANES, SHIFT } from "./real";
import { endInside, firstInside, loadStrided } from "./window";

/** The divisor of window (hs.., ws..): see the header. */
@inline function divisor(hs: i32, ws: i32, H: i32, W: i32, kh: i32, kw: i32, ph: i32, pw: i32, countIncludePad: bool): i32 {
  if (countIncludePad) return (min(hs + kh, H + ph) - hs) * (min(ws + kw, W + pw) - ws);
  return (min(hs + kh, H) - max(hs, 0)) * (min(ws + kw, W) - max(ws, 0));
}

/** One output by the scalar loop: rows [h0, h1) of the plane, columns of the window at ws, clipped. */
@inline function windowAverage(plane: usize, W: i32, h0: i32, h1: i32, ws: i32, kw: i32, count: i32): real {
  const w0 = max(ws, 0), w1 = min(ws + kw, W);
  let acc: real = 0;
  for (let ih = h0; ih < h1; ih++) {
    const row = plane + (<usize>(ih * W) << SHIFT);
    for (let iw = w0; iw < w1; iw++) acc += load<real>(row + (<usize>iw << SHIFT));
  }
  return acc / <real>count;
}

/** LANES inside outputs from ow (all windows within the plane's columns), rows [h0, h1). */
@inline function insideAverages(plane: usize, W: i32, h0: i32, h1: i32, col: i32, kw: i32, stride2: bool, count: v128): v128 {
  let acc = v128.splat<real>(0);
  for (let ih = h0; ih < h1; ih++) {
    const row = plane + (<usize>(ih * W + col) << SHIFT);
    for (let kj = 0; kj < kw; kj++) acc = v128.add<real>(acc, loadStrided(row + (<usize>kj << SHIFT), stride2));
  }
  return v128.div<real>(acc, count);
}

/**
 * out (planes, Ho, Wo) = average pool of x (planes, H, W). Preconditions: kh, kw, sh, sw >= 1;
 * 0 <= ph <= kh / 2, 0 <= pw <= kw / 2 (PyTorch's rule: no window lies wholly in the padding);
 * Ho, Wo from the header's formula and >= 1. out must not alias x. Stride 1 and 2 run LANES
 * outputs at a time over the columns whose windows lie inside the plane; other strides and the
 * border columns use the scalar loop.
 */
export function avgpool_forward(
  out: usize, x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, countIncludePad: bool, Ho: i32, Wo: i32,
): void {
  const owL = firstInside(sw, pw, Wo);
  const owR = endInside(W, kw, sw, pw, Wo, owL);
  const simd = (sw == 1 || sw == 2) && owR - owL >= <i32>LANES;
  const L = <i32>LANES;
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * H * W) << SHIFT);
    for (let oh = 0; oh < Ho; oh++) {
      const hs = oh * sh - ph;
      const h0 = max(hs, 0), h1 = min(hs + kh, H);
      const o = out + (<usize>((p * Ho + oh) * Wo) << SHIFT);
      // Scalar columns: all of them, or those outside [owL, owR) (one loop, jumping the inside run).
      for (let ow = 0; ow < Wo; ow++) {
        if (simd && ow == owL) {
          ow = owR - 1; // the inside run goes to the vector loop below
          continue;
        }
        const ws = ow * sw - pw;
        store<real>(o + (<usize>ow << SHIFT), windowAverage(plane, W, h0, h1, ws, kw, divisor(hs, ws, H, W, kh, kw, ph, pw, countIncludePad)));
      }
      if (!simd) continue;
      // Inside windows all have the same divisor on this row; the last step overlaps the one before.
      const count = v128.splat<real>(<real>divisor(hs, owL * sw - pw, H, W, kh, kw, ph, pw, countIncludePad));
      let ow = owL;
      while (true) {
        if (ow + L > owR) ow = owR - L;
        v128.store(o + (<usize>ow << SHIFT), insideAverages(plane, W, h0, h1, ow * sw - pw, kw, sw == 2, count));
        ow += L;
        if (ow >= owR) break;
      }
    }
  }
}

/**
 * dx (planes, H, W) = the average-pool gradient, overwritten: dx[ih, iw] = the sum, over the
 * windows (oh, ow) that cover (ih, iw) in order of oh then ow, of dout[oh, ow] / count(oh, ow),
 * from 0 (pixels in no window get 0). dout: (planes, Ho, Wo); sizes as for avgpool_forward.
 * Windows that tile the plane (stride = kernel, no padding: AvgPool2d(k)) take a direct path
 * (each pixel in at most one window), SIMD for kw = 2; overlapping windows use the scalar gather.
 */
export function avgpool_backward(
  dx: usize, dout: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, countIncludePad: bool, Ho: i32, Wo: i32,
): void {
  if (sh == kh && sw == kw && ph == 0 && pw == 0) {
    backwardTiled(dx, dout, planes, H, W, kh, kw, Ho, Wo);
    return;
  }
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * H * W) << SHIFT);
    const g = dout + (<usize>(p * Ho * Wo) << SHIFT);
    for (let ih = 0; ih < H; ih++) {
      // Windows covering row ih: oh·sh - ph <= ih < oh·sh - ph + kh.
      const oh0 = max(0, ceilDiv(ih + ph - kh + 1, sh)), oh1 = min(Ho - 1, (ih + ph) / sh);
      for (let iw = 0; iw < W; iw++) {
        const ow0 = max(0, ceilDiv(iw + pw - kw + 1, sw)), ow1 = min(Wo - 1, (iw + pw) / sw);
        let acc: real = 0;
        for (let oh = oh0; oh <= oh1; oh++) {
          const hs = oh * sh - ph;
          const row = g + (<usize>(oh * Wo) << SHIFT);
          for (let ow = ow0; ow <= ow1; ow++) {
            acc += load<real>(row + (<usize>ow << SHIFT)) / <real>divisor(hs, ow * sw - pw, H, W, kh, kw, ph, pw, countIncludePad);
          }
        }
        store<real>(plane + (<usize>(ih * W + iw) << SHIFT), acc);
      }
    }
  }
}

/** ceil(a / b) for b >= 1 and any a (a may be negative). */
@inline function ceilDiv(a: i32, b: i32): i32 {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/** Stride = kernel, no padding: dx = 0 + dout / (kh·kw) on each window's pixels, 0 on the rows and columns no window reaches. */
function backwardTiled(dx: usize, dout: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, Ho: i32, Wo: i32): void {
  const count: real = <real>(kh * kw);
  const cv = v128.splat<real>(count);
  const zero = v128.splat<real>(0);
  const L = <i32>LANES;
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * H * W) << SHIFT);
    for (let oh = 0; oh < Ho; oh++) {
      const g = dout + (<usize>((p * Ho + oh) * Wo) << SHIFT);
      const top = plane + (<usize>(oh * kh * W) << SHIFT);
      let ow = 0;
      if (kw == 2) {
        for (; ow + L <= Wo; ow += L) {
          const v = v128.add<real>(zero, v128.div<real>(v128.load(g + (<usize>ow << SHIFT)), cv));
          const lo = FLOAT32 ? v128.shuffle<u32>(v, v, 0, 0, 1, 1) : v128.shuffle<u64>(v, v, 0, 0);
          const hi = FLOAT32 ? v128.shuffle<u32>(v, v, 2, 2, 3, 3) : v128.shuffle<u64>(v, v, 1, 1);
          for (let ki = 0; ki < kh; ki++) {
            const d = top + (<usize>(ki * W + 2 * ow) << SHIFT);
            v128.store(d, lo);
            v128.store(d, hi, 16);
          }
        }
      }
      for (; ow < Wo; ow++) {
        const v: real = <real>0 + load<real>(g + (<usize>ow << SHIFT)) / count;
        for (let ki = 0; ki < kh; ki++) {
          const d = top + (<usize>(ki * W + ow * kw) << SHIFT);
          for (let kj = 0; kj < kw; kj++) store<real>(d + (<usize>kj << SHIFT), v);
        }
      }
      // Columns past the last window.
      for (let ki = 0; ki < kh; ki++) {
        const row = top + (<usize>(ki * W) << SHIFT);
        for (let iw = Wo * kw; iw < W; iw++) store<real>(row + (<usize>iw << SHIFT), 0);
      }
    }
    // Rows past the last window.
    memory.fill(plane + (<usize>(Ho * kh * W) << SHIFT), 0, <usize>((H - Ho * kh) * W) << SHIFT);
  }
}

/** Σ of n values at x in f64: element i to lane i % 4 for the first 4·floor(n/4), lanes added ((l0 + l1) + l2) + l3, then the rest in order. */
@inline function sumF64(x: usize, n: i32): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << SHIFT));
    if (FLOAT32) {
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)));
    } else {
      lo = f64x2.add(lo, v);
      hi = f64x2.add(hi, v128.load(x + (<usize>i << SHIFT), 16));
    }
  }
  let total = ((f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + f64x2.extract_lane(hi, 0)) + f64x2.extract_lane(hi, 1);
  for (; i < n; i++) total += <f64>load<real>(x + (<usize>i << SHIFT));
  return total;
}

/** out[p] = (Σ x[p, :]) / HW, the sum in f64 (sumF64's order), divided in f64, rounded once. out: (planes), x: (planes, HW), HW >= 1. */
export function global_avgpool_forward(out: usize, x: usize, planes: i32, HW: i32): void {
  for (let p = 0; p < planes; p++) {
    store<real>(out + (<usize>p << SHIFT), <real>(sumF64(x + (<usize>(p * HW) << SHIFT), HW) / <f64>HW));
  }
}

/** dx[p, i] = dout[p] / HW (in `real`, as PyTorch). dx: (planes, HW), dout: (planes). */
export function global_avgpool_backward(dx: usize, dout: usize, planes: i32, HW: i32): void {
  for (let p = 0; p < planes; p++) {
    const v = load<real>(dout + (<usize>p << SHIFT)) / <real>HW;
    const s = v128.splat<real>(v);
    const plane = dx + (<usize>(p * HW) << SHIFT);
    let i = 0;
    for (; i + <i32>LANES <= HW; i += <i32>LANES) v128.store(plane + (<usize>i << SHIFT), s);
    for (; i < HW; i++) store<real>(plane + (<usize>i << SHIFT), v);
  }
}
