// Reductions over `real` (see real.ts). Order of summation is fixed by the sizes alone, so results
// are the same bits in every engine. Sums that become a single number accumulate in f64.
import { FLOAT32, LANES, SHIFT } from "./real";

/**
 * y[j] = sum_i x[i, j] (column sums, e.g. a bias gradient) for columns [j0, j1) only: y: (cols),
 * x: (rows, cols); y is added to when accumulate (one thread's share; each column's sum is its own,
 * rows in order, so any split gives the same bits). Precondition: j0 <= j1 <= cols.
 */
export function sum_rows_range(y: usize, x: usize, rows: usize, cols: usize, accumulate: bool, j0: usize, j1: usize): void {
  if (!accumulate) memory.fill(y + (j0 << SHIFT), 0, (j1 - j0) << SHIFT);
  for (let i: usize = 0; i < rows; i++) {
    const xi = x + ((i * cols) << SHIFT);
    let j = j0;
    for (; j + LANES <= j1; j += LANES) {
      v128.store(y + (j << SHIFT), v128.add<real>(v128.load(y + (j << SHIFT)), v128.load(xi + (j << SHIFT))));
    }
    for (; j < j1; j++) store<real>(y + (j << SHIFT), load<real>(y + (j << SHIFT)) + load<real>(xi + (j << SHIFT)));
  }
}

/** (Σ_i x[i], i ascending from x[0]) / n in f64: a fixed-order mean of per-row values. x: f64 (n), n >= 1. */
export function f64_mean(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total += load<f64>(x + (i << 3));
  return total / <f64>n;
}

// Four elements per step in both dtypes, in four f64 lanes (two f64x2): element i goes to lane
// i % 4, the lanes are added as ((l0 + l1) + l2) + l3, then the n % 4 last terms in order. In
// float32 the term (v*v or |v|) is computed in f32 and promoted; in float64 it is f64 already.

/** The f64 lanes 0, 1 (lo) and 2, 3 (hi) of four terms starting at p: f32x4 promoted, or two f64x2. */
@inline function termsLo(t0: v128): v128 {
  return FLOAT32 ? f64x2.promote_low_f32x4(t0) : t0;
}
@inline function termsHi(t0: v128, t1: v128): v128 {
  return FLOAT32 ? f64x2.promote_low_f32x4(v128.shuffle<u32>(t0, t0, 2, 3, 0, 1)) : t1;
}

/** sum_i x[i]^2, in f64. x: (n) */
export function sum_squares(x: usize, n: usize): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (i << SHIFT));
    const s = v128.mul<real>(v, v);
    let s1 = s;
    if (!FLOAT32) {
      const w = v128.load(x + (i << SHIFT), 16);
      s1 = v128.mul<real>(w, w);
    }
    lo = f64x2.add(lo, termsLo(s));
    hi = f64x2.add(hi, termsHi(s, s1));
  }
  let total = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1);
  for (; i < n; i++) {
    const v = load<real>(x + (i << SHIFT));
    total += <f64>(v * v);
  }
  return total;
}

/** sum_i |x[i]|, in f64. x: (n) */
export function sum_abs(x: usize, n: usize): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const s = v128.abs<real>(v128.load(x + (i << SHIFT)));
    let s1 = s;
    if (!FLOAT32) s1 = v128.abs<real>(v128.load(x + (i << SHIFT), 16));
    lo = f64x2.add(lo, termsLo(s));
    hi = f64x2.add(hi, termsHi(s, s1));
  }
  let total = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1);
  for (; i < n; i++) total += <f64>abs(load<real>(x + (i << SHIFT)));
  return total;
}

// Chunked sums for threads: out[q] = the sum over chunk q = x[q·chunk, min(n, (q+1)·chunk)) for
// q in [q0, q1) (a task's share), each chunk exactly as the whole-array kernel sums it; the host
// picks `chunk` from the sizes alone and adds out[0..chunks) in order with f64_sum, so any split
// gives the same bits (and one chunk gives the whole-array kernel's).

/** sum_squares of chunks [q0, q1). out: f64 (chunks) */
export function sum_squares_chunks(out: usize, x: usize, n: usize, chunk: usize, q0: usize, q1: usize): void {
  for (let q = q0; q < q1; q++) {
    const i0 = q * chunk;
    store<f64>(out + (q << 3), sum_squares(x + (i0 << SHIFT), min(n, i0 + chunk) - i0));
  }
}

/** sum_abs of chunks [q0, q1). out: f64 (chunks) */
export function sum_abs_chunks(out: usize, x: usize, n: usize, chunk: usize, q0: usize, q1: usize): void {
  for (let q = q0; q < q1; q++) {
    const i0 = q * chunk;
    store<f64>(out + (q << 3), sum_abs(x + (i0 << SHIFT), min(n, i0 + chunk) - i0));
  }
}

/** Σ_i x[i] in f64, i ascending, from 0. x: f64 (n) */
export function f64_sum(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total += load<f64>(x + (i << 3));
  return total;
}

/** y[i] += alpha * sign(x[i]) (sign(0) = 0): the L1 penalty's gradient. y, x: (n) */
export function add_sign(y: usize, x: usize, n: usize, alpha: real): void {
  const zero = v128.splat<real>(0);
  const pos = v128.splat<real>(alpha);
  const neg = v128.splat<real>(-alpha);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const v = v128.load(x + o);
    const s = v128.or(v128.and(pos, v128.gt<real>(v, zero)), v128.and(neg, v128.lt<real>(v, zero)));
    v128.store(y + o, v128.add<real>(v128.load(y + o), s));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    const v = load<real>(x + o);
    store<real>(y + o, load<real>(y + o) + (v > 0 ? alpha : v < 0 ? -alpha : 0));
  }
}

/** out[i] = index of the first maximum of row i (NaN never wins). out: i32 (rows), x: (rows, cols) */
export function argmax_rows(out: usize, x: usize, rows: usize, cols: usize): void {
  for (let i: usize = 0; i < rows; i++) {
    const xi = x + ((i * cols) << SHIFT);
    // Start from NaN, not -Infinity: the first non-NaN value must win even when it is -Infinity
    // (a row [NaN, -Infinity] would otherwise answer 0, the NaN).
    let best: i32 = 0;
    let bestValue: real = NaN;
    for (let j: usize = 0; j < cols; j++) {
      const v = load<real>(xi + (j << SHIFT));
      if (v > bestValue || (isNaN(bestValue) && !isNaN(v))) {
        bestValue = v;
        best = <i32>j;
      }
    }
    store<i32>(out + (i << 2), best);
  }
}

/** Copies rows idx[0..count) of x into out. out: (count, rowSize), x: (*, rowSize), idx: i32 (count) */
export function gather_rows(out: usize, x: usize, idx: usize, count: usize, rowSize: usize): void {
  const bytes = rowSize << SHIFT;
  for (let i: usize = 0; i < count; i++) {
    memory.copy(out + i * bytes, x + <usize>load<i32>(idx + (i << 2)) * bytes, bytes);
  }
}
