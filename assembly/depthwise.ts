// Depthwise convolution over `real` (see real.ts): nn.Conv2d(C, C, (kh, kw), stride, padding,
// groups = C), channel multiplier 1, NCHW. weight w: (C, 1, kh, kw) = (C, kh·kw), bias b: (C) or
// none. Output Ho = floor((H + 2·ph - kh) / sh) + 1, Wo likewise.
//
//   out[n, c, oh, ow] = b[c] + Σ_{ki, kj} w[c, ki, kj] · xp[n, c, oh·sh + ki, ow·sw + kj]
//
// where xp is x with ph zero rows above and below and pw zero columns left and right. The padding
// zeros are multiplied and added like any pixel (as PyTorch's im2col path does): each kernel first
// copies the plane it works on into a zero-framed buffer in `work` (one per thread, the host sizes
// it with depthwise_work_bytes), so every row runs the same SIMD loop with no border cases.
//
// Summation order (the contract the scalar twins in reference/depthwise.ts follow; products are
// rounded, then added: no fused multiply-add):
//   forward: from b[c] (0 without bias), taps in order ki then kj ascending.
//   dx[n, c, ih, iw] = Σ over the outputs (oh, ow) whose window covers (ih, iw) in the padded
//     frame, in order of oh then ow ascending (taps ki, then kj, descending), of
//     w[c, ki, kj] · dout[n, c, oh, ow], from 0; outputs past the edges of dout count as zeros.
//   dw[c, ki, kj] and db[c] (sums over the batch, "Backward in chunks" below): per chunk of
//     images, LANES lane accumulators from 0, lane l taking the output columns ow ≡ l (mod LANES),
//     over images, rows, then columns ascending, of dout · xp (db: of dout); the chunk's value is
//     ((l0 + l1) + l2) + l3 (float32) or l0 + l1 (float64). The chunks are added in chunk order.
//
// SIMD: LANES output columns at a time for strides 1 and 2 (loadEven: two loads and a shuffle),
// the last LANES of a row overlapping the previous step when Wo % LANES != 0; dx over input
// columns (stride 2: the even and the odd columns as two vectors, interleaved). 3x3 has its own
// loops with the nine weights (forward, dx) or the nine lane accumulators (dw) in registers.
// Other strides and rows narrower than LANES run the scalar loops, in the same order.
import { FLOAT32, LANES, SHIFT } from "./real";
import { loadEven, loadStrided, storeInterleaved } from "./window";

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << SHIFT);
}

/** floor(a / b), b >= 1. */
@inline function floorDiv(a: i32, b: i32): i32 {
  return a >= 0 ? a / b : -((b - 1 - a) / b);
}

// ---------------------------------------------------------------------------------------------
// The padded frames in `work`.
//   xp: rows [0, Hp), Hp = (Ho - 1)·sh + kh (every window's rows), columns [0, Wp),
//     Wp = (roundup(Wo, LANES) - 1)·sw + kw (every window of every vector, the tail's too);
//     xp[r, q] = x[r - ph, q - pw] inside the image, 0 elsewhere.
//   dp: dout framed for the dx gather: rows oh in [ohLo, ohHi], columns ow in [owLo, owHi], the
//     outputs any input pixel's taps reach; dp[oh - ohLo, ow - owLo] = dout[oh, ow], 0 outside.
//   acc: kh·kw lane accumulators (the dw sums of kernels other than 3x3).

@inline function framedRows(Ho: i32, sh: i32, kh: i32): i32 {
  return (Ho - 1) * sh + kh;
}
@inline function framedCols(Wo: i32, sw: i32, kw: i32): i32 {
  const L = <i32>LANES;
  return ((Wo + L - 1) / L * L - 1) * sw + kw;
}
/** Reals rounded up to whole vectors (so each part of `work` starts 16-byte aligned). */
@inline function vectors(n: i32): i32 {
  const L = <i32>LANES;
  return (n + L - 1) / L * L;
}

/**
 * Bytes of `work` one thread needs for depthwise_forward and depthwise_backward_chunks with these
 * sizes (the same for both). The pointer passed must be 16-byte aligned.
 */
export function depthwise_work_bytes(H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32): i32 {
  const xp = vectors(framedRows(Ho, sh, kh) * framedCols(Wo, sw, kw));
  const dp = vectors((floorDiv(H - 1 + ph, sh) - floorDiv(ph - kh + 1, sh) + 1) * (floorDiv(W - 1 + pw, sw) - floorDiv(pw - kw + 1, sw) + 1));
  return (xp + dp + kh * kw * <i32>LANES) << <i32>SHIFT;
}

/** Copies rows [r0, r1) x columns [q0, q1) of a (rows x cols) plane to dst at (r - dr, q - dq), row stride dstCols. */
@inline function copyBlock(dst: usize, dstCols: i32, src: usize, cols: i32, r0: i32, r1: i32, q0: i32, q1: i32, dr: i32, dq: i32): void {
  // Vectors and a scalar tail: rows are short (tens of values), where memory.copy's call costs more than the copy.
  const L = <i32>LANES;
  const n = q1 - q0;
  for (let r = r0; r < r1; r++) {
    const d = at(dst, (r - dr) * dstCols + q0 - dq), s = at(src, r * cols + q0);
    let i = 0;
    for (; i + L <= n; i += L) v128.store(at(d, i), v128.load(at(s, i)));
    for (; i < n; i++) store<real>(at(d, i), load<real>(at(s, i)));
  }
}

/** The image's rows and columns that fall inside xp: rows [0, min(H, Hp - ph)), columns [0, min(W, Wp - pw)). */
@inline function frameInput(xp: usize, plane: usize, H: i32, W: i32, ph: i32, pw: i32, Hp: i32, Wp: i32): void {
  copyBlock(xp, Wp, plane, W, 0, min(H, Hp - ph), 0, min(W, Wp - pw), -ph, -pw);
}

// ---------------------------------------------------------------------------------------------
// Forward.

/** acc + the three taps of one 3x3 weight row over LANES outputs, stride 1: columns row[0 .. LANES + 2). */
@inline function taps3s1(acc: v128, row: usize, w0: v128, w1: v128, w2: v128): v128 {
  acc = v128.add<real>(acc, v128.mul<real>(w0, v128.load(row)));
  acc = v128.add<real>(acc, v128.mul<real>(w1, v128.load(row, 1 << SHIFT)));
  return v128.add<real>(acc, v128.mul<real>(w2, v128.load(row, 2 << SHIFT)));
}

/** The same for stride 2: columns row[0 .. 2·LANES]; even lanes are tap 0, odd lanes tap 1, even lanes from row[2] tap 2. */
@inline function taps3s2(acc: v128, row: usize, w0: v128, w1: v128, w2: v128): v128 {
  const a = v128.load(row), b = v128.load(row, LANES << SHIFT);
  const even = FLOAT32 ? v128.shuffle<u32>(a, b, 0, 2, 4, 6) : v128.shuffle<u64>(a, b, 0, 2);
  const odd = FLOAT32 ? v128.shuffle<u32>(a, b, 1, 3, 5, 7) : v128.shuffle<u64>(a, b, 1, 3);
  acc = v128.add<real>(acc, v128.mul<real>(w0, even));
  acc = v128.add<real>(acc, v128.mul<real>(w1, odd));
  return v128.add<real>(acc, v128.mul<real>(w2, loadEven(row + (2 << SHIFT))));
}

/**
 * One row of a 3x3 correlation: count (>= LANES) outputs at o, output j reading columns
 * j·stride .. of the rows r0, r1, r2; the last step overlaps the one before when count % LANES != 0.
 * Used by the forward (weights in order) and by dx at stride 1 (weights flipped).
 */
@inline function row3x3(
  o: usize, r0: usize, r1: usize, r2: usize, stride2: bool, count: i32, init: v128,
  w00: v128, w01: v128, w02: v128, w10: v128, w11: v128, w12: v128, w20: v128, w21: v128, w22: v128,
): void {
  const L = <i32>LANES;
  let j = 0;
  while (true) {
    if (j + L > count) j = count - L;
    const col = stride2 ? 2 * j : j;
    let acc = init;
    if (stride2) {
      acc = taps3s2(acc, at(r0, col), w00, w01, w02);
      acc = taps3s2(acc, at(r1, col), w10, w11, w12);
      acc = taps3s2(acc, at(r2, col), w20, w21, w22);
    } else {
      acc = taps3s1(acc, at(r0, col), w00, w01, w02);
      acc = taps3s1(acc, at(r1, col), w10, w11, w12);
      acc = taps3s1(acc, at(r2, col), w20, w21, w22);
    }
    v128.store(at(o, j), acc);
    j += L;
    if (j >= count) break;
  }
}

/**
 * Two rows of a 3x3 stride-1 correlation at once (outputs o0 from rows r0..r2, o1 from r1..r3):
 * each input row's three column vectors are loaded once and feed both rows' sums, each sum still
 * taking its taps in order ki, kj. count >= LANES; the last step overlaps as in row3x3.
 */
@inline function rows3x3s1x2(
  o0: usize, o1: usize, r0: usize, r1: usize, r2: usize, r3: usize, count: i32, init: v128,
  w00: v128, w01: v128, w02: v128, w10: v128, w11: v128, w12: v128, w20: v128, w21: v128, w22: v128,
): void {
  const L = <i32>LANES;
  let j = 0;
  while (true) {
    if (j + L > count) j = count - L;
    let a = taps3s1(init, at(r0, j), w00, w01, w02);
    let b = init;
    let p = at(r1, j);
    let x0 = v128.load(p), x1 = v128.load(p, 1 << SHIFT), x2 = v128.load(p, 2 << SHIFT);
    a = v128.add<real>(a, v128.mul<real>(w10, x0));
    a = v128.add<real>(a, v128.mul<real>(w11, x1));
    a = v128.add<real>(a, v128.mul<real>(w12, x2));
    b = v128.add<real>(b, v128.mul<real>(w00, x0));
    b = v128.add<real>(b, v128.mul<real>(w01, x1));
    b = v128.add<real>(b, v128.mul<real>(w02, x2));
    p = at(r2, j);
    x0 = v128.load(p);
    x1 = v128.load(p, 1 << SHIFT);
    x2 = v128.load(p, 2 << SHIFT);
    a = v128.add<real>(a, v128.mul<real>(w20, x0));
    a = v128.add<real>(a, v128.mul<real>(w21, x1));
    a = v128.add<real>(a, v128.mul<real>(w22, x2));
    b = v128.add<real>(b, v128.mul<real>(w10, x0));
    b = v128.add<real>(b, v128.mul<real>(w11, x1));
    b = v128.add<real>(b, v128.mul<real>(w12, x2));
    b = taps3s1(b, at(r3, j), w20, w21, w22);
    v128.store(at(o0, j), a);
    v128.store(at(o1, j), b);
    j += L;
    if (j >= count) break;
  }
}

/** Splat of weight i of wc (3x3 only). */
@inline function wsplat(wc: usize, i: i32): v128 {
  return v128.splat<real>(load<real>(at(wc, i)));
}

/** One plane's outputs (Ho, Wo) from its framed input xp (Hp, Wp), the channel's weights wc and bias. */
function forwardPlane(o: usize, xp: usize, Wp: i32, wc: usize, bias: real, kh: i32, kw: i32, sh: i32, sw: i32, Ho: i32, Wo: i32): void {
  const L = <i32>LANES;
  const bv = v128.splat<real>(bias);
  if (kh == 3 && kw == 3 && (sw == 1 || sw == 2) && Wo >= L) {
    const w00 = wsplat(wc, 0), w01 = wsplat(wc, 1), w02 = wsplat(wc, 2), w10 = wsplat(wc, 3), w11 = wsplat(wc, 4);
    const w12 = wsplat(wc, 5), w20 = wsplat(wc, 6), w21 = wsplat(wc, 7), w22 = wsplat(wc, 8);
    let oh = 0;
    if (sh == 1 && sw == 1) {
      for (; oh + 2 <= Ho; oh += 2) {
        const r0 = at(xp, oh * Wp);
        rows3x3s1x2(at(o, oh * Wo), at(o, (oh + 1) * Wo), r0, at(r0, Wp), at(r0, 2 * Wp), at(r0, 3 * Wp), Wo, bv, w00, w01, w02, w10, w11, w12, w20, w21, w22);
      }
    }
    for (; oh < Ho; oh++) {
      const r0 = at(xp, oh * sh * Wp);
      if (sw == 1) row3x3(at(o, oh * Wo), r0, at(r0, Wp), at(r0, 2 * Wp), false, Wo, bv, w00, w01, w02, w10, w11, w12, w20, w21, w22);
      else row3x3(at(o, oh * Wo), r0, at(r0, Wp), at(r0, 2 * Wp), true, Wo, bv, w00, w01, w02, w10, w11, w12, w20, w21, w22);
    }
    return;
  }
  const simd = (sw == 1 || sw == 2) && Wo >= L;
  for (let oh = 0; oh < Ho; oh++) {
    const top = at(xp, oh * sh * Wp);
    const orow = at(o, oh * Wo);
    if (simd) {
      let ow = 0;
      while (true) {
        if (ow + L > Wo) ow = Wo - L;
        let acc = bv;
        for (let ki = 0; ki < kh; ki++) {
          const row = at(top, ki * Wp + ow * sw);
          for (let kj = 0; kj < kw; kj++) {
            acc = v128.add<real>(acc, v128.mul<real>(v128.splat<real>(load<real>(at(wc, ki * kw + kj))), loadStrided(at(row, kj), sw == 2)));
          }
        }
        v128.store(at(orow, ow), acc);
        ow += L;
        if (ow >= Wo) break;
      }
    } else {
      for (let ow = 0; ow < Wo; ow++) {
        let acc = bias;
        for (let ki = 0; ki < kh; ki++) {
          const row = at(top, ki * Wp + ow * sw);
          for (let kj = 0; kj < kw; kj++) acc += load<real>(at(wc, ki * kw + kj)) * load<real>(at(row, kj));
        }
        store<real>(at(orow, ow), acc);
      }
    }
  }
}

/**
 * out (N, C, Ho, Wo) = depthwise conv of x (N, C, H, W) with w (C, kh·kw) and b (C) (b = 0: no
 * bias), for planes p = n·C + c in [p0, p1) only (a thread's share; pointers are to the whole
 * tensors). work: depthwise_work_bytes(...) bytes, 16-byte aligned, this thread's own.
 * Preconditions: kh, kw, sh, sw >= 1, ph, pw >= 0, Ho, Wo >= 1 from the header's formula; out must
 * not alias x.
 */
export function depthwise_forward(
  out: usize, x: usize, w: usize, b: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32,
  p0: i32, p1: i32, work: usize,
): void {
  const K = kh * kw;
  const Hp = framedRows(Ho, sh, kh), Wp = framedCols(Wo, sw, kw);
  memory.fill(work, 0, <usize>(Hp * Wp) << SHIFT); // the frame stays zero: each plane overwrites the same inside
  for (let p = p0; p < p1; p++) {
    const c = p % C;
    frameInput(work, at(x, p * H * W), H, W, ph, pw, Hp, Wp);
    forwardPlane(at(out, p * Ho * Wo), work, Wp, at(w, c * K), b ? load<real>(at(b, c)) : 0, kh, kw, sh, sw, Ho, Wo);
  }
}

// ---------------------------------------------------------------------------------------------
// dx: each input pixel gathers the outputs whose windows cover it, from the framed dout dp.
// Pixel (ih, iw) is reached by taps ki ≡ ih + ph (mod sh), from the largest down by sh (output
// rows oh = (ih + ph - ki) / sh ascending), and likewise kj for the columns.

/** The largest tap k < kSize with (i + pad - k) divisible by stride. May be negative (no tap). */
@inline function topTap(i: i32, pad: i32, kSize: i32, stride: i32): i32 {
  // k = kSize - 1 - d with d the least d >= 0 such that i + pad - kSize + 1 + d ≡ 0 (mod stride).
  let r = (i + pad - (kSize - 1)) % stride;
  if (r < 0) r += stride;
  return kSize - 1 - (r == 0 ? 0 : stride - r);
}

/** dx at (ih, iw) by the scalar gather. drow0: dp's row of oh = (ih + ph - kiTop) / sh; dq0: dp's column of the pixel's first tap. */
@inline function dxPixel(wc: usize, kw: i32, sh: i32, sw: i32, Wq: i32, drow0: usize, kiTop: i32, kjTop: i32, dq0: i32): real {
  let acc: real = 0;
  let row = drow0;
  for (let ki = kiTop; ki >= 0; ki -= sh) {
    let q = dq0;
    for (let kj = kjTop; kj >= 0; kj -= sw) {
      acc += load<real>(at(wc, ki * kw + kj)) * load<real>(at(row, q));
      q++;
    }
    row = at(row, Wq);
  }
  return acc;
}

/** LANES pixels of one stride-1 column run: dx columns whose first tap reads dp column dq0 + lane. */
@inline function dxRun1(wc: usize, kw: i32, sh: i32, Wq: i32, drow0: usize, kiTop: i32, dq0: i32): v128 {
  let acc = v128.splat<real>(0);
  let row = at(drow0, dq0);
  for (let ki = kiTop; ki >= 0; ki -= sh) {
    for (let kj = kw - 1; kj >= 0; kj--) {
      acc = v128.add<real>(acc, v128.mul<real>(v128.splat<real>(load<real>(at(wc, ki * kw + kj))), v128.load(at(row, kw - 1 - kj))));
    }
    row = at(row, Wq);
  }
  return acc;
}

/** LANES pixels iw = 2(m + lane) + parity (stride 2): taps kj from kjTop down by 2, dp columns from dq0 + lane. */
@inline function dxRun2(wc: usize, kw: i32, sh: i32, Wq: i32, drow0: usize, kiTop: i32, kjTop: i32, dq0: i32): v128 {
  let acc = v128.splat<real>(0);
  let row = at(drow0, dq0);
  for (let ki = kiTop; ki >= 0; ki -= sh) {
    let q = 0;
    for (let kj = kjTop; kj >= 0; kj -= 2) {
      acc = v128.add<real>(acc, v128.mul<real>(v128.splat<real>(load<real>(at(wc, ki * kw + kj))), v128.load(at(row, q))));
      q++;
    }
    row = at(row, Wq);
  }
  return acc;
}


/**
 * One dx row of a 3x3 kernel at stride 2 (both axes), in blocks of 2·LANES pixels from iw = 2m,
 * m in [0, pairs) (the last block overlapping when pairs % LANES != 0; pairs >= LANES). The row
 * takes taps ki = kiTop (frame row rA) and, when kiTop = 2, ki = 0 (rB = rA + Wq). One column
 * class takes tap kj = 1 at dp column m + c1, the other kj = 2 then 0 at m + c2 and m + c2 + 1;
 * oneIsEven says which class the even pixels are.
 */
@inline function dxRow3x3s2(
  drow: usize, rA: usize, rB: usize, two: bool, pairs: i32, c1: i32, c2: i32, oneIsEven: bool,
  a0: v128, a1: v128, a2: v128, b0: v128, b1: v128, b2: v128,
): void {
  const L = <i32>LANES;
  const zero = v128.splat<real>(0);
  let m = 0;
  while (true) {
    if (m + L > pairs) m = pairs - L;
    // From 0, taps in output order: row A then row B; kj = 2 before kj = 0.
    let one = v128.add<real>(zero, v128.mul<real>(a1, v128.load(at(rA, m + c1))));
    let other = v128.add<real>(zero, v128.mul<real>(a2, v128.load(at(rA, m + c2))));
    other = v128.add<real>(other, v128.mul<real>(a0, v128.load(at(rA, m + c2 + 1))));
    if (two) {
      one = v128.add<real>(one, v128.mul<real>(b1, v128.load(at(rB, m + c1))));
      other = v128.add<real>(other, v128.mul<real>(b2, v128.load(at(rB, m + c2))));
      other = v128.add<real>(other, v128.mul<real>(b0, v128.load(at(rB, m + c2 + 1))));
    }
    if (oneIsEven) storeInterleaved(at(drow, 2 * m), one, other);
    else storeInterleaved(at(drow, 2 * m), other, one);
    m += L;
    if (m >= pairs) break;
  }
}

/** One plane of dx (H, W) from the framed dout dp (rows from ohLo, columns from owLo, Wq wide). */
function dxPlane(
  d: usize, dp: usize, Wq: i32, ohLo: i32, owLo: i32, wc: usize, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
): void {
  const L = <i32>LANES;
  const zero = v128.splat<real>(0);
  const is3 = kh == 3 && kw == 3;
  const fast3 = is3 && sh == 1 && sw == 1 && W >= L;
  const fast3s2 = is3 && sh == 2 && sw == 2 && (W >> 1) >= L;
  // Stride 1, 3x3: the forward's row loop with the weights flipped (taps in output order).
  const f00 = fast3 ? wsplat(wc, 8) : zero, f01 = fast3 ? wsplat(wc, 7) : zero, f02 = fast3 ? wsplat(wc, 6) : zero;
  const f10 = fast3 ? wsplat(wc, 5) : zero, f11 = fast3 ? wsplat(wc, 4) : zero, f12 = fast3 ? wsplat(wc, 3) : zero;
  const f20 = fast3 ? wsplat(wc, 2) : zero, f21 = fast3 ? wsplat(wc, 1) : zero, f22 = fast3 ? wsplat(wc, 0) : zero;
  // Stride 2 columns: the even pixels' first tap kjE, the odd ones' kjO.
  const kjE = topTap(0, pw, kw, 2), kjO = topTap(1, pw, kw, 2);
  // Row ih's first tap and its output row without a division per row: t = ih + ph - (kh - 1) =
  // base·sh + r, 0 <= r < sh; kiTop = kh - 1 - (r ? sh - r : 0), its output row base + (r ? 1 : 0).
  let r = (ph - (kh - 1)) % sh;
  if (r < 0) r += sh;
  let base = floorDiv(ph - (kh - 1), sh);
  for (let ih = 0; ih < H; ih++, r++) {
    if (r == sh) {
      r = 0;
      base++;
    }
    const drow = at(d, ih * W);
    const kiTop = kh - 1 - (r != 0 ? sh - r : 0);
    if (kiTop < 0) {
      memory.fill(drow, 0, <usize>W << SHIFT);
      continue;
    }
    const drow0 = at(dp, (base + (r != 0 ? 1 : 0) - ohLo) * Wq); // the frame row of the first tap's output row
    let iw = 0;
    if (fast3) {
      // Output rows ih + ph - 2, -1, -0 (three frame rows from drow0), columns from iw + pw - 2.
      const r0 = at(drow0, pw - 2 - owLo);
      row3x3(drow, r0, at(r0, Wq), at(r0, 2 * Wq), false, W, zero, f00, f01, f02, f10, f11, f12, f20, f21, f22);
      continue;
    }
    if (fast3s2) {
      // kiTop is 1 (one tap row) or 2 (rows 2 and 0); the column classes take kj = 1 and kj = 2, 0.
      const wA = at(wc, kiTop * 3), wB = wc;
      const two = kiTop == 2;
      const oneIsEven = kjE == 1;
      const r1 = oneIsEven ? 0 : 1; // the parity of the kj = 1 pixels
      const c1 = (r1 + pw - 1) >> 1, c2 = (1 - r1 + pw - 2) >> 1;
      dxRow3x3s2(
        drow, at(drow0, -owLo), at(drow0, Wq - owLo), two, W >> 1, c1, c2, oneIsEven,
        wsplat(wA, 0), wsplat(wA, 1), wsplat(wA, 2), wsplat(wB, 0), wsplat(wB, 1), wsplat(wB, 2),
      );
      iw = W & ~1;
    } else if (sw == 1 && W >= L) {
      // Tap kj reads column iw + pw - kj: the first (kj = kw - 1) at iw + pw - kw + 1.
      while (true) {
        if (iw + L > W) iw = W - L;
        v128.store(at(drow, iw), dxRun1(wc, kw, sh, Wq, drow0, kiTop, iw + pw - kw + 1 - owLo));
        iw += L;
        if (iw >= W) break;
      }
    } else if (sw == 2 && (W >> 1) >= L) {
      // Blocks of 2·LANES pixels from iw = 2m, the last overlapping: even pixels' taps from kjE, odd ones' from kjO.
      const pairs = W >> 1;
      let m = 0;
      while (true) {
        if (m + L > pairs) m = pairs - L;
        const even = kjE >= 0 ? dxRun2(wc, kw, sh, Wq, drow0, kiTop, kjE, m + ((pw - kjE) >> 1) - owLo) : zero;
        const odd = kjO >= 0 ? dxRun2(wc, kw, sh, Wq, drow0, kiTop, kjO, m + ((1 + pw - kjO) >> 1) - owLo) : zero;
        storeInterleaved(at(drow, 2 * m), even, odd);
        m += L;
        if (m >= pairs) break;
      }
      iw = W & ~1;
    }
    for (; iw < W; iw++) {
      const kjTop = topTap(iw, pw, kw, sw);
      store<real>(at(drow, iw), kjTop < 0 ? 0 : dxPixel(wc, kw, sh, sw, Wq, drow0, kiTop, kjTop, (iw + pw - kjTop) / sw - owLo));
    }
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

/** The first `count` (< LANES) values at p in a zeroed vector. */
@inline function loadPartial(p: usize, count: i32): v128 {
  let v = v128.splat<real>(0);
  if (FLOAT32) {
    v = f32x4.replace_lane(v, 0, load<f32>(p));
    if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
    if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  } else {
    v = f64x2.replace_lane(v, 0, load<f64>(p));
  }
  return v;
}

/** All ones in lanes [0, count), zeros above. */
@inline function laneMask(count: i32): v128 {
  if (FLOAT32) return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(count));
  return i64x2.lt_s(i64x2(0, 1), i64x2.splat(count));
}

/** acc + g · v, the products masked to `mask` (all ones but on a partial last vector). */
@inline function maskedAdd(acc: v128, g: v128, v: v128, mask: v128): v128 {
  return v128.add<real>(acc, v128.and(v128.mul<real>(g, v), mask));
}
@inline function plainAdd(acc: v128, g: v128, v: v128): v128 {
  return v128.add<real>(acc, v128.mul<real>(g, v));
}

/** The three tap vectors of one framed row at p for LANES outputs: stride 1, or stride 2 sharing the loads of taps 0 and 1. */
@inline function rowTap0(p: usize, stride2: bool): v128 {
  if (!stride2) return v128.load(p);
  const a = v128.load(p), b = v128.load(p, LANES << SHIFT);
  return FLOAT32 ? v128.shuffle<u32>(a, b, 0, 2, 4, 6) : v128.shuffle<u64>(a, b, 0, 2);
}
@inline function rowTap1(p: usize, stride2: bool): v128 {
  if (!stride2) return v128.load(p, 1 << SHIFT);
  const a = v128.load(p), b = v128.load(p, LANES << SHIFT);
  return FLOAT32 ? v128.shuffle<u32>(a, b, 1, 3, 5, 7) : v128.shuffle<u64>(a, b, 1, 3);
}
@inline function rowTap2(p: usize, stride2: bool): v128 {
  return stride2 ? loadEven(p + (2 << SHIFT)) : v128.load(p, 2 << SHIFT);
}

/**
 * dw (nine taps at dwc) and db (at dbc) of one 3x3 channel over images [n0, n1): the nine lane
 * accumulators and db's in registers; each image framed into xp first. Stride constant after inlining.
 */
@inline function channelSums3x3(
  stride2: bool, dwc: usize, dbc: usize, dout: usize, x: usize, xp: usize, c: i32, n0: i32, n1: i32,
  C: i32, H: i32, W: i32, ph: i32, pw: i32, Hp: i32, Wp: i32, sh: i32, Ho: i32, Wo: i32,
): void {
  const L = <i32>LANES;
  const sw = stride2 ? 2 : 1;
  const full = Wo / L * L;
  const mask = laneMask(Wo - full);
  let db = v128.splat<real>(0);
  let a00 = db, a01 = db, a02 = db, a10 = db, a11 = db, a12 = db, a20 = db, a21 = db, a22 = db;
  for (let n = n0; n < n1; n++) {
    const p = n * C + c;
    const g = at(dout, p * Ho * Wo);
    frameInput(xp, at(x, p * H * W), H, W, ph, pw, Hp, Wp);
    for (let oh = 0; oh < Ho; oh++) {
      const grow = at(g, oh * Wo);
      const r0 = at(xp, oh * sh * Wp), r1 = at(r0, Wp), r2 = at(r0, 2 * Wp);
      for (let ow = 0; ow < full; ow += L) {
        const gv = v128.load(at(grow, ow));
        const col = ow * sw;
        db = v128.add<real>(db, gv);
        a00 = plainAdd(a00, gv, rowTap0(at(r0, col), stride2));
        a01 = plainAdd(a01, gv, rowTap1(at(r0, col), stride2));
        a02 = plainAdd(a02, gv, rowTap2(at(r0, col), stride2));
        a10 = plainAdd(a10, gv, rowTap0(at(r1, col), stride2));
        a11 = plainAdd(a11, gv, rowTap1(at(r1, col), stride2));
        a12 = plainAdd(a12, gv, rowTap2(at(r1, col), stride2));
        a20 = plainAdd(a20, gv, rowTap0(at(r2, col), stride2));
        a21 = plainAdd(a21, gv, rowTap1(at(r2, col), stride2));
        a22 = plainAdd(a22, gv, rowTap2(at(r2, col), stride2));
      }
      if (full < Wo) {
        // The partial last vector: dout's missing lanes are zeros (db adds +0: no change), the products masked.
        const gv = loadPartial(at(grow, full), Wo - full);
        const col = full * sw;
        db = v128.add<real>(db, gv);
        a00 = maskedAdd(a00, gv, rowTap0(at(r0, col), stride2), mask);
        a01 = maskedAdd(a01, gv, rowTap1(at(r0, col), stride2), mask);
        a02 = maskedAdd(a02, gv, rowTap2(at(r0, col), stride2), mask);
        a10 = maskedAdd(a10, gv, rowTap0(at(r1, col), stride2), mask);
        a11 = maskedAdd(a11, gv, rowTap1(at(r1, col), stride2), mask);
        a12 = maskedAdd(a12, gv, rowTap2(at(r1, col), stride2), mask);
        a20 = maskedAdd(a20, gv, rowTap0(at(r2, col), stride2), mask);
        a21 = maskedAdd(a21, gv, rowTap1(at(r2, col), stride2), mask);
        a22 = maskedAdd(a22, gv, rowTap2(at(r2, col), stride2), mask);
      }
    }
  }
  store<real>(dwc, laneSum(a00));
  store<real>(at(dwc, 1), laneSum(a01));
  store<real>(at(dwc, 2), laneSum(a02));
  store<real>(at(dwc, 3), laneSum(a10));
  store<real>(at(dwc, 4), laneSum(a11));
  store<real>(at(dwc, 5), laneSum(a12));
  store<real>(at(dwc, 6), laneSum(a20));
  store<real>(at(dwc, 7), laneSum(a21));
  store<real>(at(dwc, 8), laneSum(a22));
  store<real>(dbc, laneSum(db));
}

/**
 * dw and db of one channel for any kernel and stride: the K lane accumulators in accs (memory),
 * one tap at a time; strides other than 1 and 2 one column at a time into lane ow % LANES.
 */
function channelSums(
  dwc: usize, dbc: usize, accs: usize, dout: usize, x: usize, xp: usize, c: i32, n0: i32, n1: i32,
  C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Hp: i32, Wp: i32, Ho: i32, Wo: i32,
): void {
  const L = <i32>LANES;
  const K = kh * kw;
  const simd = sw == 1 || sw == 2;
  const ones = v128.splat<i32>(-1);
  let db = v128.splat<real>(0);
  memory.fill(accs, 0, <usize>(K * L) << SHIFT);
  for (let n = n0; n < n1; n++) {
    const p = n * C + c;
    const g = at(dout, p * Ho * Wo);
    frameInput(xp, at(x, p * H * W), H, W, ph, pw, Hp, Wp);
    for (let oh = 0; oh < Ho; oh++) {
      const grow = at(g, oh * Wo);
      const top = at(xp, oh * sh * Wp);
      for (let ow = 0; ow < Wo; ow += L) {
        const isFull = ow + L <= Wo;
        const gv = isFull ? v128.load(at(grow, ow)) : loadPartial(at(grow, ow), Wo - ow);
        db = v128.add<real>(db, gv); // a partial vector's zero lanes add +0: no change
        if (!simd) continue;
        const mask = isFull ? ones : laneMask(Wo - ow);
        for (let ki = 0; ki < kh; ki++) {
          const row = at(top, ki * Wp + ow * sw);
          for (let kj = 0; kj < kw; kj++) {
            const a = accs + (<usize>(ki * kw + kj) << 4);
            v128.store(a, maskedAdd(v128.load(a), gv, loadStrided(at(row, kj), sw == 2), mask));
          }
        }
      }
      if (!simd) {
        for (let ow = 0; ow < Wo; ow++) {
          const gs = load<real>(at(grow, ow));
          for (let ki = 0; ki < kh; ki++) {
            const row = at(top, ki * Wp + ow * sw);
            for (let kj = 0; kj < kw; kj++) {
              const a = at(accs + (<usize>(ki * kw + kj) << 4), ow % L);
              store<real>(a, load<real>(a) + gs * load<real>(at(row, kj)));
            }
          }
        }
      }
    }
  }
  for (let t = 0; t < K; t++) store<real>(at(dwc, t), laneSum(v128.load(accs + (<usize>t << 4))));
  store<real>(dbc, laneSum(db));
}

/**
 * Chunks q in [q0, q1) of the backward pass: chunk q covers images [q·G, min(N, (q+1)·G)) and
 * writes its slice partials + q·(C·K + C) (dw sums (C, K) then db sums (C), K = kh·kw), and,
 * when dx != 0, dx (N, C, H, W) for its images (overwritten). dout: (N, C, Ho, Wo), x: (N, C, H, W),
 * w: (C, K). work as for depthwise_forward. Sizes as for depthwise_forward.
 */
export function depthwise_backward_chunks(
  dx: usize, partials: usize, dout: usize, x: usize, w: usize,
  N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, Ho: i32, Wo: i32, G: i32, q0: i32, q1: i32, work: usize,
): void {
  const K = kh * kw;
  const Hp = framedRows(Ho, sh, kh), Wp = framedCols(Wo, sw, kw);
  const ohLo = floorDiv(ph - kh + 1, sh), ohHi = floorDiv(H - 1 + ph, sh);
  const owLo = floorDiv(pw - kw + 1, sw), owHi = floorDiv(W - 1 + pw, sw);
  const Wq = owHi - owLo + 1;
  const xp = work;
  const dp = at(xp, vectors(Hp * Wp));
  const accs = at(dp, vectors((ohHi - ohLo + 1) * Wq));
  memory.fill(xp, 0, <usize>(Hp * Wp) << SHIFT);
  memory.fill(dp, 0, <usize>((ohHi - ohLo + 1) * Wq) << SHIFT);
  const fast3 = kh == 3 && kw == 3 && (sw == 1 || sw == 2);
  for (let q = q0; q < q1; q++) {
    const n0 = q * G, n1 = min(N, n0 + G);
    const slice = at(partials, q * (C * K + C));
    for (let c = 0; c < C; c++) {
      const dwc = at(slice, c * K), dbc = at(slice, C * K + c);
      if (fast3 && sw == 1) channelSums3x3(false, dwc, dbc, dout, x, xp, c, n0, n1, C, H, W, ph, pw, Hp, Wp, sh, Ho, Wo);
      else if (fast3) channelSums3x3(true, dwc, dbc, dout, x, xp, c, n0, n1, C, H, W, ph, pw, Hp, Wp, sh, Ho, Wo);
      else channelSums(dwc, dbc, accs, dout, x, xp, c, n0, n1, C, H, W, kh, kw, sh, sw, ph, pw, Hp, Wp, Ho, Wo);
    }
    if (!dx) continue;
    for (let n = n0; n < n1; n++) {
      for (let c = 0; c < C; c++) {
        const p = n * C + c;
        copyBlock(dp, Wq, at(dout, p * Ho * Wo), Wo, max(0, ohLo), min(Ho, ohHi + 1), max(0, owLo), min(Wo, owHi + 1), ohLo, owLo);
        dxPlane(at(dx, p * H * W), dp, Wq, ohLo, owLo, at(w, c * K), H, W, kh, kw, sh, sw, ph, pw);
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
