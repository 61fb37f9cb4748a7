// Naive scalar twins of the activation kernels, for the specs. The tanh twin is a different
// algorithm on purpose (musl's f64 tanh, rounded to `real`): the fast kernel must stay within
// 1 ulp of it in float32 and a few ulp in float64.
import { SHIFT } from "../real";

export function tanh__scalar(y: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<real>(y + (i << SHIFT), <real>Math.tanh(<f64>load<real>(x + (i << SHIFT))));
}

export function tanh_backward__scalar(dx: usize, dy: usize, y: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const t = load<real>(y + (i << SHIFT));
    store<real>(dx + (i << SHIFT), load<real>(dy + (i << SHIFT)) * (<real>1.0 - t * t));
  }
}

// Sigmoid and GELU twins: written from the definitions with musl's f64 exp and tanh-free forms
// that do not cancel (x / (1 + e^-2u) for GELU-tanh), rounded to `real` once; the kernels must stay
// within an ulp of them in float32 and a few in float64. GELU-erf has no independent twin here
// (AssemblyScript has no erf): it uses erf.ts's erfc like the kernel, and the spec checks erfc
// itself against 60-digit values.
import { erfc } from "../erf";

const BETA: f64 = 0.7978845608028654; // sqrt(2/pi)
const KAPPA: f64 = 0.044715;

export function sigmoid__scalar(y: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    store<real>(y + (i << SHIFT), <real>(1.0 / (1.0 + Math.exp(-<f64>load<real>(x + (i << SHIFT))))));
  }
}

export function sigmoid_backward__scalar(dx: usize, dy: usize, y: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const s = load<real>(y + (i << SHIFT));
    store<real>(dx + (i << SHIFT), load<real>(dy + (i << SHIFT)) * (<real>1.0 - s) * s);
  }
}

/** 0.5·x·(1 + erf(x/√2)) = x·erfc(-x/√2)/2 */
function geluErf(x: f64): f64 {
  return x * (0.5 * erfc(-x * 0.7071067811865476));
}

function geluErfGrad(x: f64): f64 {
  return 0.5 * erfc(-x * 0.7071067811865476) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2.0 * Math.PI);
}

/** 0.5·x·(1 + tanh(u)) = x / (1 + e^(-2u)), u = sqrt(2/pi)(x + 0.044715x³) */
function geluTanh(x: f64): f64 {
  const u = BETA * (x + KAPPA * x * x * x);
  return x / (1.0 + Math.exp(-2.0 * u));
}

/** d/dx of x·s(2u): s + x·2u'·s·(1 - s), with s = 1/(1 + e^-2u) and 1 - s = 1/(1 + e^2u). */
function geluTanhGrad(x: f64): f64 {
  const u = BETA * (x + KAPPA * x * x * x);
  const s = 1.0 / (1.0 + Math.exp(-2.0 * u));
  const c = 1.0 / (1.0 + Math.exp(2.0 * u));
  return s + 2.0 * x * BETA * (1.0 + 3.0 * KAPPA * x * x) * s * c;
}

export function gelu__scalar(y: usize, x: usize, n: usize, approximate: i32): void {
  for (let i: usize = 0; i < n; i++) {
    const v = <f64>load<real>(x + (i << SHIFT));
    store<real>(y + (i << SHIFT), <real>(approximate == 1 ? geluTanh(v) : geluErf(v)));
  }
}

export function gelu_backward__scalar(dx: usize, dy: usize, x: usize, n: usize, approximate: i32): void {
  for (let i: usize = 0; i < n; i++) {
    const v = <f64>load<real>(x + (i << SHIFT));
    const g = approximate == 1 ? geluTanhGrad(v) : geluErfGrad(v);
    store<real>(dx + (i << SHIFT), <real>(<f64>load<real>(dy + (i << SHIFT)) * g));
  }
}
