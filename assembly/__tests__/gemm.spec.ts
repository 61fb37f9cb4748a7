import { f32_gemm_work_bytes, f32_gemm_nn, f32_gemm_tn, f32_gemm_nt } from "../gemm";
import { f32_gemm_nn__scalar, f32_gemm_tn__scalar, f32_gemm_nt__scalar } from "../reference/gemm";
import { pattern } from "./helpers";

// Each case runs a tiled kernel and its naive twin on the same inputs. The summation orders
// differ, so results agree up to rounding: every element must satisfy
//   |fast - naive| <= 2 (k + 2) eps · (Σ_p |a_ip b_pj| + |bias_j| + |C0_ij|)
// (each side is within (k + 1) eps of the exact value in that measure). The check fails on any
// wrong, missing or doubled term. Guard words around C and after the scratch catch stray writes.

const SIZES: i32[] = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 100];
const EPS: f64 = 1.1920928955078125e-7; // 2^-23
const GUARD: f32 = 12345.0;
const GUARD_WORDS: i32 = 4; // keeps C 16-byte aligned

const NN: i32 = 0, TN: i32 = 1, NT: i32 = 2;
const NAMES: string[] = ["nn", "tn", "nt"];

function fast(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, accumulate: bool, work: usize): void {
  if (variant == NN) f32_gemm_nn(c, a, b, m, n, k, bias, accumulate, work);
  else if (variant == TN) f32_gemm_tn(c, a, b, m, n, k, bias, accumulate, work);
  else f32_gemm_nt(c, a, b, m, n, k, bias, accumulate, work);
}

function naive(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, accumulate: bool): void {
  if (variant == NN) f32_gemm_nn__scalar(c, a, b, m, n, k, bias, accumulate);
  else if (variant == TN) f32_gemm_tn__scalar(c, a, b, m, n, k, bias, accumulate);
  else f32_gemm_nt__scalar(c, a, b, m, n, k, bias, accumulate);
}

/** n floats with GUARD_WORDS sentinels on each side; returns the pointer to the first float. */
function guarded(n: i32): usize {
  const base = heap.alloc(<usize>(n + 2 * GUARD_WORDS) << 2);
  for (let i = 0; i < GUARD_WORDS; i++) {
    store<f32>(base + (<usize>i << 2), GUARD);
    store<f32>(base + (<usize>(n + GUARD_WORDS + i) << 2), GUARD);
  }
  return base + (<usize>GUARD_WORDS << 2);
}

function freeGuarded(p: usize): void {
  heap.free(p - (<usize>GUARD_WORDS << 2));
}

function guardsIntact(p: usize, n: i32): bool {
  for (let i = 1; i <= GUARD_WORDS; i++) {
    if (load<f32>(p - (<usize>i << 2)) != GUARD) return false;
    if (load<f32>(p + (<usize>(n + i - 1) << 2)) != GUARD) return false;
  }
  return true;
}

function copyAbs(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), abs(load<f32>(src + (<usize>i << 2))));
}

/**
 * Runs one case and returns the largest |fast - naive| / scale over C, or -1 when a guard word
 * around C or after the scratch was overwritten. Bound for passing: 2 (k + 2) eps.
 */
function check(variant: i32, m: i32, n: i32, k: i32, withBias: bool, accumulate: bool, salt: i32): f64 {
  const a = pattern(m * k, salt), b = pattern(k * n, salt + 1);
  const bias = withBias ? pattern(n, salt + 2) : 0;
  const c0 = pattern(m * n, salt + 3);
  const cf = guarded(m * n), cn = guarded(m * n), cs = guarded(m * n);
  memory.copy(cf, c0, <usize>(m * n) << 2);
  memory.copy(cn, c0, <usize>(m * n) << 2);
  // The scale: the same product over absolute values.
  const aa = pattern(m * k, 0), ba = pattern(k * n, 0), biasa = withBias ? pattern(n, 0) : 0;
  copyAbs(aa, a, m * k); copyAbs(ba, b, k * n); copyAbs(cs, c0, m * n);
  if (withBias) copyAbs(biasa, bias, n);
  const workBytes = f32_gemm_work_bytes(m, n, k);
  const work = guarded(<i32>((workBytes + 3) >> 2));

  fast(variant, cf, a, b, m, n, k, bias, accumulate, work);
  naive(variant, cn, a, b, m, n, k, bias, accumulate);
  naive(variant, cs, aa, ba, m, n, k, biasa, accumulate);

  let worst: f64 = 0;
  if (!guardsIntact(cf, m * n) || !guardsIntact(work, <i32>((workBytes + 3) >> 2))) worst = -1;
  else {
    for (let i = 0; i < m * n; i++) {
      const o = <usize>i << 2;
      const d = abs(<f64>load<f32>(cf + o) - <f64>load<f32>(cn + o));
      const s = <f64>load<f32>(cs + o);
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
  const name = "gemm_" + NAMES[variant] + " m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() +
    (withBias ? " bias" : "") + (accumulate ? " accumulate" : "");
  expect<bool>(worst >= 0).toBe(true, name + ": wrote outside C or past its scratch");
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

// (AssemblyScript closures cannot capture locals, hence one block per variant.)
describe("f32_gemm_nn vs naive twin, m, n, k in {1,2,3,4,5,7,8,9,16,17,33,100}", () => {
  it("plain", () => { grid(NN, false, false); });
  it("bias", () => { grid(NN, true, false); });
  it("accumulate", () => { grid(NN, false, true); });
  it("bias and accumulate", () => { grid(NN, true, true); });
  it("k = 0 gives bias, zero, or C (+ bias) when accumulating", () => {
    for (let x = 0; x < SIZES.length; x++) {
      for (let y = 0; y < SIZES.length; y++) {
        expectAgree(NN, SIZES[x], SIZES[y], 0, false, false);
        expectAgree(NN, SIZES[x], SIZES[y], 0, true, false);
        expectAgree(NN, SIZES[x], SIZES[y], 0, false, true);
        expectAgree(NN, SIZES[x], SIZES[y], 0, true, true);
      }
    }
  });
  it("across cache blocks: 130x260x300 (2 k slices, 2 row blocks), 6x1030x513 (2 column blocks, 3 k slices)", () => {
    expectAgree(NN, 130, 260, 300, true, false);
    expectAgree(NN, 130, 260, 300, true, true);
    expectAgree(NN, 6, 1030, 513, true, true);
    expectAgree(NN, 6, 1030, 513, false, false);
  });
  it("m or n = 0 touches nothing", () => {
    const a = pattern(12, 1), b = pattern(12, 2), c = guarded(0);
    fast(NN, c, a, b, 0, 3, 4, 0, false, 0);
    fast(NN, c, a, b, 3, 0, 4, 0, true, 0);
    expect<bool>(guardsIntact(c, 0)).toBe(true);
    heap.free(a); heap.free(b); freeGuarded(c);
  });
});

describe("f32_gemm_tn vs naive twin, m, n, k in {1,2,3,4,5,7,8,9,16,17,33,100}", () => {
  it("plain", () => { grid(TN, false, false); });
  it("bias", () => { grid(TN, true, false); });
  it("accumulate", () => { grid(TN, false, true); });
  it("bias and accumulate", () => { grid(TN, true, true); });
  it("k = 0 gives bias, zero, or C (+ bias) when accumulating", () => {
    for (let x = 0; x < SIZES.length; x++) {
      for (let y = 0; y < SIZES.length; y++) {
        expectAgree(TN, SIZES[x], SIZES[y], 0, false, false);
        expectAgree(TN, SIZES[x], SIZES[y], 0, true, false);
        expectAgree(TN, SIZES[x], SIZES[y], 0, false, true);
        expectAgree(TN, SIZES[x], SIZES[y], 0, true, true);
      }
    }
  });
  it("across cache blocks: 130x260x300 (2 k slices, 2 row blocks), 6x1030x513 (2 column blocks, 3 k slices)", () => {
    expectAgree(TN, 130, 260, 300, true, false);
    expectAgree(TN, 130, 260, 300, true, true);
    expectAgree(TN, 6, 1030, 513, true, true);
    expectAgree(TN, 6, 1030, 513, false, false);
  });
  it("m or n = 0 touches nothing", () => {
    const a = pattern(12, 1), b = pattern(12, 2), c = guarded(0);
    fast(TN, c, a, b, 0, 3, 4, 0, false, 0);
    fast(TN, c, a, b, 3, 0, 4, 0, true, 0);
    expect<bool>(guardsIntact(c, 0)).toBe(true);
    heap.free(a); heap.free(b); freeGuarded(c);
  });
});

describe("f32_gemm_nt vs naive twin, m, n, k in {1,2,3,4,5,7,8,9,16,17,33,100}", () => {
  it("plain", () => { grid(NT, false, false); });
  it("bias", () => { grid(NT, true, false); });
  it("accumulate", () => { grid(NT, false, true); });
  it("bias and accumulate", () => { grid(NT, true, true); });
  it("k = 0 gives bias, zero, or C (+ bias) when accumulating", () => {
    for (let x = 0; x < SIZES.length; x++) {
      for (let y = 0; y < SIZES.length; y++) {
        expectAgree(NT, SIZES[x], SIZES[y], 0, false, false);
        expectAgree(NT, SIZES[x], SIZES[y], 0, true, false);
        expectAgree(NT, SIZES[x], SIZES[y], 0, false, true);
        expectAgree(NT, SIZES[x], SIZES[y], 0, true, true);
      }
    }
  });
  it("across cache blocks: 130x260x300 (2 k slices, 2 row blocks), 6x1030x513 (2 column blocks, 3 k slices)", () => {
    expectAgree(NT, 130, 260, 300, true, false);
    expectAgree(NT, 130, 260, 300, true, true);
    expectAgree(NT, 6, 1030, 513, true, true);
    expectAgree(NT, 6, 1030, 513, false, false);
  });
  it("m or n = 0 touches nothing", () => {
    const a = pattern(12, 1), b = pattern(12, 2), c = guarded(0);
    fast(NT, c, a, b, 0, 3, 4, 0, false, 0);
    fast(NT, c, a, b, 3, 0, 4, 0, true, 0);
    expect<bool>(guardsIntact(c, 0)).toBe(true);
    heap.free(a); heap.free(b); freeGuarded(c);
  });
});

describe("f32_gemm determinism", () => {
  it("the same inputs give the same bits, C computed twice (nn, tn, nt at 37x45x300)", () => {
    const m = 37, n = 45, k = 300;
    const a = pattern(m * k, 9), b = pattern(k * n, 10), bias = pattern(n, 11);
    const work = heap.alloc(f32_gemm_work_bytes(m, n, k));
    const c1 = guarded(m * n), c2 = guarded(m * n);
    for (let variant = 0; variant < 3; variant++) {
      fast(variant, c1, a, b, m, n, k, bias, false, work);
      memory.fill(work, 0xff, f32_gemm_work_bytes(m, n, k)); // stale scratch must not matter
      fast(variant, c2, a, b, m, n, k, bias, false, work);
      let same = true;
      for (let i = 0; i < m * n; i++) if (load<u32>(c1 + (<usize>i << 2)) != load<u32>(c2 + (<usize>i << 2))) same = false;
      expect<bool>(same).toBe(true, "gemm_" + NAMES[variant]);
    }
    heap.free(a); heap.free(b); heap.free(bias); heap.free(work); freeGuarded(c1); freeGuarded(c2);
  });
  it("by hand: 2x3 · 3x2 with bias, then accumulate", () => {
    // A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]], bias = [10, 20]
    const a = heap.alloc(24), b = heap.alloc(24), bias = heap.alloc(8), c = guarded(4);
    const av: f32[] = [1, 2, 3, 4, 5, 6], bv: f32[] = [1, 0, 0, 1, 1, 1];
    for (let i = 0; i < 6; i++) { store<f32>(a + (<usize>i << 2), av[i]); store<f32>(b + (<usize>i << 2), bv[i]); }
    store<f32>(bias, 10); store<f32>(bias, 20, 4);
    const work = heap.alloc(f32_gemm_work_bytes(2, 2, 3));
    f32_gemm_nn(c, a, b, 2, 2, 3, bias, false, work);
    expect<f32>(load<f32>(c, 0)).toBe(14);  // 1 + 3 + 10
    expect<f32>(load<f32>(c, 4)).toBe(25);  // 2 + 3 + 20
    expect<f32>(load<f32>(c, 8)).toBe(20);  // 4 + 6 + 10
    expect<f32>(load<f32>(c, 12)).toBe(31); // 5 + 6 + 20
    f32_gemm_nn(c, a, b, 2, 2, 3, 0, true, work);
    expect<f32>(load<f32>(c, 0)).toBe(18);
    expect<f32>(load<f32>(c, 12)).toBe(42);
    expect<bool>(guardsIntact(c, 4)).toBe(true);
    heap.free(a); heap.free(b); heap.free(bias); heap.free(work); freeGuarded(c);
  });
});
