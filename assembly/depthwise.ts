// Depthwise convolution over `real` (see real.ts): nn.Conv2d(C, C, (kh, kw), stride, padding,
// groups = C), channel multiplier 1, NCHW. weight w: (C, 1, kh, kw) = (C, kh·kw), bias b: (C) or
// none. Output Ho = floor((H + 2·ph - kh) / sh) + 1, Wo likewise.
//
//   out[n, c, oh, ow] = b[c] + Σ_{ki, kj} w[c, ki, kj] · x[n, c, oh·sh - ph + ki, ow·sw - pw + kj]
//
// Summation order (the contract the scalar twins in reference/depthwise.ts follow):
//   forward: from b[c] (0 without bias), taps in order ki then kj ascending, each product rounded
//     and then added (no fused multiply-add); taps in the zero padding are skipped.
//   dx: dx[n, c, ih, iw] = Σ over the taps (ki, kj) that reach (ih, iw) from an output, in order
//     ki then kj ascending, of w[c, ki, kj] · dout[n, c, oh, ow], from 0.
//   dw, db (sums over the batch, "Backward in chunks" below): per chunk of images, each tap's sum
//     (and db's) is kept in LANES lane accumulators for the output columns the SIMD loop covers and
//     one scalar accumulator for the others, both from 0, over images, then rows, then columns,
//     ascending; the chunk's value is ((l0 + l1) + l2) + l3 (float32; l0 + l1 in float64) plus the
//     scalar. The chunks are then added in chunk order.
//
// SIMD: LANES output columns at a time, over the columns whose windows lie inside the image (no
// padding tap), for stride 1 (consecutive loads) and stride 2 (loadEven: two loads and a
// shuffle); 3x3 has its own loops with the nine weights held in registers. Border columns, other
// strides and narrow images (fewer inside columns than LANES) use the scalar loops, which follow
// the same order, so every output gets the same bits whichever path computes it.
import { FLOAT32, LANES, SHIFT } from "./real";
import { endInside, firstInside, loadEven, loadStrided } from "./window";

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << SHIFT);
}

// ---------------------------------------------------------------------------------------------
// Forward.

/** One output by the scalar loop: taps rows [ki0, ki1) of the window at (hb, ws) = (oh·sh - ph, ow·sw - pw). */
@inline function outputScalar(plane: usize, W: i32, wc: usize, kw: i32, ki0: i32, ki1: i32, hb: i32, ws: i32, bias: real): real {
  const kj0 = max(0, -ws), kj1 = min(kw, W - ws);
  let acc = bias;
  for (let ki = ki0; ki < ki1; ki++) {
    const row = at(plane, (hb + ki) * W + ws);
    const wr = at(wc, ki * kw);
    for (let kj = kj0; kj < kj1; kj++) acc += load<real>(at(wr, kj)) * load<real>(at(row, kj));
  }
  return acc;
}

/** LANES inside outputs from input column `col` = ow·sw - pw, any kernel: taps rows [ki0, ki1). */
@inline function outputsGeneral(plane: usize, W: i32, wc: usize, kw: i32, ki0: i32, ki1: i32, hb: i32, col: i32, stride2: bool, bias: v128): v128 {
  let acc = bias;
  for (let ki = ki0; ki < ki1; ki++) {
    const row = at(plane, (hb + ki) * W + col);
    const wr = at(wc, ki * kw);
    for (let kj = 0; kj < kw; kj++) {
      acc = v128.add<real>(acc, v128.mul<real>(v128.splat<real>(load<real>(at(wr, kj))), loadStrided(at(row, kj), stride2)));
    }
  }
  return acc;
}

/** acc + the three taps of one 3x3 weight row over LANES outputs, stride 1: input columns row[0 .. LANES + 2). */
@inline function taps3s1(acc: v128, row: usize, w0: v128, w1: v128, w2: v128): v128 {
  acc = v128.add<real>(acc, v128.mul<real>(w0, v128.load(row)));
  acc = v128.add<real>(acc, v128.mul<real>(w1, v128.load(row, 1 << SHIFT)));
  return v128.add<real>(acc, v128.mul<real>(w2, v128.load(row, 2 << SHIFT)));
}

/** The same for stride 2: input columns row[0 .. 2·LANES]. */
@inline function taps3s2(acc: v128, row: usize, w0: v128, w1: v128, w2: v128): v128 {
  // Columns row[0 .. 2·LANES]: even lanes are tap 0, odd lanes tap 1, even lanes from row[2] tap 2.
  const a = v128.load(row), b = v128.load(row, LANES << SHIFT);
  const even = FLOAT32 ? v128.shuffle<u32>(a, b, 0, 2, 4, 6) : v128.shuffle<u64>(a, b, 0, 2);
  const odd = FLOAT32 ? v128.shuffle<u32>(a, b, 1, 3, 5, 7) : v128.shuffle<u64>(a, b, 1, 3);
  acc = v128.add<real>(acc, v128.mul<real>(w0, even));
  acc = v128.add<real>(acc, v128.mul<real>(w1, odd));
  return v128.add<real>(acc, v128.mul<real>(w2, loadEven(row + (2 << SHIFT))));
}

/**
 * 3x3 rows with all three taps rows inside the image: LANES outputs per step over [owL, owR), the
 * last step overlapping the one before when the count is not a multiple of LANES.
 */
@inline function row3x3(
  o: usize, r0: usize, r1: usize, r2: usize, stride2: bool, pw: i32, owL: i32, owR: i32, bias: v128,
  w00: v128, w01: v128, w02: v128, w10: v128, w11: v128, w12: v128, w20: v128, w21: v128, w22: v128,
): void {
  const L = <i32>LANES;
  let ow = owL;
  while (true) {
    if (ow + L > owR) ow = owR - L;
    const col = stride2 ? 2 * ow - pw : ow - pw;
    let acc = bias;
    if (!stride2) {
      acc = taps3s1(acc, at(r0, col), w00, w01, w02);
      acc = taps3s1(acc, at(r1, col), w10, w11, w12);
      acc = taps3s1(acc, at(r2, col), w20, w21, w22);
    } else {
      acc = taps3s2(acc, at(r0, col), w00, w01, w02);
      acc = taps3s2(acc, at(r1, col), w10, w11, w12);
      acc = taps3s2(acc, at(r2, col), w20, w21, w22);
    }
    v128.store(at(o, ow), acc);
    ow += L;
    if (ow >= owR) break;
  }
}

/** One plane's outputs (Ho, Wo) from its input (H, W), channel weights wc (kh·kw) and bias. */
function forwardPlane(
  o: usize, plane: usize, wc: usize, bias: real, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32,
): void {
  const L = <i32>LANES;
  const owL = firstInside(sw, pw, Wo);
  const owR = endInside(W, kw, sw, pw, Wo, owL);
  const simd = (sw == 1 || sw == 2) && owR - owL >= L;
  const fast3 = simd && kh == 3 && kw == 3;
  const bv = v128.splat<real>(bias);
  // The nine 3x3 weights, splatted once per plane (read only for a 3x3 kernel).
  const wk = fast3 ? wc : 0;
  const w00 = v128.splat<real>(fast3 ? load<real>(wk) : 0), w01 = v128.splat<real>(fast3 ? load<real>(at(wk, 1)) : 0);
  const w02 = v128.splat<real>(fast3 ? load<real>(at(wk, 2)) : 0), w10 = v128.splat<real>(fast3 ? load<real>(at(wk, 3)) : 0);
  const w11 = v128.splat<real>(fast3 ? load<real>(at(wk, 4)) : 0), w12 = v128.splat<real>(fast3 ? load<real>(at(wk, 5)) : 0);
  const w20 = v128.splat<real>(fast3 ? load<real>(at(wk, 6)) : 0), w21 = v128.splat<real>(fast3 ? load<real>(at(wk, 7)) : 0);
  const w22 = v128.splat<real>(fast3 ? load<real>(at(wk, 8)) : 0);
  for (let oh = 0; oh < Ho; oh++) {
    const hb = oh * sh - ph;
    const ki0 = max(0, -hb), ki1 = min(kh, H - hb);
    const orow = at(o, oh * Wo);
    if (!simd) {
      for (let ow = 0; ow < Wo; ow++) store<real>(at(orow, ow), outputScalar(plane, W, wc, kw, ki0, ki1, hb, ow * sw - pw, bias));
      continue;
    }
    for (let ow = 0; ow < owL; ow++) store<real>(at(orow, ow), outputScalar(plane, W, wc, kw, ki0, ki1, hb, ow * sw - pw, bias));
    if (fast3 && ki0 == 0 && ki1 == 3) {
      const r0 = at(plane, hb * W);
      if (sw == 1) row3x3(orow, r0, at(r0, W), at(r0, 2 * W), false, pw, owL, owR, bv, w00, w01, w02, w10, w11, w12, w20, w21, w22);
      else row3x3(orow, r0, at(r0, W), at(r0, 2 * W), true, pw, owL, owR, bv, w00, w01, w02, w10, w11, w12, w20, w21, w22);
    } else {
      let ow = owL;
      while (true) {
        if (ow + L > owR) ow = owR - L;
        v128.store(at(orow, ow), outputsGeneral(plane, W, wc, kw, ki0, ki1, hb, ow * sw - pw, sw == 2, bv));
        ow += L;
        if (ow >= owR) break;
      }
    }
    for (let ow = owR; ow < Wo; ow++) store<real>(at(orow, ow), outputScalar(plane, W, wc, kw, ki0, ki1, hb, ow * sw - pw, bias));
  }
}

/**
 * out (N, C, Ho, Wo) = depthwise conv of x (N, C, H, W) with w (C, kh·kw) and b (C) (b = 0: no
 * bias), for planes p = n·C + c in [p0, p1) only (a thread's share; pointers are to the whole
 * tensors). Preconditions: kh, kw, sh, sw >= 1, ph, pw >= 0, Ho, Wo >= 1 from the header's formula;
 * out must not alias x.
 */
export function depthwise_forward(
  out: usize, x: usize, w: usize, b: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32, p0: i32, p1: i32,
): void {
  const K = kh * kw;
  for (let p = p0; p < p1; p++) {
    const c = p % C;
    forwardPlane(at(out, p * Ho * Wo), at(x, p * H * W), at(w, c * K), b ? load<real>(at(b, c)) : 0, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo);
  }
}

// ---------------------------------------------------------------------------------------------
// dx: the gather of each input pixel's taps.

/** dx at (ih, iw) by the scalar gather: taps in order ki, kj, from 0. g: the plane of dout. */
@inline function dxScalar(g: usize, wc: usize, ih: i32, iw: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32): real {
  let acc: real = 0;
  for (let ki = 0; ki < kh; ki++) {
    const t = ih + ph - ki; // oh·sh
    if (t < 0) break;
    const oh = t / sh;
    if (oh * sh != t || oh >= Ho) continue;
    const row = at(g, oh * Wo);
    const wr = at(wc, ki * kw);
    for (let kj = 0; kj < kw; kj++) {
      const u = iw + pw - kj; // ow·sw
      if (u < 0) break;
      const ow = u / sw;
      if (ow * sw != u || ow >= Wo) continue;
      acc += load<real>(at(wr, kj)) * load<real>(at(row, ow));
    }
  }
  return acc;
}

/** Stride 1, LANES pixels from iw whose every tap column is an output column: taps in order ki, kj. */
@inline function dxInside1(g: usize, wc: usize, ih: i32, iw: i32, kh: i32, kw: i32, sh: i32, ph: i32, pw: i32, Ho: i32, Wo: i32): v128 {
  let acc = v128.splat<real>(0);
  for (let ki = 0; ki < kh; ki++) {
    const t = ih + ph - ki;
    if (t < 0) break;
    const oh = t / sh;
    if (oh * sh != t || oh >= Ho) continue;
    const row = at(g, oh * Wo + iw + pw); // tap kj reads columns iw + pw - kj ..
    const wr = at(wc, ki * kw);
    for (let kj = 0; kj < kw; kj++) {
      acc = v128.add<real>(acc, v128.mul<real>(v128.splat<real>(load<real>(at(wr, kj))), v128.load(row - (<usize>kj << SHIFT))));
    }
  }
  return acc;
}

/**
 * Stride 2 (columns), 2·LANES pixels from iw = 2m: the even pixels' taps are kj ≡ pw (mod 2),
 * reading output columns m + (pw - kj)/2 + lane; the odd ones' kj ≡ pw + 1, columns
 * m + (pw + 1 - kj)/2 + lane. Both in order ki, kj; stored interleaved.
 */
@inline function dxInside2(d: usize, g: usize, wc: usize, ih: i32, m: i32, kh: i32, kw: i32, sh: i32, ph: i32, pw: i32, Ho: i32, Wo: i32): void {
  let even = v128.splat<real>(0), odd = v128.splat<real>(0);
  for (let ki = 0; ki < kh; ki++) {
    const t = ih + ph - ki;
    if (t < 0) break;
    const oh = t / sh;
    if (oh * sh != t || oh >= Ho) continue;
    const row = at(g, oh * Wo + m);
    const wr = at(wc, ki * kw);
    for (let kj = 0; kj < kw; kj++) {
      const wv = v128.splat<real>(load<real>(at(wr, kj)));
      if (((pw - kj) & 1) == 0) even = v128.add<real>(even, v128.mul<real>(wv, v128.load(at(row, (pw - kj) >> 1))));
      else odd = v128.add<real>(odd, v128.mul<real>(wv, v128.load(at(row, (pw + 1 - kj) >> 1))));
    }
  }
  if (FLOAT32) {
    v128.store(d, v128.shuffle<u32>(even, odd, 0, 4, 1, 5));
    v128.store(d, v128.shuffle<u32>(even, odd, 2, 6, 3, 7), 16);
  } else {
    v128.store(d, v128.shuffle<u64>(even, odd, 0, 2));
    v128.store(d, v128.shuffle<u64>(even, odd, 1, 3), 16);
  }
}

/** One plane of dx (H, W) from its dout plane g (Ho, Wo) and the channel's weights wc. */
function dxPlane(d: usize, g: usize, wc: usize, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32): void {
  const L = <i32>LANES;
  // Stride 1: pixels iw in [kw - 1 - pw, Wo - pw) have every tap column inside [0, Wo).
  const lo1 = max(0, kw - 1 - pw), hi1 = min(W, Wo - pw);
  // Stride 2: blocks m (pixels 2m .. 2m + 2L - 1) with m in [mLo, mHi] have every tap inside.
  // Even pixels read columns m + (pw - kj)/2 for kj ≡ pw, odd ones m + (pw + 1 - kj)/2 for kj ≢ pw.
  let mLo = 0, mHi = -1;
  if (sw == 2) {
    mLo = 0;
    mHi = min(Wo - L, (W - 2 * L) >> 1);
    for (let kj = 0; kj < kw; kj++) {
      const off = ((pw - kj) & 1) == 0 ? (pw - kj) >> 1 : (pw + 1 - kj) >> 1;
      mLo = max(mLo, -off);
      mHi = min(mHi, Wo - L - off);
    }
  }
  for (let ih = 0; ih < H; ih++) {
    const drow = at(d, ih * W);
    let iw = 0;
    if (sw == 1 && hi1 - lo1 >= L) {
      for (; iw < lo1; iw++) store<real>(at(drow, iw), dxScalar(g, wc, ih, iw, kh, kw, sh, sw, ph, pw, Ho, Wo));
      while (true) {
        if (iw + L > hi1) iw = hi1 - L;
        v128.store(at(drow, iw), dxInside1(g, wc, ih, iw, kh, kw, sh, ph, pw, Ho, Wo));
        iw += L;
        if (iw >= hi1) break;
      }
    } else if (sw == 2 && mHi >= mLo) {
      for (; iw < 2 * mLo; iw++) store<real>(at(drow, iw), dxScalar(g, wc, ih, iw, kh, kw, sh, sw, ph, pw, Ho, Wo));
      for (let m = mLo; m <= mHi; m += L) {
        dxInside2(at(drow, 2 * m), g, wc, ih, m, kh, kw, sh, ph, pw, Ho, Wo);
        iw = 2 * (m + L);
      }
    }
    for (; iw < W; iw++) store<real>(at(drow, iw), dxScalar(g, wc, ih, iw, kh, kw, sh, sw, ph, pw, Ho, Wo));
  }
}

// ---------------------------------------------------------------------------------------------
// Backward in chunks (as conv_backward_chunks): the batch is cut into chunks of G images (the host
// picks G from the sizes alone); chunk q's dw and db sums go to their own slice of `partials`,
// depthwise_sum_chunks then adds the slices in chunk order. dx is per image. So one thread and
// sixteen give the same bits.

/** Reals in one chunk's slice of the partial buffer: dw (C, kh·kw) then db (C). */
export function depthwise_chunk_reals(C: i32, K: i32): i32 {
  return C * K + C;
}

/** ((l0 + l1) + l2) + l3 (float32) or l0 + l1 (float64) of a lane accumulator. */
@inline function laneSum(v: v128): real {
  if (FLOAT32) {
    return ((f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + f32x4.extract_lane(v, 2)) + <real>f32x4.extract_lane(v, 3);
  }
  return <real>(f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1));
}

/**
 * Channel c's dw (K taps at dwc) and db (at dbc) over images [n0, n1), overwritten. Scalar
 * accumulators live at dwc / dbc (zeroed first); the lane accumulators are added at the end.
 * The SIMD columns are [owL, owV), owV = owL + LANES·floor((owR - owL) / LANES) (none unless
 * stride 1 or 2 and at least LANES inside columns): see the header's order.
 */
function weightSums(
  dwc: usize, dbc: usize, dout: usize, x: usize, c: i32, n0: i32, n1: i32,
  C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32,
): void {
  const L = <i32>LANES;
  const K = kh * kw;
  const owL = firstInside(sw, pw, Wo);
  const owR = endInside(W, kw, sw, pw, Wo, owL);
  const owV = (sw == 1 || sw == 2) && owR - owL >= L ? owL + (owR - owL) / L * L : owL;
  const stride2 = sw == 2;
  for (let t = 0; t < K; t++) store<real>(at(dwc, t), 0);
  store<real>(dbc, 0);
  // db: lanes over the SIMD columns, the scalar accumulator over the others.
  let dbLanes = v128.splat<real>(0);
  for (let n = n0; n < n1; n++) {
    const g = at(dout, (n * C + c) * Ho * Wo);
    for (let oh = 0; oh < Ho; oh++) {
      const grow = at(g, oh * Wo);
      let s = load<real>(dbc);
      for (let ow = 0; ow < owL; ow++) s += load<real>(at(grow, ow));
      for (let ow = owL; ow < owV; ow += L) dbLanes = v128.add<real>(dbLanes, v128.load(at(grow, ow)));
      for (let ow = owV; ow < Wo; ow++) s += load<real>(at(grow, ow));
      store<real>(dbc, s);
    }
  }
  store<real>(dbc, laneSum(dbLanes) + load<real>(dbc));
  if (kh == 3 && kw == 3) {
    weightSums3x3(dwc, dout, x, c, n0, n1, C, H, W, sh, sw, ph, pw, Ho, Wo, owL, owV);
    return;
  }
  // Any kernel: one tap at a time.
  for (let ki = 0; ki < kh; ki++) {
    for (let kj = 0; kj < kw; kj++) {
      const tap = at(dwc, ki * kw + kj);
      let lanes = v128.splat<real>(0);
      for (let n = n0; n < n1; n++) {
        const g = at(dout, (n * C + c) * Ho * Wo);
        const plane = at(x, (n * C + c) * H * W);
        for (let oh = 0; oh < Ho; oh++) {
          const ih = oh * sh - ph + ki;
          if (ih < 0 || ih >= H) continue;
          const grow = at(g, oh * Wo);
          const xrow = at(plane, ih * W + kj - pw); // + ow·sw: the tap's input column
          let s = load<real>(tap);
          for (let ow = 0; ow < owL; ow++) {
            const iw = ow * sw - pw + kj;
            if (iw >= 0 && iw < W) s += load<real>(at(grow, ow)) * load<real>(at(xrow, ow * sw));
          }
          for (let ow = owL; ow < owV; ow += L) {
            lanes = v128.add<real>(lanes, v128.mul<real>(v128.load(at(grow, ow)), loadStrided(at(xrow, ow * sw), stride2)));
          }
          for (let ow = owV; ow < Wo; ow++) {
            const iw = ow * sw - pw + kj;
            if (iw >= 0 && iw < W) s += load<real>(at(grow, ow)) * load<real>(at(xrow, ow * sw));
          }
          store<real>(tap, s);
        }
      }
      store<real>(tap, laneSum(lanes) + load<real>(tap));
    }
  }
}

/** Scalar contributions of one output column ow (outside the SIMD columns) to a 3x3 channel's nine taps. */
@inline function taps3x3Scalar(dwc: usize, grow: usize, r0: usize, r1: usize, r2: usize, ok0: bool, ok1: bool, ok2: bool, ow: i32, sw: i32, pw: i32, W: i32): void {
  const gv = load<real>(at(grow, ow));
  const ws = ow * sw - pw;
  for (let kj = 0; kj < 3; kj++) {
    const iw = ws + kj;
    if (iw < 0 || iw >= W) continue;
    if (ok0) store<real>(at(dwc, kj), load<real>(at(dwc, kj)) + gv * load<real>(at(r0, iw)));
    if (ok1) store<real>(at(dwc, 3 + kj), load<real>(at(dwc, 3 + kj)) + gv * load<real>(at(r1, iw)));
    if (ok2) store<real>(at(dwc, 6 + kj), load<real>(at(dwc, 6 + kj)) + gv * load<real>(at(r2, iw)));
  }
}

/** weightSums for 3x3: the nine taps' lane accumulators in registers, one pass over the data. */
function weightSums3x3(
  dwc: usize, dout: usize, x: usize, c: i32, n0: i32, n1: i32,
  C: i32, H: i32, W: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32, owL: i32, owV: i32,
): void {
  const L = <i32>LANES;
  let a00 = v128.splat<real>(0), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00, a20 = a00, a21 = a00, a22 = a00;
  for (let n = n0; n < n1; n++) {
    const g = at(dout, (n * C + c) * Ho * Wo);
    const plane = at(x, (n * C + c) * H * W);
    for (let oh = 0; oh < Ho; oh++) {
      const hb = oh * sh - ph;
      const ok0 = hb >= 0 && hb < H, ok1 = hb + 1 >= 0 && hb + 1 < H, ok2 = hb + 2 >= 0 && hb + 2 < H;
      const grow = at(g, oh * Wo);
      // Rows of the three taps (only dereferenced when ok).
      const r0 = at(plane, hb * W), r1 = at(r0, W), r2 = at(r0, 2 * W);
      for (let ow = 0; ow < owL; ow++) taps3x3Scalar(dwc, grow, r0, r1, r2, ok0, ok1, ok2, ow, sw, pw, W);
      if (owV > owL) {
        if (ok0 && ok1 && ok2) {
          for (let ow = owL; ow < owV; ow += L) {
            const gv = v128.load(at(grow, ow));
            const col = ow * sw - pw;
            if (sw == 1) {
              a00 = v128.add<real>(a00, v128.mul<real>(gv, v128.load(at(r0, col))));
              a01 = v128.add<real>(a01, v128.mul<real>(gv, v128.load(at(r0, col + 1))));
              a02 = v128.add<real>(a02, v128.mul<real>(gv, v128.load(at(r0, col + 2))));
              a10 = v128.add<real>(a10, v128.mul<real>(gv, v128.load(at(r1, col))));
              a11 = v128.add<real>(a11, v128.mul<real>(gv, v128.load(at(r1, col + 1))));
              a12 = v128.add<real>(a12, v128.mul<real>(gv, v128.load(at(r1, col + 2))));
              a20 = v128.add<real>(a20, v128.mul<real>(gv, v128.load(at(r2, col))));
              a21 = v128.add<real>(a21, v128.mul<real>(gv, v128.load(at(r2, col + 1))));
              a22 = v128.add<real>(a22, v128.mul<real>(gv, v128.load(at(r2, col + 2))));
            } else {
              a00 = v128.add<real>(a00, v128.mul<real>(gv, loadEven(at(r0, col))));
              a01 = v128.add<real>(a01, v128.mul<real>(gv, loadEven(at(r0, col + 1))));
              a02 = v128.add<real>(a02, v128.mul<real>(gv, loadEven(at(r0, col + 2))));
              a10 = v128.add<real>(a10, v128.mul<real>(gv, loadEven(at(r1, col))));
              a11 = v128.add<real>(a11, v128.mul<real>(gv, loadEven(at(r1, col + 1))));
              a12 = v128.add<real>(a12, v128.mul<real>(gv, loadEven(at(r1, col + 2))));
              a20 = v128.add<real>(a20, v128.mul<real>(gv, loadEven(at(r2, col))));
              a21 = v128.add<real>(a21, v128.mul<real>(gv, loadEven(at(r2, col + 1))));
              a22 = v128.add<real>(a22, v128.mul<real>(gv, loadEven(at(r2, col + 2))));
            }
          }
        } else {
          // A border row: only the taps rows inside the image.
          for (let ow = owL; ow < owV; ow += L) {
            const gv = v128.load(at(grow, ow));
            const col = ow * sw - pw;
            const s2 = sw == 2;
            if (ok0) {
              a00 = v128.add<real>(a00, v128.mul<real>(gv, loadStrided(at(r0, col), s2)));
              a01 = v128.add<real>(a01, v128.mul<real>(gv, loadStrided(at(r0, col + 1), s2)));
              a02 = v128.add<real>(a02, v128.mul<real>(gv, loadStrided(at(r0, col + 2), s2)));
            }
            if (ok1) {
              a10 = v128.add<real>(a10, v128.mul<real>(gv, loadStrided(at(r1, col), s2)));
              a11 = v128.add<real>(a11, v128.mul<real>(gv, loadStrided(at(r1, col + 1), s2)));
              a12 = v128.add<real>(a12, v128.mul<real>(gv, loadStrided(at(r1, col + 2), s2)));
            }
            if (ok2) {
              a20 = v128.add<real>(a20, v128.mul<real>(gv, loadStrided(at(r2, col), s2)));
              a21 = v128.add<real>(a21, v128.mul<real>(gv, loadStrided(at(r2, col + 1), s2)));
              a22 = v128.add<real>(a22, v128.mul<real>(gv, loadStrided(at(r2, col + 2), s2)));
            }
          }
        }
      }
      for (let ow = owV; ow < Wo; ow++) taps3x3Scalar(dwc, grow, r0, r1, r2, ok0, ok1, ok2, ow, sw, pw, W);
    }
  }
  store<real>(at(dwc, 0), laneSum(a00) + load<real>(at(dwc, 0)));
  store<real>(at(dwc, 1), laneSum(a01) + load<real>(at(dwc, 1)));
  store<real>(at(dwc, 2), laneSum(a02) + load<real>(at(dwc, 2)));
  store<real>(at(dwc, 3), laneSum(a10) + load<real>(at(dwc, 3)));
  store<real>(at(dwc, 4), laneSum(a11) + load<real>(at(dwc, 4)));
  store<real>(at(dwc, 5), laneSum(a12) + load<real>(at(dwc, 5)));
  store<real>(at(dwc, 6), laneSum(a20) + load<real>(at(dwc, 6)));
  store<real>(at(dwc, 7), laneSum(a21) + load<real>(at(dwc, 7)));
  store<real>(at(dwc, 8), laneSum(a22) + load<real>(at(dwc, 8)));
}

/**
 * Chunks q in [q0, q1) of the backward pass: chunk q covers images [q·G, min(N, (q+1)·G)) and
 * writes its slice partials + q·(C·K + C) (dw sums (C, K) then db sums (C), K = kh·kw), and,
 * when dx != 0, dx (N, C, H, W) for its images (overwritten). dout: (N, C, Ho, Wo), x: (N, C, H, W),
 * w: (C, K). Sizes as for depthwise_forward.
 */
export function depthwise_backward_chunks(
  dx: usize, partials: usize, dout: usize, x: usize, w: usize,
  N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32, G: i32, q0: i32, q1: i32,
): void {
  const K = kh * kw;
  for (let q = q0; q < q1; q++) {
    const n0 = q * G, n1 = min(N, n0 + G);
    const slice = at(partials, q * (C * K + C));
    for (let c = 0; c < C; c++) {
      weightSums(at(slice, c * K), at(slice, C * K + c), dout, x, c, n0, n1, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo);
    }
    if (!dx) continue;
    for (let n = n0; n < n1; n++) {
      for (let c = 0; c < C; c++) {
        const p = n * C + c;
        dxPlane(at(dx, p * H * W), at(dout, p * Ho * Wo), at(w, c * K), H, W, kh, kw, sh, sw, ph, pw, Ho, Wo);
      }
    }
  }
}

/**
 * dst[e] = ((src[e] + src[stride + e]) + src[2·stride + e]) + ... over `chunks` slices, for e in
 * [e0, e1) (a thread's share). The partial sums of depthwise_backward_chunks, in chunk order.
 */
export function depthwise_sum_chunks(dst: usize, src: usize, chunks: i32, stride: i32, e0: i32, e1: i32): void {
  if (chunks == 0) return;
  let e = e0;
  for (; e + <i32>LANES <= e1; e += <i32>LANES) {
    let acc = v128.load(at(src, e));
    for (let q = 1; q < chunks; q++) acc = v128.add<real>(acc, v128.load(at(src, q * stride + e)));
    v128.store(at(dst, e), acc);
  }
  for (; e < e1; e++) {
    let acc = load<real>(at(src, e));
    for (let q = 1; q < chunks; q++) acc += load<real>(at(src, q * stride + e));
    store<real>(at(dst, e), acc);
  }
}
