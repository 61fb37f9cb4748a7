import {
  gemm_work_bytes, gemm_nn, gemm_tn, gemm_nt, gemm_nn_range, gemm_tn_range, gemm_nt_range,
  gemm_packed_b_bytes, gemm_pack_b, gemm_pack_b_blocks, gemm_nn_rows_packed, gemm_tn_rows_packed,
  gemv_nn_range, gemv_packed_range,
} from "../gemm";
import { relu } from "../elementwise";
import { gemm_nn__scalar, gemm_tn__scalar, gemm_nt__scalar } from "../reference/gemm";
import { relu__scalar } from "../reference/elementwise";
import { FLOAT32, LANES, SHIFT } from "../real";
import { DTYPE, pattern, buffer, firstDifference, guardIntact, maxRelErr } from "./helpers";

// Each case runs a tiled kernel and its naive twin on the same inputs, in both dtypes (real = f32,
// then f64: as-pect.f64.config.js). For k <= KC (256, one k slice) the kernel adds the products in
// the twin's order, then the bias, then C: the results must be the same bits. Past KC it adds
// each slice's sum onto C, so the two agree up to rounding: every element must satisfy
//   |fast - naive| <= 2 (k + 2) eps · (Σ_p |a_ip b_pj| + |bias_j| + |C0_ij|)
// (each side is within (k + 1) eps of the exact value in that measure), eps = 2^-23 or 2^-52.
// The check fails on any wrong, missing or doubled term. Guard words around C and after the
// scratch catch stray writes.

const SIZES: i32[] = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 100];
const KC: i32 = 256; // gemm.ts: the depth of one k slice
const EPS: f64 = FLOAT32 ? 1.1920928955078125e-7 : 2.220446049250313e-16; // 2^-23, 2^-52
const GUARD: real = 12345.0;
const GUARD_WORDS: i32 = <i32>LANES; // 16 bytes: keeps C 16-byte aligned

const NN: i32 = 0, TN: i32 = 1, NT: i32 = 2;
const NAMES: string[] = ["nn", "tn", "nt"];

function fast(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, accumulate: bool, work: usize): void {
  if (variant == NN) gemm_nn(c, a, b, m, n, k, bias, accumulate, work);
  else if (variant == TN) gemm_tn(c, a, b, m, n, k, bias, accumulate, work);
  else gemm_nt(c, a, b, m, n, k, bias, accumulate, work);
}

function block(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, acc: bool, work: usize, i0: i32, i1: i32, j0: i32, j1: i32): void {
  if (variant == NN) gemm_nn_range(c, a, b, m, n, k, bias, acc, work, i0, i1, j0, j1, 0);
  else if (variant == TN) gemm_tn_range(c, a, b, m, n, k, bias, acc, work, i0, i1, j0, j1, 0);
  else gemm_nt_range(c, a, b, m, n, k, bias, acc, work, i0, i1, j0, j1, 0);
}

function naive(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, accumulate: bool): void {
  if (variant == NN) gemm_nn__scalar(c, a, b, m, n, k, bias, accumulate);
  else if (variant == TN) gemm_tn__scalar(c, a, b, m, n, k, bias, accumulate);
  else gemm_nt__scalar(c, a, b, m, n, k, bias, accumulate);
}

/** n reals with GUARD_WORDS sentinels on each side; returns the pointer to the first real. */
function guarded(n: i32): usize {
  const base = heap.alloc(<usize>(n + 2 * GUARD_WORDS) << SHIFT);
  for (let i = 0; i < GUARD_WORDS; i++) {
    store<real>(base + (<usize>i << SHIFT), GUARD);
    store<real>(base + (<usize>(n + GUARD_WORDS + i) << SHIFT), GUARD);
  }
  return base + (<usize>GUARD_WORDS << SHIFT);
}

function freeGuarded(p: usize): void {
  heap.free(p - (<usize>GUARD_WORDS << SHIFT));
}

function guardsIntact(p: usize, n: i32): bool {
  for (let i = 1; i <= GUARD_WORDS; i++) {
    if (load<real>(p - (<usize>i << SHIFT)) != GUARD) return false;
    if (load<real>(p + (<usize>(n + i - 1) << SHIFT)) != GUARD) return false;
  }
  return true;
}

function copyAbs(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<real>(dst + (<usize>i << SHIFT), abs(load<real>(src + (<usize>i << SHIFT))));
}


/** Within rounding of a differently ordered sum of a few terms of size ~1. */
const LOOSE: f64 = FLOAT32 ? 1e-4 : 1e-12;

function fillWith(p: usize, n: i32, v: real): void {
  for (let i = 0; i < n; i++) store<real>(p + (<usize>i << SHIFT), v);
}

/**
 * Runs one case. Returns -2 when a guard word around C or after the scratch was overwritten;
 * else, for k <= KC, -1 when fast and naive differ in any bit (0 when they agree); for k > KC the
 * largest |fast - naive| / scale over C (bound for passing: 2 (k + 2) eps).
 */
function check(variant: i32, m: i32, n: i32, k: i32, withBias: bool, accumulate: bool, salt: i32): f64 {
  const a = pattern(m * k, salt), b = pattern(k * n, salt + 1);
  const bias = withBias ? pattern(n, salt + 2) : 0;
  const c0 = pattern(m * n, salt + 3);
  const cf = guarded(m * n), cn = guarded(m * n), cs = guarded(m * n);
  memory.copy(cf, c0, <usize>(m * n) << SHIFT);
  memory.copy(cn, c0, <usize>(m * n) << SHIFT);
  // The scale: the same product over absolute values.
  const aa = pattern(m * k, 0), ba = pattern(k * n, 0), biasa = withBias ? pattern(n, 0) : 0;
  copyAbs(aa, a, m * k); copyAbs(ba, b, k * n); copyAbs(cs, c0, m * n);
  if (withBias) copyAbs(biasa, bias, n);
  const workBytes = gemm_work_bytes(m, n, k);
  const workWords = <i32>((workBytes + (1 << SHIFT) - 1) >> SHIFT);
  const work = guarded(workWords);

  fast(variant, cf, a, b, m, n, k, bias, accumulate, work);
  naive(variant, cn, a, b, m, n, k, bias, accumulate);
  naive(variant, cs, aa, ba, m, n, k, biasa, accumulate);

  let worst: f64 = 0;
  if (!guardsIntact(cf, m * n) || !guardsIntact(work, workWords)) worst = -2;
  else if (k <= KC) worst = firstDifference(cf, cn, m * n) < 0 ? 0 : -1;
  else {
    for (let i = 0; i < m * n; i++) {
      const o = <usize>i << SHIFT;
      const d = abs(<f64>load<real>(cf + o) - <f64>load<real>(cn + o));
      const s = <f64>load<real>(cs + o);
      const r = d == 0 ? 0 : (s == 0 ? Infinity : d / s);
      if (r > worst) worst = r;
    }
  }
  heap.free(a); heap.free(b); heap.free(c0); heap.free(aa); heap.free(ba);
  if (withBias) { heap.free(bias); heap.free(biasa); }
  freeGuarded(cf); freeGuarded(cn); freeGuarded(cs); freeGuarded(work);
  return worst;
}

function expectAgree(variant: i32, m: i32, n: i32, k: i32, withBias: bool, accumulate: bool): void {
  const worst = check(variant, m, n, k, withBias, accumulate, m * 131 + n * 17 + k);
  const bound = 2.0 * <f64>(k + 2) * EPS;
  const name = DTYPE + " gemm_" + NAMES[variant] + " m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() +
    (withBias ? " bias" : "") + (accumulate ? " accumulate" : "");
  expect<bool>(worst != -2).toBe(true, name + ": wrote outside C or past its scratch");
  expect<bool>(worst != -1).toBe(true, name + ": k <= KC, yet not the naive twin's bits");
  expect<bool>(worst <= bound).toBe(true, name + ": max relative error " + worst.toString() + " > bound " + bound.toString());
}

// Full grid of m, n, k for each variant and each bias/accumulate combination.
function grid(variant: i32, withBias: bool, accumulate: bool): void {
  for (let x = 0; x < SIZES.length; x++) {
    for (let y = 0; y < SIZES.length; y++) {
      for (let z = 0; z < SIZES.length; z++) expectAgree(variant, SIZES[x], SIZES[y], SIZES[z], withBias, accumulate);
    }
  }
}

function emptyK(variant: i32): void {
  for (let x = 0; x < SIZES.length; x++) {
    for (let y = 0; y < SIZES.length; y++) {
      expectAgree(variant, SIZES[x], SIZES[y], 0, false, false);
      expectAgree(variant, SIZES[x], SIZES[y], 0, true, false);
      expectAgree(variant, SIZES[x], SIZES[y], 0, false, true);
      expectAgree(variant, SIZES[x], SIZES[y], 0, true, true);
    }
  }
}

// Past the cache blocks (KC 256; MC 128; NC 1024 f32, 512 f64): 2 k slices and 2 row blocks;
// 2 (f32) or 3 (f64) column blocks with 3 k slices; k one past a slice; n one column block and 5.
function blocks(variant: i32): void {
  expectAgree(variant, 130, 260, 300, true, false);
  expectAgree(variant, 130, 260, 300, true, true);
  expectAgree(variant, 6, 1030, 513, true, true);
  expectAgree(variant, 6, 1030, 513, false, false);
  expectAgree(variant, 70, 9, 257, false, true);
  expectAgree(variant, 3, 517, 11, true, true);
}

function emptyMN(variant: i32): void {
  const a = pattern(12, 1), b = pattern(12, 2), c = guarded(0);
  fast(variant, c, a, b, 0, 3, 4, 0, false, 0);
  fast(variant, c, a, b, 3, 0, 4, 0, true, 0);
  expect<bool>(guardsIntact(c, 0)).toBe(true);
  heap.free(a); heap.free(b); freeGuarded(c);
}

// (AssemblyScript closures cannot capture locals, hence one block per variant.)
describe("gemm_nn vs naive twin, m, n, k in {1,2,3,4,5,7,8,9,16,17,33,100}, " + DTYPE, () => {
  it("plain", () => { grid(NN, false, false); });
  it("bias", () => { grid(NN, true, false); });
  it("accumulate", () => { grid(NN, false, true); });
  it("bias and accumulate", () => { grid(NN, true, true); });
  it("k = 0 gives bias, zero, or C (+ bias) when accumulating", () => { emptyK(NN); });
  it("across cache blocks: k, m and n past KC, MC and NC", () => { blocks(NN); });
  it("m or n = 0 touches nothing", () => { emptyMN(NN); });
});

describe("gemm_tn vs naive twin, m, n, k in {1,2,3,4,5,7,8,9,16,17,33,100}, " + DTYPE, () => {
  it("plain", () => { grid(TN, false, false); });
  it("bias", () => { grid(TN, true, false); });
  it("accumulate", () => { grid(TN, false, true); });
  it("bias and accumulate", () => { grid(TN, true, true); });
  it("k = 0 gives bias, zero, or C (+ bias) when accumulating", () => { emptyK(TN); });
  it("across cache blocks: k, m and n past KC, MC and NC", () => { blocks(TN); });
  it("m or n = 0 touches nothing", () => { emptyMN(TN); });
});

describe("gemm_nt vs naive twin, m, n, k in {1,2,3,4,5,7,8,9,16,17,33,100}, " + DTYPE, () => {
  it("plain", () => { grid(NT, false, false); });
  it("bias", () => { grid(NT, true, false); });
  it("accumulate", () => { grid(NT, false, true); });
  it("bias and accumulate", () => { grid(NT, true, true); });
  it("k = 0 gives bias, zero, or C (+ bias) when accumulating", () => { emptyK(NT); });
  it("across cache blocks: k, m and n past KC, MC and NC", () => { blocks(NT); });
  it("m or n = 0 touches nothing", () => { emptyMN(NT); });
});

describe("gemm determinism, " + DTYPE, () => {
  it("the same inputs give the same bits, C computed twice (nn, tn, nt at 37x45x300)", () => {
    const m = 37, n = 45, k = 300;
    const a = pattern(m * k, 9), b = pattern(k * n, 10), bias = pattern(n, 11);
    const work = heap.alloc(gemm_work_bytes(m, n, k));
    const c1 = guarded(m * n), c2 = guarded(m * n);
    for (let variant = 0; variant < 3; variant++) {
      fast(variant, c1, a, b, m, n, k, bias, false, work);
      memory.fill(work, 0xff, gemm_work_bytes(m, n, k)); // stale scratch must not matter
      fast(variant, c2, a, b, m, n, k, bias, false, work);
      expect<i32>(firstDifference(c1, c2, m * n)).toBe(-1, DTYPE + " gemm_" + NAMES[variant]);
    }
    heap.free(a); heap.free(b); heap.free(bias); heap.free(work); freeGuarded(c1); freeGuarded(c2);
  });
  it("by hand: 2x3 · 3x2 with bias, then accumulate", () => {
    // A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]], bias = [10, 20]
    const a = heap.alloc(6 << SHIFT), b = heap.alloc(6 << SHIFT), bias = heap.alloc(2 << SHIFT), c = guarded(4);
    const av: real[] = [1, 2, 3, 4, 5, 6], bv: real[] = [1, 0, 0, 1, 1, 1];
    for (let i = 0; i < 6; i++) { store<real>(a + (<usize>i << SHIFT), av[i]); store<real>(b + (<usize>i << SHIFT), bv[i]); }
    store<real>(bias, 10); store<real>(bias + (1 << SHIFT), 20);
    const work = heap.alloc(gemm_work_bytes(2, 2, 3));
    gemm_nn(c, a, b, 2, 2, 3, bias, false, work);
    expect<real>(load<real>(c)).toBe(14);                // 1 + 3 + 10
    expect<real>(load<real>(c + (1 << SHIFT))).toBe(25); // 2 + 3 + 20
    expect<real>(load<real>(c + (2 << SHIFT))).toBe(20); // 4 + 6 + 10
    expect<real>(load<real>(c + (3 << SHIFT))).toBe(31); // 5 + 6 + 20
    gemm_nn(c, a, b, 2, 2, 3, 0, true, work);
    expect<real>(load<real>(c)).toBe(18);
    expect<real>(load<real>(c + (3 << SHIFT))).toBe(42);
    expect<bool>(guardsIntact(c, 4)).toBe(true);
    heap.free(a); heap.free(b); heap.free(bias); heap.free(work); freeGuarded(c);
  });
});

// ---------------------------------------------------------------------------------------------
// The range and prepacked entry points that let one wasm call do one thread's share (issue 11):
// a split into pieces (unaligned boundaries, one-element and empty pieces) must give the same
// bits as one whole call, and must not touch anything outside its piece.

/** Cut points of [0, n): 0, 1, a point not on a multiple of the tile, n (duplicates give empty pieces). */
function cuts(n: i32): i32[] {
  return [0, min(1, n), min(1, n), min(7, n), n];
}

const RANGE_SHAPES: i32[][] = [[1, 1, 1], [5, 13, 7], [13, 21, 300], [9, 3, 4], [4, 8, 0], [17, 9, 33]];

describe("gemm range entry points, " + DTYPE, () => {
  it("row cuts x column cuts (unaligned, one-element, empty blocks) give the bits of one whole call; blocks touch only themselves", () => {
    for (let variant = 0; variant < 3; variant++) {
      for (let t = 0; t < RANGE_SHAPES.length; t++) {
        const m = RANGE_SHAPES[t][0], n = RANGE_SHAPES[t][1], k = RANGE_SHAPES[t][2];
        for (let mode = 0; mode < 2; mode++) {
          const withBias = mode == 0, acc = mode == 1;
          const tag = " " + DTYPE + " " + NAMES[variant] + " m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() + (acc ? " accumulate" : " bias");
          const a = pattern(m * k, 1), b = pattern(k * n, 2), bias = withBias ? pattern(n, 3) : 0, c0 = pattern(m * n, 4);
          const work = heap.alloc(gemm_work_bytes(m, n, k) + 16);
          const ref = buffer(m * n), got = buffer(m * n), slow = buffer(m * n);
          memory.copy(ref, c0, <usize>(m * n) << SHIFT);
          memory.copy(got, c0, <usize>(m * n) << SHIFT);
          memory.copy(slow, c0, <usize>(m * n) << SHIFT);
          fast(variant, ref, a, b, m, n, k, bias, acc, work);
          naive(variant, slow, a, b, m, n, k, bias, acc);
          const rc = cuts(m), cc = cuts(n);
          for (let r = 0; r + 1 < rc.length; r++) {
            for (let q = 0; q + 1 < cc.length; q++) {
              block(variant, got, a, b, m, n, k, bias, acc, work, rc[r], rc[r + 1], cc[q], cc[q + 1]);
            }
          }
          expect<i32>(firstDifference(got, ref, m * n)).toBe(-1, "stitched blocks" + tag);
          expect<bool>(guardIntact(got, m * n)).toBe(true, "wrote past C" + tag);
          expect<bool>(maxRelErr(got, slow, m * n) < LOOSE).toBe(true, "vs the naive twin" + tag);
          // One interior block alone: everything outside it keeps its sentinel.
          if (m >= 3 && n >= 3) {
            const lone = buffer(m * n);
            fillWith(lone, m * n, 99);
            block(variant, lone, a, b, m, n, k, bias, false, work, 1, m - 1, 1, n - 1);
            let outside = true;
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                const inside = i >= 1 && i < m - 1 && j >= 1 && j < n - 1;
                if (!inside && load<real>(lone + (<usize>(i * n + j) << SHIFT)) != 99) outside = false;
              }
            }
            expect<bool>(outside).toBe(true, "a block wrote outside itself" + tag);
            heap.free(lone);
          }
          heap.free(a); heap.free(b); heap.free(c0); heap.free(work);
          heap.free(ref); heap.free(got); heap.free(slow);
          if (withBias) heap.free(bias);
        }
      }
    }
  });
});

// Prepacked B: shapes with several k slices (KC = 256) and column blocks (NC = 1024 f32, 512 f64),
// n not a multiple of the tile, m not a multiple of 4.
const PACKED_SHAPES: i32[][] = [[1, 1, 1], [13, 21, 300], [9, 3, 4], [4, 8, 0], [6, 1030, 513], [17, 9, 33]];

describe("gemm rows over a prepacked B, " + DTYPE, () => {
  it("packing in any block ranges, then row cuts (unaligned, one-row, empty), give the bits of one whole call; nothing written outside", () => {
    for (let variant = 0; variant < 2; variant++) {
      for (let t = 0; t < PACKED_SHAPES.length; t++) {
        const m = PACKED_SHAPES[t][0], n = PACKED_SHAPES[t][1], k = PACKED_SHAPES[t][2];
        for (let mode = 0; mode < 2; mode++) {
          const withBias = mode == 0, acc = mode == 1;
          const tag = " " + DTYPE + (variant == 0 ? " nn" : " tn") + " m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() + (acc ? " accumulate" : " bias");
          const a = pattern(m * k, 5), b = pattern(k * n, 6), bias = withBias ? pattern(n, 7) : 0, c0 = pattern(m * n, 8);
          const work = heap.alloc(gemm_work_bytes(m, n, k) + 16);
          const packedReals = <i32>(gemm_packed_b_bytes(n, k) >> SHIFT);
          const packed = buffer(packedReals);
          memory.fill(packed, 0xff, <usize>packedReals << SHIFT); // stale bytes must all be overwritten (or unused)
          // Pack in uneven block ranges: [0, 1), [1, blocks - 1), [blocks - 1, blocks).
          const blocks = <i32>gemm_pack_b_blocks(n, k);
          const p1 = min(1, blocks), p2 = max(p1, blocks - 1);
          gemm_pack_b(packed, b, n, k, false, 0, p1);
          gemm_pack_b(packed, b, n, k, false, p1, p2);
          gemm_pack_b(packed, b, n, k, false, p2, blocks);
          expect<bool>(guardIntact(packed, packedReals)).toBe(true, "packing wrote past its buffer" + tag);
          const ref = buffer(m * n), got = buffer(m * n), slow = buffer(m * n);
          memory.copy(ref, c0, <usize>(m * n) << SHIFT);
          memory.copy(got, c0, <usize>(m * n) << SHIFT);
          memory.copy(slow, c0, <usize>(m * n) << SHIFT);
          fast(variant, ref, a, b, m, n, k, bias, acc, work);
          naive(variant, slow, a, b, m, n, k, bias, acc);
          const rc = cuts(m);
          for (let r = 0; r + 1 < rc.length; r++) {
            if (variant == 0) gemm_nn_rows_packed(got, a, packed, m, n, k, bias, acc, work, rc[r], rc[r + 1], 0);
            else gemm_tn_rows_packed(got, a, packed, m, n, k, bias, acc, work, rc[r], rc[r + 1], 0);
          }
          expect<i32>(firstDifference(got, ref, m * n)).toBe(-1, "rows over packed B" + tag);
          expect<bool>(guardIntact(got, m * n)).toBe(true, "wrote past C" + tag);
          expect<bool>(maxRelErr(got, slow, m * n) < LOOSE).toBe(true, "vs the naive twin" + tag);
          // Rows [1, m - 1) alone: the other rows keep their sentinel.
          if (m >= 3) {
            const lone = buffer(m * n);
            fillWith(lone, m * n, 99);
            if (variant == 0) gemm_nn_rows_packed(lone, a, packed, m, n, k, bias, false, work, 1, m - 1, 0);
            else gemm_tn_rows_packed(lone, a, packed, m, n, k, bias, false, work, 1, m - 1, 0);
            let outside = true;
            for (let j = 0; j < n; j++) {
              if (load<real>(lone + (<usize>j << SHIFT)) != 99 || load<real>(lone + (<usize>((m - 1) * n + j) << SHIFT)) != 99) outside = false;
            }
            expect<bool>(outside).toBe(true, "a row block wrote outside itself" + tag);
            heap.free(lone);
          }
          heap.free(a); heap.free(b); heap.free(c0); heap.free(work); heap.free(packed);
          heap.free(ref); heap.free(got); heap.free(slow);
          if (withBias) heap.free(bias);
        }
      }
    }
  });
  it("a transposed B (nt's operand) packs to the same panels as its transpose packed straight", () => {
    // gemm_pack_b with bT: the 4x4 (f32) / 2x2 (f64) transposes and their tails, n and k odd.
    const n = 1030, k = 261;
    const b = pattern(k * n, 12), bt = pattern(n * k, 0);
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < n; j++) store<real>(bt + (<usize>(j * k + p) << SHIFT), load<real>(b + (<usize>(p * n + j) << SHIFT)));
    }
    const words = <i32>(gemm_packed_b_bytes(n, k) >> SHIFT);
    const straight = buffer(words), transposed = buffer(words);
    const blocks = gemm_pack_b_blocks(n, k);
    gemm_pack_b(straight, b, n, k, false, 0, blocks);
    gemm_pack_b(transposed, bt, n, k, true, 0, blocks);
    expect<i32>(firstDifference(transposed, straight, words)).toBe(-1, DTYPE + " packed Bᵀ");
    expect<bool>(guardIntact(transposed, words)).toBe(true, DTYPE + " packing Bᵀ wrote past its buffer");
    heap.free(b); heap.free(bt); heap.free(straight); heap.free(transposed);
  });
});

// ---------------------------------------------------------------------------------------------
// GEMV (m < 4: batch 1-3 inference) and the fused ReLU epilogue (issue 22). A row's result must
// not depend on the batch it came in: the GEMV kernels must give, bit for bit, what the 4-row
// microkernel (gemm_nn / gemm_nt) gives for the same rows, at every k (one slice, several slices,
// a slice of one step), every n (tails of the wide block, of a panel, of a vector) and for any
// column range; the fused ReLU must give the bits of the GEMM followed by elementwise relu.

const ACT_RELU: u32 = 1;
const GEMV_M: i32[] = [1, 2, 3, 5];
const GEMV_N: i32[] = [1, 2, 3, 5, 7, 8, 9, 15, 17, 31, 32, 33, 40, 100, 257];
const GEMV_K: i32[] = [0, 1, 2, 3, 7, 9, 100, 255, 256, 257, 300, 513, 784];

/**
 * The reference for C(m,n) (+)= op(A)·op(B) (+ bias) then act: the whole-matrix tiled kernel
 * (gemm_nn, or gemm_nt on B stored (n, k)), then elementwise relu over C.
 */
function tiledThenAct(c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, acc: bool, act: u32, bT: bool): void {
  const work = heap.alloc(gemm_work_bytes(m, n, k));
  if (bT) gemm_nt(c, a, b, m, n, k, bias, acc, work);
  else gemm_nn(c, a, b, m, n, k, bias, acc, work);
  if (act == ACT_RELU) relu(c, c, <usize>(m * n));
  heap.free(work);
}

/** B (k, n) transposed into a new (n, k) buffer. */
function transposed(b: usize, k: i32, n: i32): usize {
  const t = pattern(n * k, 0);
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < n; j++) store<real>(t + (<usize>(j * k + p) << SHIFT), load<real>(b + (<usize>(p * n + j) << SHIFT)));
  }
  return t;
}

/**
 * One GEMV case: gemv_nn_range (B in place) and gemv_packed_range (B packed straight, and Bᵀ
 * packed transposed), each over the whole row and over a cut of the columns, against the tiled
 * kernel + relu (exact) and the naive twin + relu (exact for k <= KC, within rounding past it).
 */
function gemvCase(m: i32, n: i32, k: i32, withBias: bool, acc: bool, act: u32): void {
  const salt = m * 7 + n * 131 + k * 3 + (withBias ? 1 : 0) + (acc ? 2 : 0) + <i32>act * 5;
  const a = pattern(m * k, salt), b = pattern(k * n, salt + 1), bias = withBias ? pattern(n, salt + 2) : 0, c0 = pattern(m * n, salt + 3);
  const bt = transposed(b, k, n);
  const tag = " " + DTYPE + " m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() + (withBias ? " bias" : "") +
    (acc ? " accumulate" : "") + (act == ACT_RELU ? " relu" : "");
  const ref = buffer(m * n), slow = buffer(m * n);
  memory.copy(ref, c0, <usize>(m * n) << SHIFT);
  memory.copy(slow, c0, <usize>(m * n) << SHIFT);
  tiledThenAct(ref, a, b, m, n, k, bias, acc, act, false);
  naive(NN, slow, a, b, m, n, k, bias, acc);
  if (act == ACT_RELU) relu__scalar(slow, slow, <usize>(m * n));
  // The tiled kernel itself on Bᵀ (the nt variant) gives the same bits (a check of the reference).
  const refT = buffer(m * n);
  memory.copy(refT, c0, <usize>(m * n) << SHIFT);
  tiledThenAct(refT, a, bt, m, n, k, bias, acc, act, true);
  expect<i32>(firstDifference(refT, ref, m * n)).toBe(-1, "gemm_nt vs gemm_nn" + tag);
  if (k <= KC) expect<i32>(firstDifference(ref, slow, m * n)).toBe(-1, "tiled vs naive twin" + tag);
  else expect<bool>(maxRelErr(ref, slow, m * n) < LOOSE).toBe(true, "tiled vs naive twin" + tag);

  const words = <i32>(gemm_packed_b_bytes(n, k) >> SHIFT);
  const packed = buffer(words), packedT = buffer(words);
  const blocks = gemm_pack_b_blocks(n, k);
  gemm_pack_b(packed, b, n, k, false, 0, blocks);
  gemm_pack_b(packedT, bt, n, k, true, 0, blocks);
  const NRi: i32 = 2 * <i32>LANES;
  const cut = min(n, (n / 2) / NRi * NRi + NRi); // a multiple of NR inside the row (or n)
  for (let way = 0; way < 3; way++) {
    for (let split = 0; split < 2; split++) {
      const got = buffer(m * n);
      memory.copy(got, c0, <usize>(m * n) << SHIFT);
      const p = way == 1 ? packed : packedT;
      const mid = split == 0 ? n : (way == 0 ? min(n, 5) : cut);
      if (way == 0) {
        gemv_nn_range(got, a, b, m, n, k, bias, acc, act, 0, mid);
        gemv_nn_range(got, a, b, m, n, k, bias, acc, act, mid, n);
      } else {
        gemv_packed_range(got, a, p, m, n, k, bias, acc, act, 0, mid);
        gemv_packed_range(got, a, p, m, n, k, bias, acc, act, mid, n);
      }
      const what = (way == 0 ? "gemv_nn_range" : way == 1 ? "gemv_packed_range (B packed)" : "gemv_packed_range (Bᵀ packed)") +
        (split == 0 ? "" : " cut at " + mid.toString());
      const at = firstDifference(got, ref, m * n);
      expect<i32>(at).toBe(-1, what + ": not the 4-row microkernel's bits" + tag + " (first difference at " + at.toString() + ")");
      expect<bool>(guardIntact(got, m * n)).toBe(true, what + ": wrote past C" + tag);
      heap.free(got);
    }
  }
  // An interior column range alone writes nothing outside it.
  if (n >= 3 * NRi) {
    const lone = buffer(m * n);
    fillWith(lone, m * n, 99);
    gemv_packed_range(lone, a, packed, m, n, k, bias, acc, act, <usize>NRi, <usize>(2 * NRi));
    gemv_nn_range(lone, a, b, m, n, k, bias, acc, act, <usize>(2 * NRi + 1), <usize>(n - 1));
    let outside = true;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const inside = (j >= NRi && j < 2 * NRi) || (j >= 2 * NRi + 1 && j < n - 1);
        if (!inside && load<real>(lone + (<usize>(i * n + j) << SHIFT)) != 99) outside = false;
      }
    }
    expect<bool>(outside).toBe(true, "a column range wrote outside itself" + tag);
    heap.free(lone);
  }
  heap.free(a); heap.free(b); heap.free(bt); heap.free(c0); heap.free(ref); heap.free(refT); heap.free(slow);
  heap.free(packed); heap.free(packedT);
  if (withBias) heap.free(bias);
}

function gemvGrid(withBias: bool, acc: bool, act: u32): void {
  for (let x = 0; x < GEMV_M.length; x++) {
    for (let y = 0; y < GEMV_N.length; y++) {
      for (let z = 0; z < GEMV_K.length; z++) gemvCase(GEMV_M[x], GEMV_N[y], GEMV_K[z], withBias, acc, act);
    }
  }
}

describe("gemv (m < 4) vs the 4-row microkernel and the naive twin, m in {1,2,3,5}, awkward n and k, " + DTYPE, () => {
  it("plain", () => { gemvGrid(false, false, 0); });
  it("bias", () => { gemvGrid(true, false, 0); });
  it("accumulate", () => { gemvGrid(false, true, 0); });
  it("bias and ReLU (the fused Linear + ReLU)", () => { gemvGrid(true, false, ACT_RELU); });
  it("bias, accumulate and ReLU", () => { gemvGrid(true, true, ACT_RELU); });
  it("across column blocks (NC) with several k slices", () => {
    gemvCase(1, 1030, 300, true, false, ACT_RELU);
    gemvCase(2, 1030, 513, true, true, 0);
    gemvCase(3, 2053, 40, false, false, ACT_RELU);
  });
});

/** The fused ReLU of the 4-row engine (range and prepacked-rows entry points) against GEMM + relu. */
function fusedCase(m: i32, n: i32, k: i32, acc: bool): void {
  const salt = m * 11 + n * 13 + k;
  const a = pattern(m * k, salt), b = pattern(k * n, salt + 1), bias = pattern(n, salt + 2), c0 = pattern(m * n, salt + 3);
  const tag = " " + DTYPE + " m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() + (acc ? " accumulate" : "");
  const ref = buffer(m * n), got = buffer(m * n), rows = buffer(m * n);
  memory.copy(ref, c0, <usize>(m * n) << SHIFT);
  memory.copy(got, c0, <usize>(m * n) << SHIFT);
  memory.copy(rows, c0, <usize>(m * n) << SHIFT);
  tiledThenAct(ref, a, b, m, n, k, bias, acc, ACT_RELU, false);
  const work = heap.alloc(gemm_work_bytes(m, n, k) + 16);
  gemm_nn_range(got, a, b, m, n, k, bias, acc, work, 0, m, 0, n, ACT_RELU);
  expect<i32>(firstDifference(got, ref, m * n)).toBe(-1, "gemm_nn_range with ReLU" + tag);
  const words = <i32>(gemm_packed_b_bytes(n, k) >> SHIFT);
  const packed = buffer(words);
  gemm_pack_b(packed, b, n, k, false, 0, gemm_pack_b_blocks(n, k));
  gemm_nn_rows_packed(rows, a, packed, m, n, k, bias, acc, work, 0, m, ACT_RELU);
  expect<i32>(firstDifference(rows, ref, m * n)).toBe(-1, "gemm_nn_rows_packed with ReLU" + tag);
  expect<bool>(guardIntact(got, m * n) && guardIntact(rows, m * n)).toBe(true, "wrote past C" + tag);
  heap.free(a); heap.free(b); heap.free(bias); heap.free(c0); heap.free(ref); heap.free(got); heap.free(rows);
  heap.free(work); heap.free(packed);
}

describe("the 4-row engine's fused ReLU = GEMM then relu, " + DTYPE, () => {
  it("m, n, k in {1,3,4,5,9,17,100} x {0,1,300,513}, with and without accumulate", () => {
    const ms: i32[] = [1, 3, 4, 5, 9, 17, 100], ks: i32[] = [0, 1, 300, 513];
    for (let x = 0; x < ms.length; x++) {
      for (let y = 0; y < ms.length; y++) {
        for (let z = 0; z < ks.length; z++) {
          fusedCase(ms[x], ms[y], ks[z], false);
          fusedCase(ms[x], ms[y], ks[z], true);
        }
      }
    }
  });
});
