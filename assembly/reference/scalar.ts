// Naive twins of the scalar kernels (assembly/scalar.ts), from the definitions. Used only by the
// as-pect specs.

/** cos(pi * x) by its Taylor series in y = pi*x (x in [0, 1]: y in [0, pi], 40 terms converge to f64 precision). */
export function f64_cos_pi__scalar(x: f64): f64 {
  const y = 3.141592653589793 * x;
  let term: f64 = 1;
  let sum: f64 = 1;
  for (let k = 1; k <= 40; k++) {
    term *= (-y * y) / <f64>((2 * k - 1) * (2 * k));
    sum += term;
  }
  return sum;
}
