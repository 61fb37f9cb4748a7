// Naive scalar twins of the reduction kernels (assembly/reduce.ts), written from the definitions,
// not from the SIMD code. Never exported from the module; used only by the as-pect specs.

/** y[j] = (accumulate ? y[j] : 0) + x[0, j] + x[1, j] + ... in row order. y: (cols), x: (rows, cols) */
export function f32_sum_rows__scalar(y: usize, x: usize, rows: usize, cols: usize, accumulate: bool): void {
  for (let j: usize = 0; j < cols; j++) {
    let acc: f32 = accumulate ? load<f32>(y + (j << 2)) : 0;
    for (let i: usize = 0; i < rows; i++) acc += load<f32>(x + ((i * cols + j) << 2));
    store<f32>(y + (j << 2), acc);
  }
}

/** sum_i x[i]^2 with every square exact (an f32 times an f32 fits in an f64) and a sequential f64 sum. */
export function f32_sum_squares__scalar(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const v = <f64>load<f32>(x + (i << 2));
    total += v * v;
  }
  return total;
}

/** sum_i |x[i]|, sequential f64 sum. */
export function f32_sum_abs__scalar(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total += Math.abs(<f64>load<f32>(x + (i << 2)));
  return total;
}

/** sign(v) in {-1, 0, 1}; NaN counts as 0 (it carries no direction). */
function sign(v: f32): f32 {
  if (v > 0) return 1;
  if (v < 0) return -1;
  return 0;
}

/** y[i] += alpha * sign(x[i]) */
export function f32_add_sign__scalar(y: usize, x: usize, n: usize, alpha: f32): void {
  for (let i: usize = 0; i < n; i++) {
    store<f32>(y + (i << 2), load<f32>(y + (i << 2)) + alpha * sign(load<f32>(x + (i << 2))));
  }
}

/**
 * out[i] = the smallest j such that x[i, j] is not NaN and no non-NaN entry of row i is larger;
 * 0 when the row has no non-NaN entry.
 */
export function f32_argmax_rows__scalar(out: usize, x: usize, rows: usize, cols: usize): void {
  for (let i: usize = 0; i < rows; i++) {
    let found = false;
    let top: f32 = 0;
    for (let j: usize = 0; j < cols; j++) {
      const v = load<f32>(x + ((i * cols + j) << 2));
      if (!isNaN(v) && (!found || v > top)) { top = v; found = true; }
    }
    let best: i32 = 0;
    if (found) {
      for (let j: usize = 0; j < cols; j++) {
        if (load<f32>(x + ((i * cols + j) << 2)) == top) { best = <i32>j; break; }
      }
    }
    store<i32>(out + (i << 2), best);
  }
}

/** out[i, k] = x[idx[i], k]. out: (count, rowSize), idx: i32 (count) */
export function f32_gather_rows__scalar(out: usize, x: usize, idx: usize, count: usize, rowSize: usize): void {
  for (let i: usize = 0; i < count; i++) {
    const r = <usize>load<i32>(idx + (i << 2));
    for (let k: usize = 0; k < rowSize; k++) {
      store<f32>(out + ((i * rowSize + k) << 2), load<f32>(x + ((r * rowSize + k) << 2)));
    }
  }
}

/** Twin of f64_mean: (x[0] + x[1] + ... + x[n-1]) / n, in order, from 0. x: f64 (n) */
export function f64_mean__scalar(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total = total + load<f64>(x + (i << 3));
  return total / <f64>n;
}
