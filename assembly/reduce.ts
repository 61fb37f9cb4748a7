// Reductions. Order of summation is fixed by the sizes alone, so results are the same bits in
// every engine. Sums that become a single number accumulate in f64.

/**
 * y[j] = sum_i x[i, j] (column sums, e.g. a bias gradient) for columns [j0, j1) only: y: (cols),
 * x: (rows, cols); y is added to when accumulate (one thread's share; each column's sum is its own,
 * rows in order, so any split gives the same bits). Precondition: j0 <= j1 <= cols.
 */
export function f32_sum_rows_range(y: usize, x: usize, rows: usize, cols: usize, accumulate: bool, j0: usize, j1: usize): void {
  if (!accumulate) memory.fill(y + (j0 << 2), 0, (j1 - j0) << 2);
  for (let i: usize = 0; i < rows; i++) {
    const xi = x + ((i * cols) << 2);
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      v128.store(y + (j << 2), f32x4.add(v128.load(y + (j << 2)), v128.load(xi + (j << 2))));
    }
    for (; j < j1; j++) store<f32>(y + (j << 2), load<f32>(y + (j << 2)) + load<f32>(xi + (j << 2)));
  }
}

/** (Σ_i x[i], i ascending from x[0]) / n in f64: a fixed-order mean of per-row values. x: f64 (n), n >= 1. */
export function f64_mean(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total += load<f64>(x + (i << 3));
  return total / <f64>n;
}

/** sum_i x[i]^2, in f64. x: (n) */
export function f32_sum_squares(x: usize, n: usize): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (i << 2));
    const s = f32x4.mul(v, v);
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(s));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<u32>(s, s, 2, 3, 0, 1)));
  }
  let total = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1);
  for (; i < n; i++) {
    const v = load<f32>(x + (i << 2));
    total += <f64>(v * v);
  }
  return total;
}

/** sum_i |x[i]|, in f64. x: (n) */
export function f32_sum_abs(x: usize, n: usize): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const s = f32x4.abs(v128.load(x + (i << 2)));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(s));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<u32>(s, s, 2, 3, 0, 1)));
  }
  let total = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1);
  for (; i < n; i++) total += <f64>abs(load<f32>(x + (i << 2)));
  return total;
}

// Chunked sums for threads: out[q] = the sum over chunk q = x[q·chunk, min(n, (q+1)·chunk)) for
// q in [q0, q1) (a task's share), each chunk exactly as the whole-array kernel sums it; the host
// picks `chunk` from the sizes alone and adds out[0..chunks) in order with f64_sum, so any split
// gives the same bits (and one chunk gives the whole-array kernel's).

/** f32_sum_squares of chunks [q0, q1). out: f64 (chunks) */
export function f32_sum_squares_chunks(out: usize, x: usize, n: usize, chunk: usize, q0: usize, q1: usize): void {
  for (let q = q0; q < q1; q++) {
    const i0 = q * chunk;
    store<f64>(out + (q << 3), f32_sum_squares(x + (i0 << 2), min(n, i0 + chunk) - i0));
  }
}

/** f32_sum_abs of chunks [q0, q1). out: f64 (chunks) */
export function f32_sum_abs_chunks(out: usize, x: usize, n: usize, chunk: usize, q0: usize, q1: usize): void {
  for (let q = q0; q < q1; q++) {
    const i0 = q * chunk;
    store<f64>(out + (q << 3), f32_sum_abs(x + (i0 << 2), min(n, i0 + chunk) - i0));
  }
}

/** Σ_i x[i] in f64, i ascending, from 0. x: f64 (n) */
export function f64_sum(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total += load<f64>(x + (i << 3));
  return total;
}

/** y[i] += alpha * sign(x[i]) (sign(0) = 0): the L1 penalty's gradient. y, x: (n) */
export function f32_add_sign(y: usize, x: usize, n: usize, alpha: f32): void {
  const zero = f32x4.splat(0);
  const pos = f32x4.splat(alpha);
  const neg = f32x4.splat(-alpha);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    const v = v128.load(x + o);
    const s = v128.or(v128.and(pos, f32x4.gt(v, zero)), v128.and(neg, f32x4.lt(v, zero)));
    v128.store(y + o, f32x4.add(v128.load(y + o), s));
  }
  for (; i < n; i++) {
    const o = i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, load<f32>(y + o) + (v > 0 ? alpha : v < 0 ? -alpha : 0));
  }
}

/** out[i] = index of the first maximum of row i (NaN never wins). out: i32 (rows), x: (rows, cols) */
export function f32_argmax_rows(out: usize, x: usize, rows: usize, cols: usize): void {
  for (let i: usize = 0; i < rows; i++) {
    const xi = x + ((i * cols) << 2);
    // Start from NaN, not -Infinity: the first non-NaN value must win even when it is -Infinity
    // (a row [NaN, -Infinity] would otherwise answer 0, the NaN).
    let best: i32 = 0;
    let bestValue: f32 = NaN;
    for (let j: usize = 0; j < cols; j++) {
      const v = load<f32>(xi + (j << 2));
      if (v > bestValue || (isNaN(bestValue) && !isNaN(v))) {
        bestValue = v;
        best = <i32>j;
      }
    }
    store<i32>(out + (i << 2), best);
  }
}

/** Copies rows idx[0..count) of x into out. out: (count, rowSize), x: (*, rowSize), idx: i32 (count) */
export function f32_gather_rows(out: usize, x: usize, idx: usize, count: usize, rowSize: usize): void {
  const bytes = rowSize << 2;
  for (let i: usize = 0; i < count; i++) {
    memory.copy(out + i * bytes, x + <usize>load<i32>(idx + (i << 2)) * bytes, bytes);
  }
}
