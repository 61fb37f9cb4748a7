// Naive scalar twins of the f64 SIMD kernels (f64/activation.ts, f64/reduce.ts): one element at
// a time, the same operations, so the same bits. Test-only.

export function f64_tanh_backward__scalar(dx: usize, dy: usize, y: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const t = load<f64>(y + (i << 3));
    store<f64>(dx + (i << 3), load<f64>(dy + (i << 3)) * (1.0 - t * t));
  }
}

/** Column sums, row by row in order. y: (cols), x: (rows, cols) */
export function f64_sum_rows__scalar(y: usize, x: usize, rows: usize, cols: usize, accumulate: bool): void {
  for (let j: usize = 0; j < cols; j++) {
    let s: f64 = accumulate ? load<f64>(y + (j << 3)) : 0;
    for (let i: usize = 0; i < rows; i++) s += load<f64>(x + ((i * cols + j) << 3));
    store<f64>(y + (j << 3), s);
  }
}

/** The SIMD order: even elements in one sum, odd ones in another, then even + odd + an odd last square. */
export function f64_sum_squares__scalar(x: usize, n: usize): f64 {
  let even: f64 = 0, odd: f64 = 0;
  const pairs = n & ~1;
  for (let i: usize = 0; i < pairs; i += 2) {
    const a = load<f64>(x + (i << 3)), b = load<f64>(x + ((i + 1) << 3));
    even += a * a;
    odd += b * b;
  }
  let total = even + odd;
  if (pairs < n) {
    const v = load<f64>(x + (pairs << 3));
    total += v * v;
  }
  return total;
}

export function f64_sum_abs__scalar(x: usize, n: usize): f64 {
  let even: f64 = 0, odd: f64 = 0;
  const pairs = n & ~1;
  for (let i: usize = 0; i < pairs; i += 2) {
    even += Math.abs(load<f64>(x + (i << 3)));
    odd += Math.abs(load<f64>(x + ((i + 1) << 3)));
  }
  let total = even + odd;
  if (pairs < n) total += Math.abs(load<f64>(x + (pairs << 3)));
  return total;
}
