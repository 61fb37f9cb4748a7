// Max-pooling over NCHW planes, no padding, over `real` (f32 or f64, see real.ts). For a window
// (ph, pw) and `stride` >= 1:
//   Ho = (H - ph) / stride + 1 (floor), Wo likewise; out[p, oh, ow] = max of the window at
//   (oh·stride, ow·stride) in plane p.
//
// The forward pass SAVES the argmax: argmax[p, oh, ow] = ih·W + iw, the index of the winner in its
// plane, stored as an exact integer in `real` (the pooled tensor's own dtype; the host keeps
// H·W <= 2^24, exact in f32 and f64), so the argmax buffer is an ordinary tensor the host can
// cache or keep in a workspace. The backward pass is then a scatter-add of dout into dx at those
// indices: no recomputation, and overlapping windows (stride < window) accumulate naturally.
//
// Ties: the first maximum in row-major window order wins. NaN: a NaN in the window wins (the
// output is NaN, its gradient goes to the last NaN), so NaNs propagate instead of vanishing.
//
// The forward runs in SIMD, LANES outputs of a row at a time (4 f32, 2 f64), for every window
// with stride 1 or 2 (2x2 stride 2, the usual case, shares its loads between the window's
// columns); a row's last outputs are a vector that overlaps the previous one (recomputed, the
// same bits), and rows narrower than LANES a vector whose extra lanes are not stored. Only
// strides above 2 use the scalar loop. The backward of non-overlapping 2x2 stride-2 windows
// writes dx directly in SIMD (tails likewise); overlapping windows scatter-add one gradient per
// output, which costs less than gathering the up to ph·pw candidates of every dx element. All
// give the same bits as the scalar twins in reference/pool.ts.
import { FLOAT32, LANES, SHIFT } from "./real";
import { loadStrided } from "./window";

// The lane shuffles of the 2x2 path: the only code that depends on the lane count. Two v128 a, b
// hold 2·LANES consecutive values of a row; evens/odds pick the windows' left/right columns.

/** Lanes 0, 2, 4, ... of a:b (the windows' left columns). */
@inline function evens(a: v128, b: v128): v128 {
  return FLOAT32 ? v128.shuffle<f32>(a, b, 0, 2, 4, 6) : v128.shuffle<f64>(a, b, 0, 2);
}

/** Lanes 1, 3, 5, ... of a:b (the windows' right columns). */
@inline function odds(a: v128, b: v128): v128 {
  return FLOAT32 ? v128.shuffle<f32>(a, b, 1, 3, 5, 7) : v128.shuffle<f64>(a, b, 1, 3);
}

/** The first half of left and right interleaved: [l0, r0, l1, r1] (f32) or [l0, r0] (f64). */
@inline function interleaveLow(l: v128, r: v128): v128 {
  return FLOAT32 ? v128.shuffle<f32>(l, r, 0, 4, 1, 5) : v128.shuffle<f64>(l, r, 0, 2);
}

/** The second half: [l2, r2, l3, r3] (f32) or [l1, r1] (f64). */
@inline function interleaveHigh(l: v128, r: v128): v128 {
  return FLOAT32 ? v128.shuffle<f32>(l, r, 2, 6, 3, 7) : v128.shuffle<f64>(l, r, 1, 3);
}

/** Column offsets of the LANES windows' left columns from the first one: 0, 2, 4, 6 or 0, 2. */
@inline function leftColumns(): v128 {
  return FLOAT32 ? f32x4(0, 2, 4, 6) : f64x2(0, 2);
}

/** Scalar forward for plane rows; ow from ow0 to Wo. */
@inline function forwardRowScalar(
  out: usize, argmax: usize, plane: usize, W: i32, ph: i32, pw: i32, stride: i32, oh: i32, ow0: i32, Wo: i32,
): void {
  const h0 = oh * stride;
  for (let ow = ow0; ow < Wo; ow++) {
    const w0 = ow * stride;
    let bi = h0 * W + w0;
    let best = load<real>(plane + (<usize>bi << SHIFT));
    for (let ki = 0; ki < ph; ki++) {
      const rowIndex = (h0 + ki) * W + w0;
      for (let kj = 0; kj < pw; kj++) {
        if (ki == 0 && kj == 0) continue;
        const v = load<real>(plane + (<usize>(rowIndex + kj) << SHIFT));
        if (v > best || v != v) {
          best = v;
          bi = rowIndex + kj;
        }
      }
    }
    store<real>(out + (<usize>ow << SHIFT), best);
    if (argmax) store<real>(argmax + (<usize>ow << SHIFT), <real>bi);
  }
}

/**
 * out, argmax (planes, Ho, Wo) = max-pool of x (planes, H, W) with window (ph, pw) and stride.
 * Preconditions: 1 <= ph <= H, 1 <= pw <= W, stride >= 1, Ho and Wo from the formula above,
 * H·W <= 2^24 (argmax values exact in f32). argmax = 0: out only (inference), same bits.
 */
export function maxpool_forward(
  out: usize, argmax: usize, x: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  const simd = stride <= 2;
  const end = x + (<usize>(planes * H * W) << SHIFT); // nothing at or past it is read
  // Vectors of a row start at 0, LANES, ...; the last one at Wo - LANES (overlapping), or, in a
  // row narrower than LANES, at 0 with lanes past Wo dropped (when its reads stay inside x).
  const last = max(0, Wo - <i32>LANES);
  const reach = <usize>(((<i32>LANES - 1) * stride + pw) << <i32>SHIFT); // bytes a vector reads from its first window's left
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * H * W) << SHIFT);
    for (let oh = 0; oh < Ho; oh++) {
      const o = out + (<usize>((p * Ho + oh) * Wo) << SHIFT);
      const a = argmax ? argmax + (<usize>((p * Ho + oh) * Wo) << SHIFT) : 0;
      const top = plane + (<usize>(oh * stride * W) << SHIFT);
      let ow = 0;
      if (simd && (Wo >= <i32>LANES || top + (<usize>((ph - 1) * W) << SHIFT) + reach <= end)) {
        for (;;) {
          const ow0 = min(ow, last);
          windowVector(o + (<usize>ow0 << SHIFT), a ? a + (<usize>ow0 << SHIFT) : 0, top, oh * stride * W, W, ph, pw, stride, ow0, min(<i32>LANES, Wo));
          ow += <i32>LANES;
          if (ow >= Wo) break;
        }
      } else {
        forwardRowScalar(o, a, plane, W, ph, pw, stride, oh, 0, Wo);
      }
    }
  }
}

/**
 * The maxima (and argmax, unless a = 0) of the LANES windows of one output row from column ow0,
 * stored to o (and a), the first `lanes` of them. top: the window rows' first input row, at
 * plane index `first` (= its row · W). Windows in row-major order: a larger value or a NaN
 * takes over, as in forwardRowScalar. 2x2 stride 2 reads each row once for both columns.
 */
@inline function windowVector(o: usize, a: usize, top: usize, first: i32, W: i32, ph: i32, pw: i32, stride: i32, ow0: i32, lanes: i32): void {
  const step = v128.splat<real>(<real>stride);
  const lane = v128.mul<real>(FLOAT32 ? f32x4(0, 1, 2, 3) : f64x2(0, 1), step);
  const col = ow0 * stride;
  let best: v128, bi: v128;
  if (ph == 2 && pw == 2 && stride == 2) {
    // Columns 2ow0 .. 2ow0 + 2·LANES - 1 of both rows; even lanes are the windows' left columns.
    const r0 = top + (<usize>col << SHIFT), r1 = r0 + (<usize>W << SHIFT);
    const a0 = v128.load(r0), a1 = v128.load(r0, 16), b0 = v128.load(r1), b1 = v128.load(r1, 16);
    const v01 = odds(a0, a1), v10 = evens(b0, b1), v11 = odds(b0, b1);
    best = evens(a0, a1);
    const i00 = v128.add<real>(v128.splat<real>(<real>(first + col)), lane);
    bi = i00;
    let m = takes(v01, best);
    best = v128.bitselect(v01, best, m);
    if (a) bi = v128.bitselect(v128.add<real>(i00, v128.splat<real>(1)), bi, m);
    m = takes(v10, best);
    best = v128.bitselect(v10, best, m);
    const i10 = v128.add<real>(i00, v128.splat<real>(<real>W));
    if (a) bi = v128.bitselect(i10, bi, m);
    m = takes(v11, best);
    best = v128.bitselect(v11, best, m);
    if (a) bi = v128.bitselect(v128.add<real>(i10, v128.splat<real>(1)), bi, m);
  } else {
    const stride2 = stride == 2;
    best = loadStrided(top + (<usize>col << SHIFT), stride2);
    bi = v128.add<real>(v128.splat<real>(<real>(first + col)), lane);
    let row = top + (<usize>col << SHIFT);
    let index = first + col;
    for (let ki = 0; ki < ph; ki++) {
      for (let kj = ki == 0 ? 1 : 0; kj < pw; kj++) {
        const v = loadStrided(row + (<usize>kj << SHIFT), stride2);
        const m = takes(v, best);
        best = v128.bitselect(v, best, m);
        if (a) bi = v128.bitselect(v128.add<real>(v128.splat<real>(<real>(index + kj)), lane), bi, m);
      }
      row += <usize>W << SHIFT;
      index += W;
    }
  }
  storeLanes(o, best, lanes);
  if (a) storeLanes(a, bi, lanes);
}

/** All ones where v takes over from best: v > best, or v is NaN. */
@inline function takes(v: v128, best: v128): v128 {
  return v128.or(v128.gt<real>(v, best), v128.ne<real>(v, v));
}

/** The first n (1 .. LANES) lanes of v to p. */
@inline function storeLanes(p: usize, v: v128, n: i32): void {
  if (n == <i32>LANES) {
    v128.store(p, v);
  } else if (FLOAT32) {
    v128.store32_lane(p, v, 0);
    if (n > 1) v128.store32_lane(p, v, 1, 4);
    if (n > 2) v128.store32_lane(p, v, 2, 8);
  } else {
    v128.store64_lane(p, v, 0);
  }
}

/**
 * dx (planes, H, W) = the max-pool gradient: overwritten with zeros, then dout[p, oh, ow] is added
 * at argmax[p, oh, ow] (in order of p, oh, ow, so overlapping windows accumulate deterministically).
 * dout, argmax: (planes, Ho, Wo), argmax as written by maxpool_forward with the same sizes.
 */
export function maxpool_backward(
  dx: usize, dout: usize, argmax: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  if (ph == 2 && pw == 2 && stride == 2) {
    backward2x2(dx, dout, argmax, planes, H, W, Ho, Wo);
    return;
  }
  const total = <usize>(planes * H * W);
  const z = v128.splat<real>(0);
  let i: usize = 0;
  for (; i + LANES <= total; i += LANES) v128.store(dx + (i << SHIFT), z);
  for (; i < total; i++) store<real>(dx + (i << SHIFT), 0);
  const P = Ho * Wo;
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * H * W) << SHIFT);
    const g = dout + (<usize>(p * P) << SHIFT);
    const a = argmax + (<usize>(p * P) << SHIFT);
    for (let o = 0; o < P; o++) {
      const d = plane + (<usize><i32>load<real>(a + (<usize>o << SHIFT)) << SHIFT);
      store<real>(d, load<real>(d) + load<real>(g + (<usize>o << SHIFT)));
    }
  }
}

// Non-overlapping 2x2 windows: each dx element belongs to at most one window, so dx can be
// written directly (0 + g where the argmax points, 0 elsewhere) without a separate zeroing pass.
// "0 + g" rather than "g" keeps the bits equal to the scatter (0 + -0 is +0).
function backward2x2(dx: usize, dout: usize, argmax: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32): void {
  const z = v128.splat<real>(0);
  const lanes = leftColumns();
  const one = v128.splat<real>(1);
  const down = v128.splat<real>(<real>W);
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * H * W) << SHIFT);
    for (let oh = 0; oh < Ho; oh++) {
      const r0 = plane + (<usize>(2 * oh * W) << SHIFT);
      const r1 = r0 + (<usize>W << SHIFT);
      const g = dout + (<usize>((p * Ho + oh) * Wo) << SHIFT);
      const a = argmax + (<usize>((p * Ho + oh) * Wo) << SHIFT);
      // Vectors at 0, LANES, ... and a last one at Wo - LANES, overlapping: its windows' dx are
      // written again with the same values. Rows narrower than LANES go one window at a time.
      let ow = 0;
      if (Wo >= <i32>LANES) {
        for (;;) {
          const ow0 = min(ow, Wo - <i32>LANES);
          const gv = v128.load(g + (<usize>ow0 << SHIFT));
          const bi = v128.load(a + (<usize>ow0 << SHIFT));
          const first: i32 = 2 * oh * W + 2 * ow0;
          const i00 = v128.add<real>(v128.splat<real>(<real>first), lanes);
          const i10 = v128.add<real>(i00, down);
          const d00 = v128.add<real>(z, v128.and(gv, v128.eq<real>(bi, i00)));
          const d01 = v128.add<real>(z, v128.and(gv, v128.eq<real>(bi, v128.add<real>(i00, one))));
          const d10 = v128.add<real>(z, v128.and(gv, v128.eq<real>(bi, i10)));
          const d11 = v128.add<real>(z, v128.and(gv, v128.eq<real>(bi, v128.add<real>(i10, one))));
          const c = <usize>(2 * ow0) << SHIFT;
          v128.store(r0 + c, interleaveLow(d00, d01));
          v128.store(r0 + c, interleaveHigh(d00, d01), 16);
          v128.store(r1 + c, interleaveLow(d10, d11));
          v128.store(r1 + c, interleaveHigh(d10, d11), 16);
          ow += <i32>LANES;
          if (ow >= Wo) break;
        }
      } else {
        for (; ow < Wo; ow++) {
          const c = <usize>(2 * ow) << SHIFT;
          store<real>(r0 + c, 0); store<real>(r0 + c, 0, sizeof<real>());
          store<real>(r1 + c, 0); store<real>(r1 + c, 0, sizeof<real>());
          const bi = <i32>load<real>(a + (<usize>ow << SHIFT));
          const d = plane + (<usize>bi << SHIFT);
          store<real>(d, load<real>(d) + load<real>(g + (<usize>ow << SHIFT)));
        }
      }
      // An odd last column lies in no window.
      for (let iw = 2 * Wo; iw < W; iw++) {
        store<real>(r0 + (<usize>iw << SHIFT), 0);
        store<real>(r1 + (<usize>iw << SHIFT), 0);
      }
    }
    // So does an odd last row.
    for (let i = 2 * Ho * W; i < H * W; i++) store<real>(plane + (<usize>i << SHIFT), 0);
  }
}
