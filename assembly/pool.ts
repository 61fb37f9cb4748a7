// Max-pooling over NCHW planes, no padding. For a window (ph, pw) and `stride` >= 1:
//   Ho = (H - ph) / stride + 1 (floor), Wo likewise; out[p, oh, ow] = max of the window at
//   (oh·stride, ow·stride) in plane p.
//
// The forward pass SAVES the argmax: argmax[p, oh, ow] = ih·W + iw, the index of the winner in its
// plane, stored as an exact f32 integer (the host keeps H·W <= 2^24), so the argmax buffer is an
// ordinary float tensor the host can cache or keep in a workspace. The backward pass is then a
// scatter-add of dout into dx at those indices: no recomputation, and overlapping windows
// (stride < window) accumulate naturally.
//
// Ties: the first maximum in row-major window order wins. NaN: a NaN in the window wins (the
// output is NaN, its gradient goes to the last NaN), so NaNs propagate instead of vanishing.
//
// 2x2 windows with stride 2 (the usual case) run in SIMD, four outputs at a time; other shapes
// use the scalar loops. Both give the same bits as the scalar twins in reference/pool.ts.

/** Scalar forward for plane rows; ow from ow0 to Wo. */
@inline function forwardRowScalar(
  out: usize, argmax: usize, plane: usize, W: i32, ph: i32, pw: i32, stride: i32, oh: i32, ow0: i32, Wo: i32,
): void {
  const h0 = oh * stride;
  for (let ow = ow0; ow < Wo; ow++) {
    const w0 = ow * stride;
    let bi = h0 * W + w0;
    let best = load<f32>(plane + (<usize>bi << 2));
    for (let ki = 0; ki < ph; ki++) {
      const rowIndex = (h0 + ki) * W + w0;
      for (let kj = 0; kj < pw; kj++) {
        if (ki == 0 && kj == 0) continue;
        const v = load<f32>(plane + (<usize>(rowIndex + kj) << 2));
        if (v > best || v != v) {
          best = v;
          bi = rowIndex + kj;
        }
      }
    }
    store<f32>(out + (<usize>ow << 2), best);
    if (argmax) store<f32>(argmax + (<usize>ow << 2), <f32>bi);
  }
}

/**
 * out, argmax (planes, Ho, Wo) = max-pool of x (planes, H, W) with window (ph, pw) and stride.
 * Preconditions: 1 <= ph <= H, 1 <= pw <= W, stride >= 1, Ho and Wo from the formula above,
 * H·W <= 2^24 (argmax values exact in f32). argmax = 0: out only (inference), same bits.
 */
export function f32_maxpool_forward(
  out: usize, argmax: usize, x: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  const simd = ph == 2 && pw == 2 && stride == 2;
  const lanes = f32x4(0, 2, 4, 6);
  const one = f32x4.splat(1);
  const down = f32x4.splat(<f32>W);
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * H * W) << 2);
    for (let oh = 0; oh < Ho; oh++) {
      const o = out + (<usize>((p * Ho + oh) * Wo) << 2);
      const a = argmax + (<usize>((p * Ho + oh) * Wo) << 2);
      let ow = 0;
      if (simd && !argmax) {
        // No argmax: the maxima only, with the same comparisons.
        const r0 = plane + (<usize>(2 * oh * W) << 2);
        const r1 = r0 + (<usize>W << 2);
        for (; ow + 4 <= Wo; ow += 4) {
          const c = <usize>(2 * ow) << 2;
          const a0 = v128.load(r0 + c), a1 = v128.load(r0 + c, 16);
          const b0 = v128.load(r1 + c), b1 = v128.load(r1 + c, 16);
          const v01 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
          const v10 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
          const v11 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
          let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
          best = v128.bitselect(v01, best, v128.or(f32x4.gt(v01, best), f32x4.ne(v01, v01)));
          best = v128.bitselect(v10, best, v128.or(f32x4.gt(v10, best), f32x4.ne(v10, v10)));
          best = v128.bitselect(v11, best, v128.or(f32x4.gt(v11, best), f32x4.ne(v11, v11)));
          v128.store(o + (<usize>ow << 2), best);
        }
      } else if (simd) {
        const r0 = plane + (<usize>(2 * oh * W) << 2);
        const r1 = r0 + (<usize>W << 2);
        for (; ow + 4 <= Wo; ow += 4) {
          // Columns 2ow .. 2ow+7 of both rows; even lanes are the windows' left columns.
          const c = <usize>(2 * ow) << 2;
          const a0 = v128.load(r0 + c), a1 = v128.load(r0 + c, 16);
          const b0 = v128.load(r1 + c), b1 = v128.load(r1 + c, 16);
          const v00 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
          const v01 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
          const v10 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
          const v11 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
          const first: i32 = 2 * oh * W + 2 * ow; // index of the first window's top-left
          const i00 = f32x4.add(f32x4.splat(<f32>first), lanes);
          const i01 = f32x4.add(i00, one);
          const i10 = f32x4.add(i00, down);
          const i11 = f32x4.add(i10, one);
          let best = v00, bi = i00;
          let m = v128.or(f32x4.gt(v01, best), f32x4.ne(v01, v01));
          best = v128.bitselect(v01, best, m); bi = v128.bitselect(i01, bi, m);
          m = v128.or(f32x4.gt(v10, best), f32x4.ne(v10, v10));
          best = v128.bitselect(v10, best, m); bi = v128.bitselect(i10, bi, m);
          m = v128.or(f32x4.gt(v11, best), f32x4.ne(v11, v11));
          best = v128.bitselect(v11, best, m); bi = v128.bitselect(i11, bi, m);
          v128.store(o + (<usize>ow << 2), best);
          v128.store(a + (<usize>ow << 2), bi);
        }
      }
      forwardRowScalar(o, argmax ? a : 0, plane, W, ph, pw, stride, oh, ow, Wo);
    }
  }
}

/**
 * dx (planes, H, W) = the max-pool gradient: overwritten with zeros, then dout[p, oh, ow] is added
 * at argmax[p, oh, ow] (in order of p, oh, ow, so overlapping windows accumulate deterministically).
 * dout, argmax: (planes, Ho, Wo), argmax as written by f32_maxpool_forward with the same sizes.
 */
export function f32_maxpool_backward(
  dx: usize, dout: usize, argmax: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  if (ph == 2 && pw == 2 && stride == 2) {
    backward2x2(dx, dout, argmax, planes, H, W, Ho, Wo);
    return;
  }
  const total = <usize>(planes * H * W);
  const z = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 4 <= total; i += 4) v128.store(dx + (i << 2), z);
  for (; i < total; i++) store<f32>(dx + (i << 2), 0);
  const P = Ho * Wo;
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * H * W) << 2);
    const g = dout + (<usize>(p * P) << 2);
    const a = argmax + (<usize>(p * P) << 2);
    for (let o = 0; o < P; o++) {
      const d = plane + (<usize><i32>load<f32>(a + (<usize>o << 2)) << 2);
      store<f32>(d, load<f32>(d) + load<f32>(g + (<usize>o << 2)));
    }
  }
}

// Non-overlapping 2x2 windows: each dx element belongs to at most one window, so dx can be
// written directly (0 + g where the argmax points, 0 elsewhere) without a separate zeroing pass.
// "0 + g" rather than "g" keeps the bits equal to the scatter (0 + -0 is +0).
function backward2x2(dx: usize, dout: usize, argmax: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32): void {
  const z = f32x4.splat(0);
  const lanes = f32x4(0, 2, 4, 6);
  const one = f32x4.splat(1);
  const down = f32x4.splat(<f32>W);
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * H * W) << 2);
    for (let oh = 0; oh < Ho; oh++) {
      const r0 = plane + (<usize>(2 * oh * W) << 2);
      const r1 = r0 + (<usize>W << 2);
      const g = dout + (<usize>((p * Ho + oh) * Wo) << 2);
      const a = argmax + (<usize>((p * Ho + oh) * Wo) << 2);
      let ow = 0;
      for (; ow + 4 <= Wo; ow += 4) {
        const gv = v128.load(g + (<usize>ow << 2));
        const bi = v128.load(a + (<usize>ow << 2));
        const first: i32 = 2 * oh * W + 2 * ow;
        const i00 = f32x4.add(f32x4.splat(<f32>first), lanes);
        const i10 = f32x4.add(i00, down);
        const d00 = f32x4.add(z, v128.and(gv, f32x4.eq(bi, i00)));
        const d01 = f32x4.add(z, v128.and(gv, f32x4.eq(bi, f32x4.add(i00, one))));
        const d10 = f32x4.add(z, v128.and(gv, f32x4.eq(bi, i10)));
        const d11 = f32x4.add(z, v128.and(gv, f32x4.eq(bi, f32x4.add(i10, one))));
        const c = <usize>(2 * ow) << 2;
        v128.store(r0 + c, v128.shuffle<f32>(d00, d01, 0, 4, 1, 5));
        v128.store(r0 + c, v128.shuffle<f32>(d00, d01, 2, 6, 3, 7), 16);
        v128.store(r1 + c, v128.shuffle<f32>(d10, d11, 0, 4, 1, 5));
        v128.store(r1 + c, v128.shuffle<f32>(d10, d11, 2, 6, 3, 7), 16);
      }
      for (; ow < Wo; ow++) {
        const c = <usize>(2 * ow) << 2;
        store<f32>(r0 + c, 0); store<f32>(r0 + c, 0, 4);
        store<f32>(r1 + c, 0); store<f32>(r1 + c, 0, 4);
        const bi = <i32>load<f32>(a + (<usize>ow << 2));
        const d = plane + (<usize>bi << 2);
        store<f32>(d, load<f32>(d) + load<f32>(g + (<usize>ow << 2)));
      }
      // An odd last column lies in no window.
      for (let iw = 2 * Wo; iw < W; iw++) {
        store<f32>(r0 + (<usize>iw << 2), 0);
        store<f32>(r1 + (<usize>iw << 2), 0);
      }
    }
    // So does an odd last row.
    for (let i = 2 * Ho * W; i < H * W; i++) store<f32>(plane + (<usize>i << 2), 0);
  }
}
