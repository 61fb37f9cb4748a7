// Naive scalar twins of the f64 update rules (f64/optim.ts): the course formulas one element at a
// time, in f64, with the kernels' grouping. Test-only.
import { adamCorrection } from "../f64/optim";

export function f64_sgd__scalar(w: usize, dw: usize, n: usize, lr: f64): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << 3;
    store<f64>(w + o, load<f64>(w + o) - lr * load<f64>(dw + o));
  }
}

export function f64_sgd_momentum__scalar(w: usize, dw: usize, v: usize, n: usize, lr: f64, mu: f64): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << 3;
    const vel = mu * load<f64>(v + o) - lr * load<f64>(dw + o);
    store<f64>(v + o, vel);
    store<f64>(w + o, load<f64>(w + o) + vel);
  }
}

export function f64_adagrad__scalar(w: usize, dw: usize, cache: usize, n: usize, lr: f64, eps: f64): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << 3;
    const g = load<f64>(dw + o);
    const c = load<f64>(cache + o) + g * g;
    store<f64>(cache + o, c);
    store<f64>(w + o, load<f64>(w + o) - (lr * g) / (Math.sqrt(c) + eps));
  }
}

export function f64_rmsprop__scalar(w: usize, dw: usize, cache: usize, n: usize, lr: f64, decay: f64, eps: f64): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << 3;
    const g = load<f64>(dw + o);
    const c = decay * load<f64>(cache + o) + (1.0 - decay) * (g * g);
    store<f64>(cache + o, c);
    store<f64>(w + o, load<f64>(w + o) - (lr * g) / (Math.sqrt(c) + eps));
  }
}

export function f64_adam__scalar(w: usize, dw: usize, m: usize, v: usize, n: usize, lr: f64, b1: f64, b2: f64, eps: f64, t: f64): void {
  const c1 = adamCorrection(b1, t);
  const c2 = adamCorrection(b2, t);
  for (let i: usize = 0; i < n; i++) {
    const o = i << 3;
    const g = load<f64>(dw + o);
    const nm = b1 * load<f64>(m + o) + (1.0 - b1) * g;
    const nv = b2 * load<f64>(v + o) + (1.0 - b2) * (g * g);
    store<f64>(m + o, nm);
    store<f64>(v + o, nv);
    store<f64>(w + o, load<f64>(w + o) - (lr * (nm / c1)) / (Math.sqrt(nv / c2) + eps));
  }
}
