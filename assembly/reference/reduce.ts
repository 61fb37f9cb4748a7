// Naive scalar twins of the reduction kernels (assembly/reduce.ts), written from the definitions,
// not from the SIMD code, over `real`. Never exported from the module; used only by the as-pect specs.
import { SHIFT } from "../real";

/** y[j] = (accumulate ? y[j] : 0) + x[0, j] + x[1, j] + ... in row order. y: (cols), x: (rows, cols) */
export function sum_rows__scalar(y: usize, x: usize, rows: usize, cols: usize, accumulate: bool): void {
  for (let j: usize = 0; j < cols; j++) {
    let acc: real = accumulate ? load<real>(y + (j << SHIFT)) : 0;
    for (let i: usize = 0; i < rows; i++) acc += load<real>(x + ((i * cols + j) << SHIFT));
    store<real>(y + (j << SHIFT), acc);
  }
}

/** sum_i x[i]^2: each square as the kernel forms it (exact in f64 from f32 inputs), summed sequentially in f64. */
export function sum_squares__scalar(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const v = load<real>(x + (i << SHIFT));
    total += <f64>v * <f64>v;
  }
  return total;
}

/** sum_i |x[i]|, sequential f64 sum. */
export function sum_abs__scalar(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total += Math.abs(<f64>load<real>(x + (i << SHIFT)));
  return total;
}

/** sign(v) in {-1, 0, 1}; NaN counts as 0 (it carries no direction). */
function sign(v: real): real {
  if (v > 0) return 1;
  if (v < 0) return -1;
  return 0;
}

/** y[i] += alpha * sign(x[i]) */
export function add_sign__scalar(y: usize, x: usize, n: usize, alpha: real): void {
  for (let i: usize = 0; i < n; i++) {
    store<real>(y + (i << SHIFT), load<real>(y + (i << SHIFT)) + alpha * sign(load<real>(x + (i << SHIFT))));
  }
}

/**
 * out[i] = the smallest j such that x[i, j] is not NaN and no non-NaN entry of row i is larger;
 * 0 when the row has no non-NaN entry.
 */
export function argmax_rows__scalar(out: usize, x: usize, rows: usize, cols: usize): void {
  for (let i: usize = 0; i < rows; i++) {
    let found = false;
    let top: real = 0;
    for (let j: usize = 0; j < cols; j++) {
      const v = load<real>(x + ((i * cols + j) << SHIFT));
      if (!isNaN(v) && (!found || v > top)) { top = v; found = true; }
    }
    let best: i32 = 0;
    if (found) {
      for (let j: usize = 0; j < cols; j++) {
        if (load<real>(x + ((i * cols + j) << SHIFT)) == top) { best = <i32>j; break; }
      }
    }
    store<i32>(out + (i << 2), best);
  }
}

/** out[i, k] = x[idx[i], k]. out: (count, rowSize), idx: i32 (count) */
export function gather_rows__scalar(out: usize, x: usize, idx: usize, count: usize, rowSize: usize): void {
  for (let i: usize = 0; i < count; i++) {
    const r = <usize>load<i32>(idx + (i << 2));
    for (let k: usize = 0; k < rowSize; k++) {
      store<real>(out + ((i * rowSize + k) << SHIFT), load<real>(x + ((r * rowSize + k) << SHIFT)));
    }
  }
}

/** Twin of f64_mean: (x[0] + x[1] + ... + x[n-1]) / n, in order, from 0. x: f64 (n) */
export function f64_mean__scalar(x: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i++) total = total + load<f64>(x + (i << 3));
  return total / <f64>n;
}
