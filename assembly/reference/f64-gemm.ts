// Naive triple-loop f64 GEMM twins (scalar, one accumulator per output, k in order). Test-only.

/** op(A)(i, p) at a + (i·ai + p·ap)·8, op(B)(p, j) at b + (p·bp + j·bj)·8. */
function naive(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, ai: usize, ap: usize, bp: usize, bj: usize): void {
  for (let i: usize = 0; i < m; i++) {
    for (let j: usize = 0; j < n; j++) {
      let s: f64 = 0;
      for (let p: usize = 0; p < k; p++) s += load<f64>(a + ((i * ai + p * ap) << 3)) * load<f64>(b + ((p * bp + j * bj) << 3));
      if (bias) s += load<f64>(bias + (j << 3));
      const o = c + ((i * n + j) << 3);
      store<f64>(o, accumulate ? load<f64>(o) + s : s);
    }
  }
}

export function f64_gemm_nn__scalar(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool): void {
  naive(c, a, b, m, n, k, bias, accumulate, k, 1, n, 1);
}

export function f64_gemm_tn__scalar(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool): void {
  naive(c, a, b, m, n, k, bias, accumulate, 1, m, n, 1);
}

export function f64_gemm_nt__scalar(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool): void {
  naive(c, a, b, m, n, k, bias, accumulate, k, 1, 1, k);
}
