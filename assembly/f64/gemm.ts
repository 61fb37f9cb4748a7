// Double-precision GEMM, the three products a layer needs. Row-major, contiguous (no strides).
//
//   f64_gemm_nn: C(m,n) = A(m,k)   · B(k,n)      forward  Y  = X · W
//   f64_gemm_tn: C(m,n) = A(k,m)ᵀ  · B(k,n)      weights  dW = Xᵀ · dY
//   f64_gemm_nt: C(m,n) = A(m,k)   · B(n,k)ᵀ     inputs   dX = dY · Wᵀ
//
// Same contract as gemm.ts: `bias` is 0 or a pointer to n doubles added to every row of C;
// `accumulate` adds the product to C; `work` is host-owned scratch of at least
// f64_gemm_work_bytes(m, n, k) bytes, 16-byte aligned; C overlaps nothing; any m, n, k >= 0.
//
// How: the GotoBLAS loop nest of gemm.ts with a 4x4 f64x2 register tile. For each NC-wide column
// block and KC-deep slice, op(B) is packed into KC x 4 panels (two f64x2 per k step, zero past n);
// for each MC-tall row block op(A) is packed SPLATTED (every value a whole f64x2, so the
// microkernel reads it with plain v128 loads); the 4x4 microkernel keeps 8 f64x2 accumulators
// (+2 B vectors, 1 A vector, 1 product: 12 live v128, the most V8 keeps in registers on x64).
// Packing is scalar with element strides (one routine for every variant): it is O(k·(m + n)) per
// slice against the tile's O(m·n·k).
//
// Summation order (deterministic, depends only on k): each C element is
//   s_b = Σ_{p in slice b, ascending} a·b   (products added one at a time, never fused)
//   first slice: r = s_0 (+ bias) ; C = accumulate ? C + r : r ;  later slices: C = C + s_b

const MR: usize = 4;
const NR: usize = 4;
/** Depth of a k slice (a packed B panel, KC x 4 x 8 B = 8 KiB, sits in L1). */
const KC: usize = 256;
/** Rows of op(A) packed at once (splatted: MC x KC x 16 B = 256 KiB, in L2). Multiple of MR. */
const MC: usize = 64;
/** Columns of op(B) packed at once (KC x NC x 8 B = 1 MiB). Multiple of NR. */
const NC: usize = 512;

@inline function roundUp(x: usize, to: usize): usize {
  return (x + to - 1) / to * to;
}

/** Scratch bytes the f64 GEMM kernels need for these sizes (packed B slice, splatted A block, one edge tile). */
export function f64_gemm_work_bytes(m: usize, n: usize, k: usize): usize {
  const kc = min(k, KC);
  return (roundUp(min(n, NC), NR) * kc << 3) + (roundUp(min(m, MC), MR) * kc << 4) + (MR * NR << 3);
}

/** C(m,n) (+)= A(m,k) · B(k,n) (+ bias) */
export function f64_gemm_nn(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
  gemm(c, a, b, m, n, k, bias, accumulate, work, k, 1, n, 1);
}

/** C(m,n) (+)= A(k,m)ᵀ · B(k,n) (+ bias) */
export function f64_gemm_tn(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
  gemm(c, a, b, m, n, k, bias, accumulate, work, 1, m, n, 1);
}

/** C(m,n) (+)= A(m,k) · B(n,k)ᵀ (+ bias) */
export function f64_gemm_nt(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
  gemm(c, a, b, m, n, k, bias, accumulate, work, k, 1, 1, k);
}

// op(A)(i, p) at a + (i·ai + p·ap)·8; op(B)(p, j) at b + (p·bp + j·bj)·8 (element strides).
function gemm(
  c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize,
  ai: usize, ap: usize, bp: usize, bj: usize,
): void {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    emptyProduct(c, m, n, bias, accumulate);
    return;
  }
  const kcMax = min(k, KC);
  const packedB = work;
  const packedA = packedB + ((roundUp(min(n, NC), NR) * kcMax) << 3);
  const edge = packedA + ((roundUp(min(m, MC), MR) * kcMax) << 4);
  const ldc = n << 3;
  for (let jc: usize = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc: usize = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const first = pc == 0;
      const addC = !first || accumulate;
      packB(packedB, b + ((pc * bp + jc * bj) << 3), bp, bj, kc, nc);
      for (let ic: usize = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(packedA, a + ((ic * ai + pc * ap) << 3), ai, ap, kc, mc);
        for (let ir: usize = 0; ir < mc; ir += MR) {
          const mr = min(MR, mc - ir);
          const apanel = packedA + ((ir * kc) << 4);
          const crow = c + (ic + ir) * ldc;
          for (let jr: usize = 0; jr < nc; jr += NR) {
            const nr = min(NR, nc - jr);
            const bpanel = packedB + ((jr * kc) << 3);
            const j = jc + jr;
            const biasJ: usize = first && bias != 0 ? bias + (j << 3) : 0;
            const cp = crow + (j << 3);
            if (mr == MR && nr == NR) microkernel4x4(apanel, bpanel, kc, cp, ldc, addC, biasJ);
            else {
              microkernel4x4(apanel, bpanel, kc, edge, NR << 3, false, 0);
              mergeEdge(cp, ldc, edge, mr, nr, addC, biasJ);
            }
          }
        }
      }
    }
  }
}

// k == 0: the product is all zeros, so C = bias (or 0), or C + bias when accumulating.
function emptyProduct(c: usize, m: usize, n: usize, bias: usize, accumulate: bool): void {
  for (let i: usize = 0; i < m; i++) {
    const ci = c + ((i * n) << 3);
    for (let j: usize = 0; j < n; j++) {
      const r: f64 = bias ? load<f64>(bias + (j << 3)) : 0;
      store<f64>(ci + (j << 3), accumulate ? load<f64>(ci + (j << 3)) + r : r);
    }
  }
}

/**
 * out(4,4) = [out +] (Σ_p ap[p](4) ⊗ bp[p](4)) [+ bias(4)]. ap: kc x 4 splatted A panel (64 B a
 * step); bp: kc x 4 B panel (32 B a step); out rows ldo bytes apart.
 */
function microkernel4x4(ap: usize, bp: usize, kc: usize, out: usize, ldo: usize, addC: bool, bias: usize): void {
  let c0l = f64x2.splat(0), c0h = f64x2.splat(0);
  let c1l = f64x2.splat(0), c1h = f64x2.splat(0);
  let c2l = f64x2.splat(0), c2h = f64x2.splat(0);
  let c3l = f64x2.splat(0), c3h = f64x2.splat(0);
  const end = bp + (kc << 5);
  while (bp < end) {
    const bl = v128.load(bp, 0), bh = v128.load(bp, 16);
    let av = v128.load(ap, 0);
    c0l = f64x2.add(c0l, f64x2.mul(av, bl)); c0h = f64x2.add(c0h, f64x2.mul(av, bh));
    av = v128.load(ap, 16);
    c1l = f64x2.add(c1l, f64x2.mul(av, bl)); c1h = f64x2.add(c1h, f64x2.mul(av, bh));
    av = v128.load(ap, 32);
    c2l = f64x2.add(c2l, f64x2.mul(av, bl)); c2h = f64x2.add(c2h, f64x2.mul(av, bh));
    av = v128.load(ap, 48);
    c3l = f64x2.add(c3l, f64x2.mul(av, bl)); c3h = f64x2.add(c3h, f64x2.mul(av, bh));
    ap += 64;
    bp += 32;
  }
  if (bias) {
    const bl = v128.load(bias, 0), bh = v128.load(bias, 16);
    c0l = f64x2.add(c0l, bl); c0h = f64x2.add(c0h, bh);
    c1l = f64x2.add(c1l, bl); c1h = f64x2.add(c1h, bh);
    c2l = f64x2.add(c2l, bl); c2h = f64x2.add(c2h, bh);
    c3l = f64x2.add(c3l, bl); c3h = f64x2.add(c3h, bh);
  }
  const o1 = out + ldo, o2 = o1 + ldo, o3 = o2 + ldo;
  if (addC) {
    c0l = f64x2.add(v128.load(out, 0), c0l); c0h = f64x2.add(v128.load(out, 16), c0h);
    c1l = f64x2.add(v128.load(o1, 0), c1l); c1h = f64x2.add(v128.load(o1, 16), c1h);
    c2l = f64x2.add(v128.load(o2, 0), c2l); c2h = f64x2.add(v128.load(o2, 16), c2h);
    c3l = f64x2.add(v128.load(o3, 0), c3l); c3h = f64x2.add(v128.load(o3, 16), c3h);
  }
  v128.store(out, c0l, 0); v128.store(out, c0h, 16);
  v128.store(o1, c1l, 0); v128.store(o1, c1h, 16);
  v128.store(o2, c2l, 0); v128.store(o2, c2h, 16);
  v128.store(o3, c3l, 0); v128.store(o3, c3h, 16);
}

// The valid mr x nr corner of an edge tile (rows 32 bytes apart) into C, with the epilogue's
// per-element operations: r = s (+ bias); C = [C +] r.
function mergeEdge(c: usize, ldc: usize, tile: usize, mr: usize, nr: usize, addC: bool, bias: usize): void {
  for (let i: usize = 0; i < mr; i++) {
    const ci = c + i * ldc;
    const ti = tile + ((i * NR) << 3);
    for (let j: usize = 0; j < nr; j++) {
      let r = load<f64>(ti + (j << 3));
      if (bias) r += load<f64>(bias + (j << 3));
      if (addC) r = load<f64>(ci + (j << 3)) + r;
      store<f64>(ci + (j << 3), r);
    }
  }
}

/** op(B)'s kc x w block into ceil(w/4) panels of kc x 4 (panel q at dst + q·kc·32), zero past w. */
function packB(dst: usize, src: usize, sp: usize, sj: usize, kc: usize, w: usize): void {
  for (let j0: usize = 0; j0 < w; j0 += NR) {
    const wq = min(NR, w - j0);
    for (let p: usize = 0; p < kc; p++) {
      const s = src + ((p * sp + j0 * sj) << 3);
      const d = dst + (p << 5);
      if (wq == NR && sj == 1) {
        v128.store(d, v128.load(s), 0);
        v128.store(d, v128.load(s, 16), 16);
      } else {
        let j: usize = 0;
        for (; j < wq; j++) store<f64>(d + (j << 3), load<f64>(s + ((j * sj) << 3)));
        for (; j < NR; j++) store<f64>(d + (j << 3), 0);
      }
    }
    dst += kc << 5;
  }
}

/** op(A)'s mc x kc block into ceil(mc/4) panels of kc x 4 splatted values (panel q at dst + q·kc·64), zero past mc. */
function packA(dst: usize, src: usize, si: usize, sp: usize, kc: usize, mc: usize): void {
  for (let i0: usize = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    for (let r: usize = 0; r < MR; r++) {
      let d = dst + (r << 4);
      if (r >= rows) {
        for (let p: usize = 0; p < kc; p++) { v128.store(d, f64x2.splat(0)); d += 64; }
        continue;
      }
      const s = src + (((i0 + r) * si) << 3);
      const step = sp << 3;
      for (let p: usize = 0; p < kc; p++) { v128.store(d, v128.load64_splat(s + p * step)); d += 64; }
    }
    dst += kc << 6;
  }
}
