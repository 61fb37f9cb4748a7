// f64 reductions. Summation order is fixed by the sizes alone (same bits in every engine).

/** y[j] (+)= sum_i x[i, j] (column sums, e.g. a bias gradient). y: (cols), x: (rows, cols) */
export function f64_sum_rows(y: usize, x: usize, rows: usize, cols: usize, accumulate: bool): void {
  if (!accumulate) memory.fill(y, 0, cols << 3);
  for (let i: usize = 0; i < rows; i++) {
    const xi = x + ((i * cols) << 3);
    let j: usize = 0;
    for (; j + 2 <= cols; j += 2) {
      v128.store(y + (j << 3), f64x2.add(v128.load(y + (j << 3)), v128.load(xi + (j << 3))));
    }
    if (j < cols) store<f64>(y + (j << 3), load<f64>(y + (j << 3)) + load<f64>(xi + (j << 3)));
  }
}

/** sum_i x[i]^2: even and odd elements in two lanes, then lane 0 + lane 1 + an odd last square. x: (n) */
export function f64_sum_squares(x: usize, n: usize): f64 {
  let acc = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const v = v128.load(x + (i << 3));
    acc = f64x2.add(acc, f64x2.mul(v, v));
  }
  let total = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (i < n) {
    const v = load<f64>(x + (i << 3));
    total += v * v;
  }
  return total;
}

/** sum_i |x[i]|, lanes as in f64_sum_squares. x: (n) */
export function f64_sum_abs(x: usize, n: usize): f64 {
  let acc = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) acc = f64x2.add(acc, f64x2.abs(v128.load(x + (i << 3))));
  let total = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (i < n) total += Math.abs(load<f64>(x + (i << 3)));
  return total;
}

/** y[i] += alpha * sign(x[i]) (sign(0) = 0): the L1 penalty's gradient. y, x: (n) */
export function f64_add_sign(y: usize, x: usize, n: usize, alpha: f64): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << 3;
    const v = load<f64>(x + o);
    store<f64>(y + o, load<f64>(y + o) + (v > 0 ? alpha : v < 0 ? -alpha : 0));
  }
}

/** out[i] = index of the first maximum of row i (NaN never wins). out: i32 (rows), x: (rows, cols) */
export function f64_argmax_rows(out: usize, x: usize, rows: usize, cols: usize): void {
  for (let i: usize = 0; i < rows; i++) {
    const xi = x + ((i * cols) << 3);
    let best: i32 = 0;
    let bestValue: f64 = NaN;
    for (let j: usize = 0; j < cols; j++) {
      const v = load<f64>(xi + (j << 3));
      if (v > bestValue || (isNaN(bestValue) && !isNaN(v))) {
        bestValue = v;
        best = <i32>j;
      }
    }
    store<i32>(out + (i << 2), best);
  }
}

/** Copies rows idx[0..count) of x into out. out: (count, rowSize), x: (*, rowSize), idx: i32 (count) */
export function f64_gather_rows(out: usize, x: usize, idx: usize, count: usize, rowSize: usize): void {
  const bytes = rowSize << 3;
  for (let i: usize = 0; i < count; i++) {
    memory.copy(out + i * bytes, x + <usize>load<i32>(idx + (i << 2)) * bytes, bytes);
  }
}
