// GEMM over `real` (f32 or f64, see real.ts), the three products a layer needs. Row-major,
// contiguous (no strides).
//
//   gemm_nn: C(m,n) = A(m,k)   · B(k,n)      forward  Y  = X · W
//   gemm_tn: C(m,n) = A(k,m)ᵀ  · B(k,n)      weights  dW = Xᵀ · dY
//   gemm_nt: C(m,n) = A(m,k)   · B(n,k)ᵀ     inputs   dX = dY · Wᵀ
//
// Common contract: `bias` is 0 or a pointer to n reals added to every row of C; `accumulate`
// adds the product to C's current contents instead of overwriting them; `act` (the range, rows
// and GEMV entry points) applies an activation to what is stored (ACT_RELU: max(., 0) exactly as
// elementwise.ts relu, on the final value, so a fused layer gives the bits of the two ops); `work` is host-owned
// scratch of at least gemm_work_bytes(m, n, k) bytes, 16-byte aligned. C must not overlap
// A, B or bias. Any m, n, k >= 0 (k == 0 gives C = bias, or C (+ bias) when accumulating).
//
// How (GotoBLAS / BLIS loop nest, XNNPACK-style wasmsimd "splat" microkernel, 4 x NR where a
// row of the tile is two v128: NR = 2·LANES, 4x8 for f32, 4x4 for f64):
//   for each NC-wide column block of C, for each KC-deep slice of k:
//     pack op(B)'s slice into KC x NR panels (zero-padded past n),
//     for each MC-tall row block, for each 4-row micro-panel of op(A):
//       for each NR-column panel: the 4 x NR microkernel
//       (a 4 x LANES one, one v128 a row, for a last panel at most LANES wide, e.g. f32 n = 100 = 12·8 + 4).
// op(A) is packed SPLATTED: every value stored as a whole v128 (LANES x the bytes), so the
// microkernel reads it with plain v128 loads. V8 folds a v128.load's constant offset into the
// address but not a load_splat's (one extra lea per broadcast, 3 per k step), and the leaner
// loop (no counter either: it runs to an end pointer) takes the kernel from ~88% to ~100% of
// the register-only ceiling. Aᵀ stored (k,m) (tn) is packed an MC block at a time (long reads
// along m); A stored (m,k) (nn, nt) is packed by the first full tile of each micro-panel while
// it computes (microkernel4x2vPacking), so the splatted panel is written while the store port
// idles and is reused from L1 by the other tiles of the row.
// The microkernel keeps 8 v128 accumulators (+2 B vectors + 1 A vector + 1 product: 12 live
// v128 of the 15 V8 allocates on x64; a 6 x NR tile spills) and reads both operands from packed,
// contiguous panels. A transposed B is packed with LANES x LANES SIMD transposes (4x4 f32, 2x2 f64).
// In bytes the two types block alike: a packed B row is 32 B, a splatted A step 64 B, a KC x NC
// slice of B 1 MiB, so the tiles, KC and MC are the same numbers and NC is 1024 f32 / 512 f64.
//
// Summation order (deterministic, depends only on k): each C element is
//   s_b = Σ_{p in slice b, ascending} a·b   (one v128 lane, products added one at a time)
//   first slice: r = s_0 (+ bias) ; C = accumulate ? C + r : r
//   later slices: C = C + s_b
// Strict SIMD128 only (mul then add, never fused), so every engine gives the same bits.
import { FLOAT32, LANES, SHIFT } from "./real";

/** The `act` argument: no activation, or ReLU in the store. */
const ACT_RELU: u32 = 1;

/** Microkernel tile: rows of A per panel, columns of B per panel (two v128: 8 f32, 4 f64). */
const MR: usize = 4;
const NR: usize = 2 * LANES;
/** Depth of a k slice (a packed B panel, KC x NR reals = 8 KiB, sits in L1). */
const KC: usize = 256;
/** Rows of Aᵀ packed at once (splatted: MC x KC x 16 B = 512 KiB, in L2). Multiple of MR. */
const MC: usize = 128;
/** Columns of B packed at once (KC x NC reals = 1 MiB, in L2/L3): 1024 f32, 512 f64. Multiple of NR. */
const NC: usize = 4096 / sizeof<real>();

@inline function roundUp(x: usize, to: usize): usize {
  return (x + to - 1) / to * to;
}

/** Scratch bytes the GEMM kernels need for these sizes (packed B slice, splatted A block, one edge tile). */
export function gemm_work_bytes(m: usize, n: usize, k: usize): usize {
  const kc = min(k, KC);
  return (roundUp(min(n, NC), NR) * kc + LANES * roundUp(min(m, MC), MR) * kc + MR * NR) << SHIFT;
}

/** C(m,n) (+)= A(m,k) · B(k,n) (+ bias) */
export function gemm_nn(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
  gemm(c, n << SHIFT, a, k << SHIFT, b, n << SHIFT, m, n, k, bias, accumulate, work, false, false);
}

/** C(m,n) (+)= A(k,m)ᵀ · B(k,n) (+ bias) */
export function gemm_tn(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
  gemm(c, n << SHIFT, a, m << SHIFT, b, n << SHIFT, m, n, k, bias, accumulate, work, true, false);
}

/** C(m,n) (+)= A(m,k) · B(n,k)ᵀ (+ bias) */
export function gemm_nt(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize): void {
  gemm(c, n << SHIFT, a, k << SHIFT, b, k << SHIFT, m, n, k, bias, accumulate, work, false, true);
}

// Range entry points: one thread's share of a product. Each computes only the block
// C[i0..i1, j0..j1) of the full (m, n) product (same operands, same sizes as the whole-matrix
// kernels above) and touches nothing else of C. `work` needs gemm_work_bytes(i1-i0, j1-j0, k)
// bytes. An element's sum depends only on k (see "Summation order"), never on which tile or edge
// of the block it falls in, so any split into blocks gives the same bits as one whole call.
// Preconditions: i0 <= i1 <= m, j0 <= j1 <= n (an empty block does nothing).

/** The block [i0, i1) x [j0, j1) of C(m,n) (+)= A(m,k) · B(k,n) (+ bias). */
export function gemm_nn_range(
  c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize,
  i0: usize, i1: usize, j0: usize, j1: usize, act: u32,
): void {
  gemm(c + ((i0 * n + j0) << SHIFT), n << SHIFT, a + ((i0 * k) << SHIFT), k << SHIFT, b + (j0 << SHIFT), n << SHIFT,
    i1 - i0, j1 - j0, k, bias ? bias + (j0 << SHIFT) : 0, accumulate, work, false, false, 0, act);
}

/** The block [i0, i1) x [j0, j1) of C(m,n) (+)= A(k,m)ᵀ · B(k,n) (+ bias). */
export function gemm_tn_range(
  c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize,
  i0: usize, i1: usize, j0: usize, j1: usize, act: u32,
): void {
  gemm(c + ((i0 * n + j0) << SHIFT), n << SHIFT, a + (i0 << SHIFT), m << SHIFT, b + (j0 << SHIFT), n << SHIFT,
    i1 - i0, j1 - j0, k, bias ? bias + (j0 << SHIFT) : 0, accumulate, work, true, false, 0, act);
}

/** The block [i0, i1) x [j0, j1) of C(m,n) (+)= A(m,k) · B(n,k)ᵀ (+ bias). */
export function gemm_nt_range(
  c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize,
  i0: usize, i1: usize, j0: usize, j1: usize, act: u32,
): void {
  gemm(c + ((i0 * n + j0) << SHIFT), n << SHIFT, a + ((i0 * k) << SHIFT), k << SHIFT, b + ((j0 * k) << SHIFT), k << SHIFT,
    i1 - i0, j1 - j0, k, bias ? bias + (j0 << SHIFT) : 0, accumulate, work, false, true, 0, act);
}

// Prepacked B (row splits): op(B) packed once into a buffer every task shares, so splitting C by
// rows into many small tasks (claimed by whichever thread is free) does not repack all of op(B)
// in each. Layout: for each NC-wide column block jc, for each KC-deep slice pc, the slice's panels
// as gemm packs them (roundUp(nc, NR) x kc reals), at element offset jc*k + roundUp(nc, NR)*pc.
// Packing is a copy: results are the same bits as with the tasks' own packing.

/** Bytes of the whole packed op(B) for n columns and depth k. */
export function gemm_packed_b_bytes(n: usize, k: usize): usize {
  return (roundUp(n, NR) * k) << SHIFT;
}

/**
 * Packs blocks [t0, t1) of op(B) into `packed`: block t is slice t % slices of column block
 * t / slices, where slices = ceil(k / KC) (so tasks can split the packing by block ranges).
 */
export function gemm_pack_b(packed: usize, b: usize, n: usize, k: usize, bT: bool, t0: usize, t1: usize): void {
  const slices = (k + KC - 1) / KC;
  const ldb: usize = bT ? k << SHIFT : n << SHIFT;
  for (let t = t0; t < t1; t++) {
    const jc = t / slices * NC;
    const pc = t % slices * KC;
    if (jc >= n || pc >= k) continue;
    const nc = min(NC, n - jc);
    const kc = min(KC, k - pc);
    const dst = packed + ((jc * k + roundUp(nc, NR) * pc) << SHIFT);
    if (bT) packTransposed(dst, b + jc * ldb + (pc << SHIFT), ldb, kc, nc, NR);
    else packStraight(dst, b + pc * ldb + (jc << SHIFT), ldb, kc, nc, NR);
  }
}

/** Blocks gemm_pack_b splits the packing into: ceil(n / NC) * ceil(k / KC). */
export function gemm_pack_b_blocks(n: usize, k: usize): usize {
  return (n + NC - 1) / NC * ((k + KC - 1) / KC);
}

/** Rows [i0, i1) of C(m,n) (+)= A(m,k) · op(B) (+ bias), op(B) prepacked by gemm_pack_b. */
export function gemm_nn_rows_packed(
  c: usize, a: usize, packed: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize,
  i0: usize, i1: usize, act: u32,
): void {
  if (i1 > m) i1 = m;
  if (i0 >= i1) return;
  gemm(c + ((i0 * n) << SHIFT), n << SHIFT, a + ((i0 * k) << SHIFT), k << SHIFT, 0, 0, i1 - i0, n, k, bias, accumulate, work, false, false, packed, act);
}

/** Rows [i0, i1) of C(m,n) (+)= A(k,m)ᵀ · op(B) (+ bias), op(B) prepacked by gemm_pack_b. */
export function gemm_tn_rows_packed(
  c: usize, a: usize, packed: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, work: usize,
  i0: usize, i1: usize, act: u32,
): void {
  if (i1 > m) i1 = m;
  if (i0 >= i1) return;
  gemm(c + ((i0 * n) << SHIFT), n << SHIFT, a + (i0 << SHIFT), m << SHIFT, 0, 0, i1 - i0, n, k, bias, accumulate, work, true, false, packed, act);
}

// GEMV: m < MR rows (batch 1-3 inference) one row at a time, so no row of a 4-row micro-panel is
// computed for nothing. Every element is summed exactly as the engine sums it ("Summation order":
// per KC slice from 0, p ascending, one lane per column; the first slice's sum + bias, later
// slices onto C; the activation on the final value), so a row gets the bits the 4-row microkernel
// gives it, whatever the column range a thread takes. B is read in place (no packing: one use of
// each value) or from gemm_pack_b's panels (weights packed once, then streamed contiguously).
// Full slices of packed panels go four panels at a time (gemv8Slice). The other blocks keep SIX
// v128 accumulators: with the six B vectors V8 loads first, the A splat and a product that is 14
// of the 15 registers it allocates (eight spill one accumulator to the stack, and its
// store-to-load round trip each k step halved the speed), and six independent adds in flight
// cover the add latency (3 cycles, 2 a cycle). Narrower blocks finish a row.

/** Columns per wide GEMV block: three NR panels, six v128 (24 f32, 12 f64). */
const GB: usize = 3 * NR;

/**
 * Columns [j0, j1) of C(m,n) (+)= A(m,k) · B(k,n) (+ bias), then `act`; B (k, n) read in place.
 * Any m (meant for m < 4); j0 <= j1 (clamped to n): a column range per thread.
 */
export function gemv_nn_range(
  c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, act: u32, j0: usize, j1: usize,
): void {
  if (j1 > n) j1 = n;
  if (m == 0 || j0 >= j1) return;
  if (k == 0) {
    emptyProduct(c + (j0 << SHIFT), n << SHIFT, m, j1 - j0, bias ? bias + (j0 << SHIFT) : 0, accumulate, act == ACT_RELU);
    return;
  }
  const ldb = n << SHIFT;
  for (let pc: usize = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    const first = pc == 0;
    const addC = !first || accumulate;
    const relu = act == ACT_RELU && pc + kc == k;
    const bp = b + pc * ldb;
    for (let i: usize = 0; i < m; i++) {
      const ci = c + ((i * n) << SHIFT);
      const ap = a + ((i * k + pc) << SHIFT);
      let j = j0;
      for (; j + GB <= j1; j += GB) gemv6(ci + (j << SHIFT), ap, bp + (j << SHIFT), 32, 64, ldb, kc, first && bias ? bias + (j << SHIFT) : 0, addC, relu);
      if (j + 2 * NR <= j1) {
        gemv4(ci + (j << SHIFT), ap, bp + (j << SHIFT), 32, ldb, kc, first && bias ? bias + (j << SHIFT) : 0, addC, relu);
        j += 2 * NR;
      }
      if (j + NR <= j1) {
        gemv2(ci + (j << SHIFT), ap, bp + (j << SHIFT), ldb, kc, first && bias ? bias + (j << SHIFT) : 0, addC, relu);
        j += NR;
      }
      for (; j < j1; j++) gemvColumn(ci + (j << SHIFT), ap, bp + (j << SHIFT), ldb, kc, first && bias ? bias + (j << SHIFT) : 0, addC, relu);
    }
  }
}

/**
 * Columns [j0, j1) of C(m,n) (+)= A(m,k) · op(B) (+ bias), then `act`; op(B) packed by gemm_pack_b
 * (n columns, depth k; a transposed B packs to the same panels). Any m (meant for m < 4); j0 a
 * multiple of NR (8 f32, 4 f64), j1 a multiple of NR or n (clamped to n).
 */
export function gemv_packed_range(
  c: usize, a: usize, packed: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, act: u32, j0: usize, j1: usize,
): void {
  if (j1 > n) j1 = n;
  if (m == 0 || j0 >= j1) return;
  if (k == 0) {
    emptyProduct(c + (j0 << SHIFT), n << SHIFT, m, j1 - j0, bias ? bias + (j0 << SHIFT) : 0, accumulate, act == ACT_RELU);
    return;
  }
  const panelRow: usize = NR << SHIFT; // 32 bytes: one k step of a panel
  for (let jc = j0 / NC * NC; jc < j1; jc += NC) {
    const nc = min(NC, n - jc);
    const lo = max(j0, jc), hi = min(j1, jc + nc);
    for (let pc: usize = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const first = pc == 0;
      const addC = !first || accumulate;
      const relu = act == ACT_RELU && pc + kc == k;
      // Panel q of this slice (columns jc + q*NR ...) at slice + q*kc*NR reals, kc*32 bytes long.
      const slice = packed + ((jc * k + roundUp(nc, NR) * pc) << SHIFT);
      const panel = kc << 5;
      let j = lo;
      if (kc == KC) {
        for (; j + 4 * NR <= hi; j += 4 * NR) {
          const pp = slice + (((j - jc) * kc) << SHIFT);
          const biasJ: usize = first && bias ? bias + (j << SHIFT) : 0;
          for (let i: usize = 0; i < m; i++) gemv8Slice(c + ((i * n + j) << SHIFT), a + ((i * k + pc) << SHIFT), pp, biasJ, addC, relu);
        }
      }
      for (; j + GB <= hi; j += GB) {
        const pp = slice + (((j - jc) * kc) << SHIFT);
        const biasJ: usize = first && bias ? bias + (j << SHIFT) : 0;
        for (let i: usize = 0; i < m; i++) gemv6(c + ((i * n + j) << SHIFT), a + ((i * k + pc) << SHIFT), pp, panel, 2 * panel, panelRow, kc, biasJ, addC, relu);
      }
      if (j + 2 * NR <= hi) {
        const pp = slice + (((j - jc) * kc) << SHIFT);
        const biasJ: usize = first && bias ? bias + (j << SHIFT) : 0;
        for (let i: usize = 0; i < m; i++) gemv4(c + ((i * n + j) << SHIFT), a + ((i * k + pc) << SHIFT), pp, panel, panelRow, kc, biasJ, addC, relu);
        j += 2 * NR;
      }
      for (; j < hi; j += NR) {
        const pp = slice + (((j - jc) * kc) << SHIFT);
        const biasJ: usize = first && bias ? bias + (j << SHIFT) : 0;
        const nv = min(NR, hi - j);
        for (let i: usize = 0; i < m; i++) {
          const cp = c + ((i * n + j) << SHIFT);
          const ap = a + ((i * k + pc) << SHIFT);
          if (nv == NR) gemv2(cp, ap, pp, panelRow, kc, biasJ, addC, relu);
          else for (let q: usize = 0; q < nv; q++) gemvColumn(cp + (q << SHIFT), ap, pp + (q << SHIFT), panelRow, kc, biasJ ? biasJ + (q << SHIFT) : 0, addC, relu);
        }
      }
    }
  }
}

/**
 * The GEMV epilogue for one v128 of outputs: r = s (+ bias); C = [C +] r; ReLU when `relu`.
 * The same operations, in the same order, as the microkernels' (storeTile4x2v).
 */
function gemvStore(out: usize, s: v128, bias: usize, addC: bool, relu: bool): void {
  if (bias) s = v128.add<real>(s, v128.load(bias));
  if (addC) s = v128.add<real>(v128.load(out), s);
  if (relu) s = reluVec(s);
  v128.store(out, s);
}

// The blocks below: out[0, w) = [out +] Σ_p a[p] · B[p, 0..w) [+ bias] [ReLU] for one row, a at
// ap (contiguous), B's k step p at bp + p*ldb. A block's NR-wide pieces (two v128 each) sit at
// bp, bp + o1, bp + o2: 32 and 64 bytes apart for B in place, a panel apart when packed.

/** Three NR pieces (GB columns), six accumulators, at any offsets (B in place, packed panels of a short slice). */
function gemv6(out: usize, ap: usize, bp: usize, o1: usize, o2: usize, ldb: usize, kc: usize, bias: usize, addC: bool, relu: bool): void {
  let c0 = v128.splat<real>(0), c1 = v128.splat<real>(0), c2 = v128.splat<real>(0);
  let c3 = v128.splat<real>(0), c4 = v128.splat<real>(0), c5 = v128.splat<real>(0);
  let q1 = bp + o1, q2 = bp + o2;
  const end = ap + (kc << SHIFT);
  while (ap < end) {
    const av = v128.load_splat<real>(ap);
    c0 = v128.add<real>(c0, v128.mul<real>(av, v128.load(bp, 0)));
    c1 = v128.add<real>(c1, v128.mul<real>(av, v128.load(bp, 16)));
    c2 = v128.add<real>(c2, v128.mul<real>(av, v128.load(q1, 0)));
    c3 = v128.add<real>(c3, v128.mul<real>(av, v128.load(q1, 16)));
    c4 = v128.add<real>(c4, v128.mul<real>(av, v128.load(q2, 0)));
    c5 = v128.add<real>(c5, v128.mul<real>(av, v128.load(q2, 16)));
    ap += sizeof<real>();
    bp += ldb; q1 += ldb; q2 += ldb;
  }
  gemvStore(out, c0, bias, addC, relu);
  gemvStore(out + 16, c1, bias ? bias + 16 : 0, addC, relu);
  gemvStore(out + 32, c2, bias ? bias + 32 : 0, addC, relu);
  gemvStore(out + 48, c3, bias ? bias + 48 : 0, addC, relu);
  gemvStore(out + 64, c4, bias ? bias + 64 : 0, addC, relu);
  gemvStore(out + 80, c5, bias ? bias + 80 : 0, addC, relu);
}

/**
 * Four packed panels of a full KC slice (the bulk of a large layer), eight accumulators. The panel
 * stride (KC*32 bytes) is a constant folded into the loads, and a pass takes two k steps (the same
 * additions in the same order): V8 then interleaves the loads with the arithmetic instead of
 * hoisting all of them, so eight accumulators fit in registers (one k step a pass spilled), and
 * the loop's own instructions are shared by twice the work. 784x256: 15.2 µs with three panels a
 * step, 13.7 with two steps a pass, 12.9 with four panels (A/B runs in one process).
 */
function gemv8Slice(out: usize, ap: usize, pp: usize, bias: usize, addC: bool, relu: bool): void {
  let c0 = v128.splat<real>(0), c1 = v128.splat<real>(0), c2 = v128.splat<real>(0), c3 = v128.splat<real>(0);
  let c4 = v128.splat<real>(0), c5 = v128.splat<real>(0), c6 = v128.splat<real>(0), c7 = v128.splat<real>(0);
  const end = ap + (KC << SHIFT);
  while (ap < end) {
    let av = v128.load_splat<real>(ap);
    c0 = v128.add<real>(c0, v128.mul<real>(av, v128.load(pp, 0)));
    c1 = v128.add<real>(c1, v128.mul<real>(av, v128.load(pp, 16)));
    c2 = v128.add<real>(c2, v128.mul<real>(av, v128.load(pp, KC * 32)));
    c3 = v128.add<real>(c3, v128.mul<real>(av, v128.load(pp, KC * 32 + 16)));
    c4 = v128.add<real>(c4, v128.mul<real>(av, v128.load(pp, KC * 64)));
    c5 = v128.add<real>(c5, v128.mul<real>(av, v128.load(pp, KC * 64 + 16)));
    c6 = v128.add<real>(c6, v128.mul<real>(av, v128.load(pp, KC * 96)));
    c7 = v128.add<real>(c7, v128.mul<real>(av, v128.load(pp, KC * 96 + 16)));
    av = v128.load_splat<real>(ap, sizeof<real>());
    c0 = v128.add<real>(c0, v128.mul<real>(av, v128.load(pp, 32)));
    c1 = v128.add<real>(c1, v128.mul<real>(av, v128.load(pp, 48)));
    c2 = v128.add<real>(c2, v128.mul<real>(av, v128.load(pp, KC * 32 + 32)));
    c3 = v128.add<real>(c3, v128.mul<real>(av, v128.load(pp, KC * 32 + 48)));
    c4 = v128.add<real>(c4, v128.mul<real>(av, v128.load(pp, KC * 64 + 32)));
    c5 = v128.add<real>(c5, v128.mul<real>(av, v128.load(pp, KC * 64 + 48)));
    c6 = v128.add<real>(c6, v128.mul<real>(av, v128.load(pp, KC * 96 + 32)));
    c7 = v128.add<real>(c7, v128.mul<real>(av, v128.load(pp, KC * 96 + 48)));
    ap += 2 * sizeof<real>();
    pp += 64;
  }
  gemvStore(out, c0, bias, addC, relu);
  gemvStore(out + 16, c1, bias ? bias + 16 : 0, addC, relu);
  gemvStore(out + 32, c2, bias ? bias + 32 : 0, addC, relu);
  gemvStore(out + 48, c3, bias ? bias + 48 : 0, addC, relu);
  gemvStore(out + 64, c4, bias ? bias + 64 : 0, addC, relu);
  gemvStore(out + 80, c5, bias ? bias + 80 : 0, addC, relu);
  gemvStore(out + 96, c6, bias ? bias + 96 : 0, addC, relu);
  gemvStore(out + 112, c7, bias ? bias + 112 : 0, addC, relu);
}

/** Two NR pieces, four accumulators. */
function gemv4(out: usize, ap: usize, bp: usize, o1: usize, ldb: usize, kc: usize, bias: usize, addC: bool, relu: bool): void {
  let c0 = v128.splat<real>(0), c1 = v128.splat<real>(0), c2 = v128.splat<real>(0), c3 = v128.splat<real>(0);
  let q1 = bp + o1;
  const end = ap + (kc << SHIFT);
  while (ap < end) {
    const av = v128.load_splat<real>(ap);
    c0 = v128.add<real>(c0, v128.mul<real>(av, v128.load(bp, 0)));
    c1 = v128.add<real>(c1, v128.mul<real>(av, v128.load(bp, 16)));
    c2 = v128.add<real>(c2, v128.mul<real>(av, v128.load(q1, 0)));
    c3 = v128.add<real>(c3, v128.mul<real>(av, v128.load(q1, 16)));
    ap += sizeof<real>();
    bp += ldb; q1 += ldb;
  }
  gemvStore(out, c0, bias, addC, relu);
  gemvStore(out + 16, c1, bias ? bias + 16 : 0, addC, relu);
  gemvStore(out + 32, c2, bias ? bias + 32 : 0, addC, relu);
  gemvStore(out + 48, c3, bias ? bias + 48 : 0, addC, relu);
}

/** One NR piece, two accumulators. */
function gemv2(out: usize, ap: usize, bp: usize, ldb: usize, kc: usize, bias: usize, addC: bool, relu: bool): void {
  let lo = v128.splat<real>(0), hi = v128.splat<real>(0);
  const end = ap + (kc << SHIFT);
  while (ap < end) {
    const av = v128.load_splat<real>(ap);
    lo = v128.add<real>(lo, v128.mul<real>(av, v128.load(bp, 0)));
    hi = v128.add<real>(hi, v128.mul<real>(av, v128.load(bp, 16)));
    ap += sizeof<real>();
    bp += ldb;
  }
  gemvStore(out, lo, bias, addC, relu);
  gemvStore(out + 16, hi, bias ? bias + 16 : 0, addC, relu);
}

/** One column, scalar (the same per-element operations as a lane). */
function gemvColumn(out: usize, ap: usize, bp: usize, ldb: usize, kc: usize, bias: usize, addC: bool, relu: bool): void {
  let s: real = 0;
  const end = ap + (kc << SHIFT);
  while (ap < end) {
    s = s + load<real>(ap) * load<real>(bp);
    ap += sizeof<real>();
    bp += ldb;
  }
  if (bias) s = s + load<real>(bias);
  if (addC) s = load<real>(out) + s;
  store<real>(out, relu ? reluScalar(s) : s);
}

// The engine behind every entry point. Leading dimensions are in BYTES: C row i at c + i*ldc;
// aT: A is stored (k,m) (op(A) = Aᵀ), op(A)(i, p) at a + p*lda + (i << SHIFT), else at a + i*lda + (p << SHIFT);
// bT: B is stored (n,k) (op(B) = Bᵀ), op(B)(p, j) at b + j*ldb + (p << SHIFT), else at b + p*ldb + (j << SHIFT).
export function gemm(
  c: usize, ldc: usize, a: usize, lda: usize, b: usize, ldb: usize, m: usize, n: usize, k: usize,
  bias: usize, accumulate: bool, work: usize, aT: bool, bT: bool, prepacked: usize = 0, act: u32 = 0,
): void {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    emptyProduct(c, ldc, m, n, bias, accumulate, act == ACT_RELU);
    return;
  }
  const kcMax = min(k, KC);
  let packedB = work;
  const packedA = work + ((roundUp(min(n, NC), NR) * kcMax) << SHIFT);
  const edge = packedA + ((roundUp(min(m, MC), MR) * kcMax) << 4);

  for (let jc: usize = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc: usize = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const first = pc == 0;
      const relu = act == ACT_RELU && pc + kc == k; // on the final value only
      // op(B)(p, j) for p in [pc, pc+kc), j in [jc, jc+nc)
      if (prepacked) packedB = prepacked + ((jc * k + roundUp(nc, NR) * pc) << SHIFT);
      else if (bT) packTransposed(packedB, b + jc * ldb + (pc << SHIFT), ldb, kc, nc, NR);
      else packStraight(packedB, b + pc * ldb + (jc << SHIFT), ldb, kc, nc, NR);
      const addC = !first || accumulate;
      for (let ic: usize = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        // op(A)(i, p) for i in [ic, ic+mc), p in [pc, pc+kc), splatted. A stored (k, m) is packed
        // a block at a time (long contiguous reads along m); A stored (m, k) a micro-panel at a
        // time, just before its use, so the LANES-x-sized splatted panel never leaves L1.
        if (aT) packSplatStraight(packedA, a + pc * lda + (ic << SHIFT), lda, kc, mc);
        for (let ir: usize = 0; ir < mc; ir += MR) {
          const mr = min(MR, mc - ir);
          let ap = packedA;
          const crow = c + (ic + ir) * ldc;
          let jr0: usize = 0;
          if (aT) ap += (ir * kc) << 4;
          else if (mr == MR && nc >= NR) {
            // The first full tile reads A's rows directly and packs them as it goes.
            microkernel4x2vPacking(a + (ic + ir) * lda + (pc << SHIFT), lda, packedA, packedB, kc, crow + (jc << SHIFT), ldc, addC, first && bias != 0 ? bias + (jc << SHIFT) : 0, relu);
            jr0 = NR;
          } else packSplatTransposed(packedA, a + (ic + ir) * lda + (pc << SHIFT), lda, kc, mr);
          for (let jr = jr0; jr < nc; jr += NR) {
            const nr = min(NR, nc - jr);
            const bp = packedB + ((jr * kc) << SHIFT);
            const j = jc + jr;
            // The bias is added once, with the first slice; later slices add onto C.
            const biasJ: usize = first && bias != 0 ? bias + (j << SHIFT) : 0;
            const cp = crow + (j << SHIFT);
            // Edge tiles: compute the whole (zero-padded) tile aside, then merge only the
            // valid mr x nr corner with the same per-element operations as a full tile.
            if (nr > LANES) {
              if (mr == MR && nr == NR) microkernel4x2v(ap, bp, kc, cp, ldc, addC, biasJ, relu);
              else {
                microkernel4x2v(ap, bp, kc, edge, NR << SHIFT, false, 0, false);
                mergeEdge(cp, ldc, edge, mr, nr, addC, biasJ, relu);
              }
            } else {
              if (mr == MR && nr == LANES) microkernel4x1v(ap, bp, kc, cp, ldc, addC, biasJ, relu);
              else {
                microkernel4x1v(ap, bp, kc, edge, NR << SHIFT, false, 0, false);
                mergeEdge(cp, ldc, edge, mr, nr, addC, biasJ, relu);
              }
            }
          }
        }
      }
    }
  }
}

// k == 0: the product is all zeros, so C = bias (or 0), or C + bias when accumulating.
function emptyProduct(c: usize, ldc: usize, m: usize, n: usize, bias: usize, accumulate: bool, relu: bool): void {
  for (let i: usize = 0; i < m; i++) {
    const ci = c + i * ldc;
    for (let j: usize = 0; j < n; j++) {
      const r: real = bias ? load<real>(bias + (j << SHIFT)) : 0;
      const v = accumulate ? load<real>(ci + (j << SHIFT)) + r : r;
      store<real>(ci + (j << SHIFT), relu ? reluScalar(v) : v);
    }
  }
}

/** ReLU as elementwise.ts computes it: keep the lanes where !(v <= 0) (positives and NaN), else +0. */
@inline function reluVec(v: v128): v128 {
  return v128.andnot(v, v128.le<real>(v, v128.splat<real>(0)));
}

@inline function reluScalar(v: real): real {
  return v <= 0 ? 0 : v;
}

/**
 * The 4 x NR microkernels' epilogue: r = acc (+ bias row); C = [C +] r, then ReLU when `relu`,
 * stored as 4 rows of two v128 at out, ldo bytes apart. Inlined, so the accumulators stay in registers.
 */
@inline function storeTile4x2v(
  out: usize, ldo: usize, addC: bool, bias: usize, relu: bool,
  c0l: v128, c0h: v128, c1l: v128, c1h: v128, c2l: v128, c2h: v128, c3l: v128, c3h: v128,
): void {
  if (bias) {
    const bl = v128.load(bias, 0), bh = v128.load(bias, 16);
    c0l = v128.add<real>(c0l, bl); c0h = v128.add<real>(c0h, bh);
    c1l = v128.add<real>(c1l, bl); c1h = v128.add<real>(c1h, bh);
    c2l = v128.add<real>(c2l, bl); c2h = v128.add<real>(c2h, bh);
    c3l = v128.add<real>(c3l, bl); c3h = v128.add<real>(c3h, bh);
  }
  const o1 = out + ldo, o2 = o1 + ldo, o3 = o2 + ldo;
  if (addC) {
    c0l = v128.add<real>(v128.load(out, 0), c0l); c0h = v128.add<real>(v128.load(out, 16), c0h);
    c1l = v128.add<real>(v128.load(o1, 0), c1l); c1h = v128.add<real>(v128.load(o1, 16), c1h);
    c2l = v128.add<real>(v128.load(o2, 0), c2l); c2h = v128.add<real>(v128.load(o2, 16), c2h);
    c3l = v128.add<real>(v128.load(o3, 0), c3l); c3h = v128.add<real>(v128.load(o3, 16), c3h);
  }
  if (relu) {
    c0l = reluVec(c0l); c0h = reluVec(c0h); c1l = reluVec(c1l); c1h = reluVec(c1h);
    c2l = reluVec(c2l); c2h = reluVec(c2h); c3l = reluVec(c3l); c3h = reluVec(c3h);
  }
  v128.store(out, c0l, 0); v128.store(out, c0h, 16);
  v128.store(o1, c1l, 0); v128.store(o1, c1h, 16);
  v128.store(o2, c2l, 0); v128.store(o2, c2h, 16);
  v128.store(o3, c3l, 0); v128.store(o3, c3h, 16);
}

/**
 * The 4 x NR microkernel (4x8 f32, 4x4 f64): out(4,NR) = [out +] (Σ_p ap[p](4) ⊗ bp[p](NR)) [+ bias(NR)].
 * ap: kc x 4 splatted A panel (64 B a step); bp: kc x NR packed B panel (32 B a step); out rows
 * ldo bytes apart. With `addC` the sum is added to out (after the bias, if any); bias is 0 or NR reals.
 */
function microkernel4x2v(ap: usize, bp: usize, kc: usize, out: usize, ldo: usize, addC: bool, bias: usize, relu: bool): void {
  let c0l = v128.splat<real>(0), c0h = v128.splat<real>(0);
  let c1l = v128.splat<real>(0), c1h = v128.splat<real>(0);
  let c2l = v128.splat<real>(0), c2h = v128.splat<real>(0);
  let c3l = v128.splat<real>(0), c3h = v128.splat<real>(0);
  // One k step per iteration: unrolled by 2, V8 hoists the next step's loads too and spills
  // accumulators to the stack (seen in its x64 code), costing about 25%.
  const end = bp + (kc << 5);
  while (bp < end) {
    const bl = v128.load(bp, 0), bh = v128.load(bp, 16);
    let av = v128.load(ap, 0);
    c0l = v128.add<real>(c0l, v128.mul<real>(av, bl)); c0h = v128.add<real>(c0h, v128.mul<real>(av, bh));
    av = v128.load(ap, 16);
    c1l = v128.add<real>(c1l, v128.mul<real>(av, bl)); c1h = v128.add<real>(c1h, v128.mul<real>(av, bh));
    av = v128.load(ap, 32);
    c2l = v128.add<real>(c2l, v128.mul<real>(av, bl)); c2h = v128.add<real>(c2h, v128.mul<real>(av, bh));
    av = v128.load(ap, 48);
    c3l = v128.add<real>(c3l, v128.mul<real>(av, bl)); c3h = v128.add<real>(c3h, v128.mul<real>(av, bh));
    ap += 64;
    bp += 32;
  }
  storeTile4x2v(out, ldo, addC, bias, relu, c0l, c0h, c1l, c1h, c2l, c2h, c3l, c3h);
}

/**
 * microkernel4x2v on A rows read in place (row i of the 4 at a + i*lda, k steps contiguous) that
 * also writes the splatted micro-panel to `pk` (the layout packSplatTransposed makes), so the
 * remaining tiles of the row block reuse it: the pack costs no pass of its own. Same operations
 * in the same order as microkernel4x2v, hence the same bits.
 */
function microkernel4x2vPacking(a: usize, lda: usize, pk: usize, bp: usize, kc: usize, out: usize, ldo: usize, addC: bool, bias: usize, relu: bool): void {
  let c0l = v128.splat<real>(0), c0h = v128.splat<real>(0);
  let c1l = v128.splat<real>(0), c1h = v128.splat<real>(0);
  let c2l = v128.splat<real>(0), c2h = v128.splat<real>(0);
  let c3l = v128.splat<real>(0), c3h = v128.splat<real>(0);
  const a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
  const end = bp + (kc << 5);
  let o: usize = 0;
  while (bp < end) {
    const bl = v128.load(bp, 0), bh = v128.load(bp, 16);
    let av = v128.load_splat<real>(a + o);
    v128.store(pk, av, 0);
    c0l = v128.add<real>(c0l, v128.mul<real>(av, bl)); c0h = v128.add<real>(c0h, v128.mul<real>(av, bh));
    av = v128.load_splat<real>(a1 + o);
    v128.store(pk, av, 16);
    c1l = v128.add<real>(c1l, v128.mul<real>(av, bl)); c1h = v128.add<real>(c1h, v128.mul<real>(av, bh));
    av = v128.load_splat<real>(a2 + o);
    v128.store(pk, av, 32);
    c2l = v128.add<real>(c2l, v128.mul<real>(av, bl)); c2h = v128.add<real>(c2h, v128.mul<real>(av, bh));
    av = v128.load_splat<real>(a3 + o);
    v128.store(pk, av, 48);
    c3l = v128.add<real>(c3l, v128.mul<real>(av, bl)); c3h = v128.add<real>(c3h, v128.mul<real>(av, bh));
    o += sizeof<real>();
    pk += 64;
    bp += 32;
  }
  storeTile4x2v(out, ldo, addC, bias, relu, c0l, c0h, c1l, c1h, c2l, c2h, c3l, c3h);
}

/**
 * The 4 x LANES microkernel (4x4 f32, 4x2 f64) for a last B panel at most LANES wide: as
 * microkernel4x2v on the left half of the packed kc x NR panel (same per-element operations, so
 * the same bits as the full kernel).
 */
function microkernel4x1v(ap: usize, bp: usize, kc: usize, out: usize, ldo: usize, addC: bool, bias: usize, relu: bool): void {
  let c0 = v128.splat<real>(0), c1 = v128.splat<real>(0), c2 = v128.splat<real>(0), c3 = v128.splat<real>(0);
  const end = bp + (kc << 5);
  while (bp < end) {
    const bl = v128.load(bp);
    c0 = v128.add<real>(c0, v128.mul<real>(v128.load(ap, 0), bl));
    c1 = v128.add<real>(c1, v128.mul<real>(v128.load(ap, 16), bl));
    c2 = v128.add<real>(c2, v128.mul<real>(v128.load(ap, 32), bl));
    c3 = v128.add<real>(c3, v128.mul<real>(v128.load(ap, 48), bl));
    ap += 64;
    bp += 32;
  }
  if (bias) {
    const bl = v128.load(bias);
    c0 = v128.add<real>(c0, bl); c1 = v128.add<real>(c1, bl); c2 = v128.add<real>(c2, bl); c3 = v128.add<real>(c3, bl);
  }
  const o1 = out + ldo, o2 = o1 + ldo, o3 = o2 + ldo;
  if (addC) {
    c0 = v128.add<real>(v128.load(out), c0); c1 = v128.add<real>(v128.load(o1), c1);
    c2 = v128.add<real>(v128.load(o2), c2); c3 = v128.add<real>(v128.load(o3), c3);
  }
  if (relu) {
    c0 = reluVec(c0); c1 = reluVec(c1); c2 = reluVec(c2); c3 = reluVec(c3);
  }
  v128.store(out, c0); v128.store(o1, c1); v128.store(o2, c2); v128.store(o3, c3);
}

// Merges the valid mr x nr corner of an edge tile (4 x NR, rows 32 bytes apart) into C, with the
// same per-element operations as the microkernel's epilogue: r = s (+ bias); C = [C +] r [ReLU].
function mergeEdge(c: usize, ldc: usize, tile: usize, mr: usize, nr: usize, addC: bool, bias: usize, relu: bool): void {
  for (let i: usize = 0; i < mr; i++) {
    const ci = c + i * ldc;
    const ti = tile + ((i * NR) << SHIFT);
    for (let j: usize = 0; j < nr; j++) {
      let r = load<real>(ti + (j << SHIFT));
      if (bias) r += load<real>(bias + (j << SHIFT));
      if (addC) r = load<real>(ci + (j << SHIFT)) + r;
      store<real>(ci + (j << SHIFT), relu ? reluScalar(r) : r);
    }
  }
}

/**
 * Packs a kc x w block whose panel dimension is contiguous in memory: element (p, j) at
 * src + p*ld + (j << SHIFT). Output: ceil(w/W) panels of kc x W reals, panel q at
 * dst + (q*kc*W << SHIFT), columns past w zero. W is NR (a panel row is two v128) or LANES (one).
 * Works on 8 rows at a time, panel by panel: walking one narrow panel down all rows thrashes L1
 * when ld is a multiple of 4 KiB (e.g. Aᵀ with m = 3072 f32), and scattering each row over all
 * panels does when a panel's bytes are (kc = 256).
 */
function packStraight(dst: usize, src: usize, ld: usize, kc: usize, w: usize, W: usize): void {
  const panelBytes = (kc * W) << SHIFT;
  const rowBytes = W << SHIFT;
  const full = w / W * W;
  for (let p0: usize = 0; p0 < kc; p0 += 8) {
    const pn = min(8, kc - p0);
    let d0 = dst + p0 * rowBytes;
    let j0: usize = 0;
    for (; j0 < full; j0 += W) {
      let s = src + p0 * ld + (j0 << SHIFT);
      let d = d0;
      if (W == NR) {
        for (let p: usize = 0; p < pn; p++) {
          v128.store(d, v128.load(s, 0), 0);
          v128.store(d, v128.load(s, 16), 16);
          s += ld;
          d += 32;
        }
      } else {
        for (let p: usize = 0; p < pn; p++) {
          v128.store(d, v128.load(s));
          s += ld;
          d += 16;
        }
      }
      d0 += panelBytes;
    }
    if (j0 < w) {
      for (let p: usize = 0; p < pn; p++) {
        const s = src + (p0 + p) * ld + (j0 << SHIFT);
        const d = d0 + p * rowBytes;
        let j: usize = 0;
        for (; j0 + j < w; j++) store<real>(d + (j << SHIFT), load<real>(s + (j << SHIFT)));
        for (; j < W; j++) store<real>(d + (j << SHIFT), 0);
      }
    }
  }
}

/**
 * Packs a kc x w block whose k dimension is contiguous in memory: element (p, j) at
 * src + j*ld + (p << SHIFT) (rows of the stored matrix become panel columns). Same output layout
 * as packStraight. Full panels go through LANES x LANES SIMD transposes.
 */
function packTransposed(dst: usize, src: usize, ld: usize, kc: usize, w: usize, W: usize): void {
  const panelStride = W << SHIFT; // bytes per packed row
  for (let j0: usize = 0; j0 < w; j0 += W) {
    const wq = min(W, w - j0);
    const s = src + j0 * ld;
    if (wq == W) {
      // Each group of LANES source rows fills LANES columns of the panel.
      for (let g: usize = 0; g < W; g += LANES) {
        // The lane count changes the transpose: 4x4 f32 blocks (two rounds of shuffles), 2x2 f64
        // blocks (one), and the scalar tail stores a row of LANES values.
        if (FLOAT32) {
          const r0 = s + g * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
          let d = dst + (g << 2);
          let p: usize = 0;
          for (; p + 4 <= kc; p += 4) {
            const o = p << 2;
            const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o), x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
            const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5); // a0 b0 a1 b1
            const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7); // a2 b2 a3 b3
            const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5); // c0 d0 c1 d1
            const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7); // c2 d2 c3 d3
            v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
            v128.store(d + panelStride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
            v128.store(d + 2 * panelStride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
            v128.store(d + 3 * panelStride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
            d += 4 * panelStride;
          }
          for (; p < kc; p++) {
            const o = p << 2;
            store<f32>(d, load<f32>(r0 + o), 0);
            store<f32>(d, load<f32>(r1 + o), 4);
            store<f32>(d, load<f32>(r2 + o), 8);
            store<f32>(d, load<f32>(r3 + o), 12);
            d += panelStride;
          }
        } else {
          const r0 = s + g * ld, r1 = r0 + ld;
          let d = dst + (g << 3);
          let p: usize = 0;
          for (; p + 2 <= kc; p += 2) {
            const o = p << 3;
            const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o);
            v128.store(d, v128.shuffle<f64>(x0, x1, 0, 2)); // a0 b0
            v128.store(d + panelStride, v128.shuffle<f64>(x0, x1, 1, 3)); // a1 b1
            d += 2 * panelStride;
          }
          for (; p < kc; p++) {
            const o = p << 3;
            store<f64>(d, load<f64>(r0 + o), 0);
            store<f64>(d, load<f64>(r1 + o), 8);
            d += panelStride;
          }
        }
      }
    } else {
      for (let p: usize = 0; p < kc; p++) {
        const d = dst + p * panelStride;
        let j: usize = 0;
        for (; j < wq; j++) store<real>(d + (j << SHIFT), load<real>(s + j * ld + (p << SHIFT)));
        for (; j < W; j++) store<real>(d + (j << SHIFT), 0);
      }
    }
    dst += kc * panelStride;
  }
}

/**
 * Packs op(A)'s mc x kc block into ceil(mc/4) panels of kc x 4 SPLATTED values: panel q at
 * dst + q*kc*64, step p holds A(4q + r, p) broadcast to a whole v128 at + p*64 + r*16 (rows past
 * mc are zero). The microkernel then reads A with plain v128 loads, whose constant offsets V8
 * folds into the address (it does not for load_splat: one extra lea per broadcast).
 * This one: A(i, p) at src + p*ld + (i << SHIFT) (i contiguous: A stored (k, m), the tn variant).
 */
function packSplatStraight(dst: usize, src: usize, ld: usize, kc: usize, mc: usize): void {
  const panelBytes = kc << 6;
  const full = mc & ~3;
  for (let p0: usize = 0; p0 < kc; p0 += 8) {
    const pn = min(8, kc - p0);
    let d0 = dst + (p0 << 6);
    let i0: usize = 0;
    for (; i0 < full; i0 += 4) {
      let s = src + p0 * ld + (i0 << SHIFT);
      let d = d0;
      for (let p: usize = 0; p < pn; p++) {
        // The 4 rows' values: one f32x4 (4 lanes to broadcast) or two f64x2 (2 each).
        if (FLOAT32) {
          const x = v128.load(s);
          v128.store(d, v128.shuffle<f32>(x, x, 0, 0, 0, 0), 0);
          v128.store(d, v128.shuffle<f32>(x, x, 1, 1, 1, 1), 16);
          v128.store(d, v128.shuffle<f32>(x, x, 2, 2, 2, 2), 32);
          v128.store(d, v128.shuffle<f32>(x, x, 3, 3, 3, 3), 48);
        } else {
          const x = v128.load(s, 0), y = v128.load(s, 16);
          v128.store(d, v128.shuffle<f64>(x, x, 0, 0), 0);
          v128.store(d, v128.shuffle<f64>(x, x, 1, 1), 16);
          v128.store(d, v128.shuffle<f64>(y, y, 0, 0), 32);
          v128.store(d, v128.shuffle<f64>(y, y, 1, 1), 48);
        }
        s += ld;
        d += 64;
      }
      d0 += panelBytes;
    }
    if (i0 < mc) {
      for (let p: usize = 0; p < pn; p++) {
        const s = src + (p0 + p) * ld + (i0 << SHIFT);
        const d = d0 + (p << 6);
        let r: usize = 0;
        for (; i0 + r < mc; r++) v128.store(d + (r << 4), v128.load_splat<real>(s + (r << SHIFT)));
        for (; r < 4; r++) v128.store(d + (r << 4), v128.splat<real>(0));
      }
    }
  }
}

/**
 * As packSplatStraight, for A(i, p) at src + i*ld + (p << SHIFT) (p contiguous: A stored (m, k),
 * nn and nt). Also used by conv.ts to pack conv weights (F, K) once per call.
 */
export function packSplatTransposed(dst: usize, src: usize, ld: usize, kc: usize, mc: usize): void {
  const kcv = kc & ~(LANES - 1); // whole v128 loads of a row
  for (let i0: usize = 0; i0 < mc; i0 += 4) {
    const rows = min(4, mc - i0);
    for (let r: usize = 0; r < 4; r++) {
      let d = dst + (r << 4);
      if (r >= rows) {
        for (let p: usize = 0; p < kc; p++) { v128.store(d, v128.splat<real>(0)); d += 64; }
        continue;
      }
      const s = src + (i0 + r) * ld;
      let p: usize = 0;
      for (; p < kcv; p += LANES) {
        // One load holds LANES steps of the row: each broadcast to its own step.
        const x = v128.load(s + (p << SHIFT));
        if (FLOAT32) {
          v128.store(d, v128.shuffle<f32>(x, x, 0, 0, 0, 0), 0);
          v128.store(d, v128.shuffle<f32>(x, x, 1, 1, 1, 1), 64);
          v128.store(d, v128.shuffle<f32>(x, x, 2, 2, 2, 2), 128);
          v128.store(d, v128.shuffle<f32>(x, x, 3, 3, 3, 3), 192);
        } else {
          v128.store(d, v128.shuffle<f64>(x, x, 0, 0), 0);
          v128.store(d, v128.shuffle<f64>(x, x, 1, 1), 64);
        }
        d += LANES << 6;
      }
      for (; p < kc; p++) { v128.store(d, v128.load_splat<real>(s + (p << SHIFT))); d += 64; }
    }
    dst += kc << 6;
  }
}
