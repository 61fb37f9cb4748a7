// A bench-only prototype, not library code: y(m,n) = x(m,k) · W(k,n) + bias one row of x at a time
// (GEMV), reading W in place (no packing) and never padding m to the 4-row micro-panel. It
// estimates what a small-batch path (issue 22) would gain, and shows one can keep the library's
// bits: each output element is summed exactly as assembly/gemm.ts sums it (see its "Summation
// order": per KC-deep slice, one lane, products added one at a time from 0, p ascending; first
// slice r = s_0 + bias, C = r; later slices C = C + s_b), so the results are bit-identical to
// f32_gemm_nn's. bench/overhead.mjs checks that before it times anything.

const KC: usize = 256; // assembly/gemm.ts's slice depth: the bits depend on it
const NB: usize = 32; // columns per block: 8 f32x4 accumulators (+ x splat + W load + product)

export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

/** ReLU as f32_relu computes it: keep the lanes where !(v <= 0) (positives and NaN), else +0. */
@inline function relu4(v: v128): v128 {
  return v128.andnot(v, f32x4.le(v, f32x4.splat(0)));
}

/**
 * Columns [j, j+32) of one row: y = [y +] (Σ_{p in [p0, p1)} x_p · W[p, j..j+32)) [+ bias], then
 * ReLU when `relu` (the last slice only: the fused epilogue).
 */
@inline function block32(y: usize, x: usize, w: usize, ldw: usize, p0: usize, p1: usize, bias: usize, addC: bool, relu: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  let wp = w + p0 * ldw;
  for (let p = p0; p < p1; p++) {
    const xv = v128.load32_splat(x + (p << 2));
    c0 = f32x4.add(c0, f32x4.mul(xv, v128.load(wp, 0)));
    c1 = f32x4.add(c1, f32x4.mul(xv, v128.load(wp, 16)));
    c2 = f32x4.add(c2, f32x4.mul(xv, v128.load(wp, 32)));
    c3 = f32x4.add(c3, f32x4.mul(xv, v128.load(wp, 48)));
    c4 = f32x4.add(c4, f32x4.mul(xv, v128.load(wp, 64)));
    c5 = f32x4.add(c5, f32x4.mul(xv, v128.load(wp, 80)));
    c6 = f32x4.add(c6, f32x4.mul(xv, v128.load(wp, 96)));
    c7 = f32x4.add(c7, f32x4.mul(xv, v128.load(wp, 112)));
    wp += ldw;
  }
  if (bias) {
    c0 = f32x4.add(c0, v128.load(bias, 0)); c1 = f32x4.add(c1, v128.load(bias, 16));
    c2 = f32x4.add(c2, v128.load(bias, 32)); c3 = f32x4.add(c3, v128.load(bias, 48));
    c4 = f32x4.add(c4, v128.load(bias, 64)); c5 = f32x4.add(c5, v128.load(bias, 80));
    c6 = f32x4.add(c6, v128.load(bias, 96)); c7 = f32x4.add(c7, v128.load(bias, 112));
  }
  if (addC) {
    c0 = f32x4.add(v128.load(y, 0), c0); c1 = f32x4.add(v128.load(y, 16), c1);
    c2 = f32x4.add(v128.load(y, 32), c2); c3 = f32x4.add(v128.load(y, 48), c3);
    c4 = f32x4.add(v128.load(y, 64), c4); c5 = f32x4.add(v128.load(y, 80), c5);
    c6 = f32x4.add(v128.load(y, 96), c6); c7 = f32x4.add(v128.load(y, 112), c7);
  }
  if (relu) {
    c0 = relu4(c0); c1 = relu4(c1); c2 = relu4(c2); c3 = relu4(c3);
    c4 = relu4(c4); c5 = relu4(c5); c6 = relu4(c6); c7 = relu4(c7);
  }
  v128.store(y, c0, 0); v128.store(y, c1, 16); v128.store(y, c2, 32); v128.store(y, c3, 48);
  v128.store(y, c4, 64); v128.store(y, c5, 80); v128.store(y, c6, 96); v128.store(y, c7, 112);
}

/** Same for one column j (the tail past the last whole block of 32). */
@inline function column(y: usize, x: usize, w: usize, ldw: usize, p0: usize, p1: usize, bias: usize, addC: bool, relu: bool): void {
  let s: f32 = 0;
  let wp = w + p0 * ldw;
  for (let p = p0; p < p1; p++) {
    s += load<f32>(x + (p << 2)) * load<f32>(wp);
    wp += ldw;
  }
  if (bias) s += load<f32>(bias);
  if (addC) s = load<f32>(y) + s;
  store<f32>(y, relu && s <= 0 ? 0 : s);
}

/**
 * y(m,n) = x(m,k) · W(k,n) + bias (bias 0 or n floats), row-major, W read in place; with `relu`,
 * y = max(y, 0) in the same pass (as f32_relu would, after). Preconditions: k >= 1; pointers
 * 4-byte aligned ; y overlaps nothing.
 */
export function f32_gemv_rows(y: usize, x: usize, w: usize, bias: usize, m: usize, n: usize, k: usize, relu: bool): void {
  const ldw = n << 2;
  for (let i: usize = 0; i < m; i++) {
    const yi = y + ((i * n) << 2);
    const xi = x + ((i * k) << 2);
    for (let p0: usize = 0; p0 < k; p0 += KC) {
      const p1 = min(p0 + KC, k);
      const first = p0 == 0;
      const last = p1 == k;
      let j: usize = 0;
      for (; j + NB <= n; j += NB) block32(yi + (j << 2), xi, w + (j << 2), ldw, p0, p1, first && bias ? bias + (j << 2) : 0, !first, relu && last);
      for (; j < n; j++) column(yi + (j << 2), xi, w + (j << 2), ldw, p0, p1, first && bias ? bias + (j << 2) : 0, !first, relu && last);
    }
  }
}

// The same GEMV on op(B) packed once, in the layout f32_gemm_pack_b writes (assembly/gemm.ts:
// for each NC-wide column block, for each KC-deep slice, panels of kc x 8 floats, zero-padded past
// n). The panels are read front to back, four at a time, so W streams contiguously instead of one
// 128-byte piece per 1 KiB row. Same bits as f32_gemm_nn (and as f32_gemv_rows).

const NC: usize = 1024; // assembly/gemm.ts's column block

@inline function roundUp8(x: usize): usize {
  return (x + 7) & ~7;
}

/** Four panels (32 columns): y[0..32) = [y +] Σ_p x_p · panel[p] [+ bias], then ReLU when `relu`. */
@inline function panels4(y: usize, x: usize, pp: usize, kc: usize, bias: usize, addC: bool, relu: bool): void {
  const stride = kc << 5; // bytes per panel
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  let q0 = pp, q1 = pp + stride, q2 = pp + 2 * stride, q3 = pp + 3 * stride;
  const end = pp + stride;
  let xp = x;
  while (q0 < end) {
    const xv = v128.load32_splat(xp);
    c0 = f32x4.add(c0, f32x4.mul(xv, v128.load(q0, 0))); c1 = f32x4.add(c1, f32x4.mul(xv, v128.load(q0, 16)));
    c2 = f32x4.add(c2, f32x4.mul(xv, v128.load(q1, 0))); c3 = f32x4.add(c3, f32x4.mul(xv, v128.load(q1, 16)));
    c4 = f32x4.add(c4, f32x4.mul(xv, v128.load(q2, 0))); c5 = f32x4.add(c5, f32x4.mul(xv, v128.load(q2, 16)));
    c6 = f32x4.add(c6, f32x4.mul(xv, v128.load(q3, 0))); c7 = f32x4.add(c7, f32x4.mul(xv, v128.load(q3, 16)));
    q0 += 32; q1 += 32; q2 += 32; q3 += 32;
    xp += 4;
  }
  if (bias) {
    c0 = f32x4.add(c0, v128.load(bias, 0)); c1 = f32x4.add(c1, v128.load(bias, 16));
    c2 = f32x4.add(c2, v128.load(bias, 32)); c3 = f32x4.add(c3, v128.load(bias, 48));
    c4 = f32x4.add(c4, v128.load(bias, 64)); c5 = f32x4.add(c5, v128.load(bias, 80));
    c6 = f32x4.add(c6, v128.load(bias, 96)); c7 = f32x4.add(c7, v128.load(bias, 112));
  }
  if (addC) {
    c0 = f32x4.add(v128.load(y, 0), c0); c1 = f32x4.add(v128.load(y, 16), c1);
    c2 = f32x4.add(v128.load(y, 32), c2); c3 = f32x4.add(v128.load(y, 48), c3);
    c4 = f32x4.add(v128.load(y, 64), c4); c5 = f32x4.add(v128.load(y, 80), c5);
    c6 = f32x4.add(v128.load(y, 96), c6); c7 = f32x4.add(v128.load(y, 112), c7);
  }
  if (relu) {
    c0 = relu4(c0); c1 = relu4(c1); c2 = relu4(c2); c3 = relu4(c3);
    c4 = relu4(c4); c5 = relu4(c5); c6 = relu4(c6); c7 = relu4(c7);
  }
  v128.store(y, c0, 0); v128.store(y, c1, 16); v128.store(y, c2, 32); v128.store(y, c3, 48);
  v128.store(y, c4, 64); v128.store(y, c5, 80); v128.store(y, c6, 96); v128.store(y, c7, 112);
}

/** One panel of 8 columns, `nv` of them valid (the rest is padding): y[0..nv) as above. */
@inline function panel1(y: usize, x: usize, pp: usize, kc: usize, nv: usize, bias: usize, addC: bool, relu: bool): void {
  let lo = f32x4.splat(0), hi = f32x4.splat(0);
  const end = pp + (kc << 5);
  let xp = x;
  for (let q = pp; q < end; q += 32) {
    const xv = v128.load32_splat(xp);
    lo = f32x4.add(lo, f32x4.mul(xv, v128.load(q, 0)));
    hi = f32x4.add(hi, f32x4.mul(xv, v128.load(q, 16)));
    xp += 4;
  }
  for (let j: usize = 0; j < nv; j++) {
    let r: f32;
    // extract_lane needs a constant lane: spell the eight cases out.
    switch (<i32>j) {
      case 0: r = f32x4.extract_lane(lo, 0); break;
      case 1: r = f32x4.extract_lane(lo, 1); break;
      case 2: r = f32x4.extract_lane(lo, 2); break;
      case 3: r = f32x4.extract_lane(lo, 3); break;
      case 4: r = f32x4.extract_lane(hi, 0); break;
      case 5: r = f32x4.extract_lane(hi, 1); break;
      case 6: r = f32x4.extract_lane(hi, 2); break;
      default: r = f32x4.extract_lane(hi, 3); break;
    }
    if (bias) r += load<f32>(bias + (j << 2));
    if (addC) r = load<f32>(y + (j << 2)) + r;
    store<f32>(y + (j << 2), relu && r <= 0 ? 0 : r);
  }
}

/**
 * y(1,n) = x(1,k) · op(B) + bias [then ReLU], op(B) prepacked by f32_gemm_pack_b (n columns,
 * depth k). Preconditions: k >= 1; packed as f32_gemm_pack_b wrote it; y overlaps nothing.
 */
export function f32_gemv_packed(y: usize, x: usize, packed: usize, bias: usize, n: usize, k: usize, relu: bool): void {
  for (let jc: usize = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc: usize = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const first = pc == 0;
      const last = pc + kc == k;
      const slice = packed + ((jc * k + roundUp8(nc) * pc) << 2);
      const xs = x + (pc << 2);
      let j: usize = 0;
      for (; j + 32 <= nc; j += 32) {
        const col = jc + j;
        panels4(y + (col << 2), xs, slice + ((j * kc) << 2), kc, first && bias ? bias + (col << 2) : 0, !first, relu && last);
      }
      for (; j < nc; j += 8) {
        const col = jc + j;
        panel1(y + (col << 2), xs, slice + ((j * kc) << 2), kc, min(8, nc - j), first && bias ? bias + (col << 2) : 0, !first, relu && last);
      }
    }
  }
}
