import { f64_gemm_work_bytes, f64_gemm_nn, f64_gemm_tn, f64_gemm_nt } from "../f64/gemm";
import { f64_gemm_nn__scalar, f64_gemm_tn__scalar, f64_gemm_nt__scalar } from "../reference/f64-gemm";
import { pattern64 } from "./helpers-f64";

// The 4x4 f64x2 tiled GEMM against its naive twin. Summation orders differ across k slices only,
// so every element must satisfy |fast - naive| <= 2 (k + 2) eps · (Σ_p |a_ip b_pj| + |bias_j| + |C0_ij|)
// with eps = 2^-52; a wrong, missing or doubled term fails. Guard words around C and after the
// scratch catch stray writes. Sizes straddle the 4-wide tile, the k slice (256), the row block
// (64) and the column block (512).

const SIZES: i32[] = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 65];
const EPS: f64 = 2.220446049250313e-16;
const GUARD: f64 = 12345.0;
const GUARD_WORDS: i32 = 2; // keeps C 16-byte aligned
const NN: i32 = 0, TN: i32 = 1, NT: i32 = 2;
const NAMES: string[] = ["nn", "tn", "nt"];

function fast(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, accumulate: bool, work: usize): void {
  if (variant == NN) f64_gemm_nn(c, a, b, m, n, k, bias, accumulate, work);
  else if (variant == TN) f64_gemm_tn(c, a, b, m, n, k, bias, accumulate, work);
  else f64_gemm_nt(c, a, b, m, n, k, bias, accumulate, work);
}

function naive(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, accumulate: bool): void {
  if (variant == NN) f64_gemm_nn__scalar(c, a, b, m, n, k, bias, accumulate);
  else if (variant == TN) f64_gemm_tn__scalar(c, a, b, m, n, k, bias, accumulate);
  else f64_gemm_nt__scalar(c, a, b, m, n, k, bias, accumulate);
}

function guarded(n: i32): usize {
  const base = heap.alloc(<usize>(n + 2 * GUARD_WORDS) << 3);
  for (let i = 0; i < GUARD_WORDS; i++) {
    store<f64>(base + (<usize>i << 3), GUARD);
    store<f64>(base + (<usize>(n + GUARD_WORDS + i) << 3), GUARD);
  }
  return base + (<usize>GUARD_WORDS << 3);
}

function guardsIntact(p: usize, n: i32): bool {
  for (let i = 1; i <= GUARD_WORDS; i++) {
    if (load<f64>(p - (<usize>i << 3)) != GUARD) return false;
    if (load<f64>(p + (<usize>(n + i - 1) << 3)) != GUARD) return false;
  }
  return true;
}

function copyAbs(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f64>(dst + (<usize>i << 3), abs(load<f64>(src + (<usize>i << 3))));
}

/** Largest |fast - naive| / scale over C, or -1 when a guard was overwritten. */
function check(variant: i32, m: i32, n: i32, k: i32, withBias: bool, accumulate: bool, salt: i32): f64 {
  const a = pattern64(m * k, salt), b = pattern64(k * n, salt + 1);
  const bias = withBias ? pattern64(n, salt + 2) : 0;
  const c0 = pattern64(m * n, salt + 3);
  const cf = guarded(m * n), cn = guarded(m * n), cs = guarded(m * n);
  memory.copy(cf, c0, <usize>(m * n) << 3);
  memory.copy(cn, c0, <usize>(m * n) << 3);
  const aa = pattern64(m * k, 0), ba = pattern64(k * n, 0), biasa = withBias ? pattern64(n, 0) : 0;
  copyAbs(aa, a, m * k); copyAbs(ba, b, k * n); copyAbs(cs, c0, m * n);
  if (withBias) copyAbs(biasa, bias, n);
  const words = <i32>((f64_gemm_work_bytes(m, n, k) + 7) >> 3);
  const work = guarded(words);
  fast(variant, cf, a, b, m, n, k, bias, accumulate, work);
  naive(variant, cn, a, b, m, n, k, bias, accumulate);
  naive(variant, cs, aa, ba, m, n, k, biasa, accumulate);
  let worst: f64 = 0;
  if (!guardsIntact(cf, m * n) || !guardsIntact(work, words)) worst = -1;
  else {
    for (let i = 0; i < m * n; i++) {
      const o = <usize>i << 3;
      const d = abs(load<f64>(cf + o) - load<f64>(cn + o));
      const s = load<f64>(cs + o);
      const r = d == 0 ? 0 : (s == 0 ? Infinity : d / s);
      if (r > worst) worst = r;
    }
  }
  heap.free(a); heap.free(b); heap.free(c0); heap.free(aa); heap.free(ba);
  if (withBias) { heap.free(bias); heap.free(biasa); }
  heap.free(cf - 16); heap.free(cn - 16); heap.free(cs - 16); heap.free(work - 16);
  return worst;
}

function expectAgree(variant: i32, m: i32, n: i32, k: i32, withBias: bool, accumulate: bool): void {
  const worst = check(variant, m, n, k, withBias, accumulate, m * 131 + n * 17 + k);
  const bound = 2.0 * <f64>(k + 2) * EPS;
  const name = "f64_gemm_" + NAMES[variant] + " m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() +
    (withBias ? " bias" : "") + (accumulate ? " accumulate" : "");
  expect<bool>(worst >= 0).toBe(true, name + ": wrote outside C or past its scratch");
  expect<bool>(worst <= bound).toBe(true, name + ": max relative error " + worst.toString() + " > bound " + bound.toString());
}

function grid(variant: i32, withBias: bool, accumulate: bool): void {
  for (let x = 0; x < SIZES.length; x++) {
    for (let y = 0; y < SIZES.length; y++) {
      for (let z = 0; z < SIZES.length; z++) expectAgree(variant, SIZES[x], SIZES[y], SIZES[z], withBias, accumulate);
    }
  }
}

/** Past the blocking: k across the 256 slice, m across the 64-row block, n across the 512-column block. */
function blocks(variant: i32): void {
  expectAgree(variant, 5, 6, 300, true, false);
  expectAgree(variant, 70, 9, 257, false, true);
  expectAgree(variant, 3, 517, 11, true, true);
  expectAgree(variant, 130, 13, 513, true, false);
}

describe("f64_gemm_nn vs naive twin, m, n, k in {1,2,3,4,5,7,8,9,16,17,33,65}", () => {
  it("plain", () => { grid(NN, false, false); });
  it("bias and accumulate", () => { grid(NN, true, true); });
  it("past the k, m and n blocks", () => { blocks(NN); });
  it("k = 0 gives bias, or C + bias when accumulating", () => {
    const c = guarded(6), bias = pattern64(3, 9), work = guarded(8);
    for (let i = 0; i < 6; i++) store<f64>(c + (<usize>i << 3), 1.5);
    f64_gemm_nn(c, 0, 0, 2, 3, 0, bias, true, work);
    expect<f64>(load<f64>(c + 8)).toBe(1.5 + load<f64>(bias + 8));
    f64_gemm_nn(c, 0, 0, 2, 3, 0, bias, false, work);
    expect<f64>(load<f64>(c + 32)).toBe(load<f64>(bias + 8)); // row 1, column 1
    expect<bool>(guardsIntact(c, 6)).toBe(true);
  });
});

describe("f64_gemm_tn vs naive twin", () => {
  it("plain", () => { grid(TN, false, false); });
  it("bias and accumulate", () => { grid(TN, true, true); });
  it("past the k, m and n blocks", () => { blocks(TN); });
});

describe("f64_gemm_nt vs naive twin", () => {
  it("plain", () => { grid(NT, false, false); });
  it("bias and accumulate", () => { grid(NT, true, true); });
  it("past the k, m and n blocks", () => { blocks(NT); });
});
