// Naive triple-loop GEMM twins over `real` (scalar, one accumulator per output, k in order, then
// the bias, then C). Test-only. For k up to gemm.ts's KC (256) the tiled kernels add in exactly
// this order, so they agree bit for bit; past it they add slice sums onto C (a rounding apart).
import { SHIFT } from "../real";

/** op(A)(i, p) at a + (i·ai + p·ap) reals, op(B)(p, j) at b + (p·bp + j·bj) reals; C (m, n) contiguous. */
function naive(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool, ai: usize, ap: usize, bp: usize, bj: usize): void {
  for (let i: usize = 0; i < m; i++) {
    for (let j: usize = 0; j < n; j++) {
      let s: real = 0;
      for (let p: usize = 0; p < k; p++) s += load<real>(a + ((i * ai + p * ap) << SHIFT)) * load<real>(b + ((p * bp + j * bj) << SHIFT));
      if (bias) s += load<real>(bias + (j << SHIFT));
      const o = c + ((i * n + j) << SHIFT);
      store<real>(o, accumulate ? load<real>(o) + s : s);
    }
  }
}

/** C(m,n) (+)= A(m,k) · B(k,n) (+ bias) */
export function gemm_nn__scalar(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool): void {
  naive(c, a, b, m, n, k, bias, accumulate, k, 1, n, 1);
}

/** C(m,n) (+)= A(k,m)ᵀ · B(k,n) (+ bias) */
export function gemm_tn__scalar(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool): void {
  naive(c, a, b, m, n, k, bias, accumulate, 1, m, n, 1);
}

/** C(m,n) (+)= A(m,k) · B(n,k)ᵀ (+ bias) */
export function gemm_nt__scalar(c: usize, a: usize, b: usize, m: usize, n: usize, k: usize, bias: usize, accumulate: bool): void {
  naive(c, a, b, m, n, k, bias, accumulate, k, 1, 1, k);
}
