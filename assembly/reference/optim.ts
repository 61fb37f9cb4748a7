// Naive scalar twins of the update rules (assembly/optim.ts), straight from the Semantics table
// (docs/course-api.md) in `real`, one element at a time. Expressions keep the table's grouping: `lr*dw/(...)` is
// (lr*dw)/(...), `(1-decay)*dw^2` is (1-decay)*(dw*dw).
import { FLOAT32, SHIFT, sqrtReal } from "../real";

/** w -= lr * dw */
export function sgd__scalar(w: usize, dw: usize, n: usize, lr: real): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << SHIFT;
    store<real>(w + o, load<real>(w + o) - lr * load<real>(dw + o));
  }
}

/** v = mu*v - lr*dw; w += v */
export function sgd_momentum__scalar(w: usize, dw: usize, v: usize, n: usize, lr: real, mu: real): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << SHIFT;
    const vel: real = mu * load<real>(v + o) - lr * load<real>(dw + o);
    store<real>(v + o, vel);
    store<real>(w + o, load<real>(w + o) + vel);
  }
}

/** v_prev = v; v = mu*v - lr*dw; w += -mu*v_prev + (1+mu)*v */
export function sgd_nesterov__scalar(w: usize, dw: usize, v: usize, n: usize, lr: real, mu: real): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << SHIFT;
    const prev = load<real>(v + o);
    const vel: real = mu * prev - lr * load<real>(dw + o);
    store<real>(v + o, vel);
    store<real>(w + o, load<real>(w + o) + ((<real>1 + mu) * vel - mu * prev));
  }
}

/** cache += dw^2; w -= lr*dw/(sqrt(cache)+eps) */
export function adagrad__scalar(w: usize, dw: usize, cache: usize, n: usize, lr: real, eps: real): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << SHIFT;
    const g = load<real>(dw + o);
    const c: real = load<real>(cache + o) + g * g;
    store<real>(cache + o, c);
    store<real>(w + o, load<real>(w + o) - lr * g / (sqrtReal(c) + eps));
  }
}

/** cache = decay*cache + (1-decay)*dw^2; w -= lr*dw/(sqrt(cache)+eps) */
export function rmsprop__scalar(w: usize, dw: usize, cache: usize, n: usize, lr: real, decay: real, eps: real): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << SHIFT;
    const g = load<real>(dw + o);
    const c: real = decay * load<real>(cache + o) + (<real>1 - decay) * (g * g);
    store<real>(cache + o, c);
    store<real>(w + o, load<real>(w + o) - lr * g / (sqrtReal(c) + eps));
  }
}

/** beta^t for an integer step count t >= 1, by repeated multiplication in f64. */
function powInt(beta: f64, t: i32): f64 {
  let r: f64 = 1;
  for (let k = 0; k < t; k++) r *= beta;
  return r;
}

/**
 * Adam at step t (already incremented): m = b1*m + (1-b1)*dw; v = b2*v + (1-b2)*dw^2;
 * mHat = m/(1-b1^t); vHat = v/(1-b2^t); w -= lr*mHat/(sqrt(vHat)+eps).
 * b^t and 1 - b^t in f64 (in f32, 1 - b2^t would lose about half its digits at small t): by
 * repeated multiplication, which rounds to the kernel's f32 corrections; in float64 the last bit
 * of b^t depends on how it is computed, so there the twin takes the kernel's exp(t log b).
 */
export function adam__scalar(w: usize, dw: usize, m: usize, v: usize, n: usize, lr: real, b1: real, b2: real, eps: real, t: i32): void {
  const bc1 = <real>(1.0 - (FLOAT32 ? powInt(<f64>b1, t) : Math.exp(<f64>t * Math.log(<f64>b1))));
  const bc2 = <real>(1.0 - (FLOAT32 ? powInt(<f64>b2, t) : Math.exp(<f64>t * Math.log(<f64>b2))));
  for (let i: usize = 0; i < n; i++) {
    const o = i << SHIFT;
    const g = load<real>(dw + o);
    const mi: real = b1 * load<real>(m + o) + (<real>1 - b1) * g;
    const vi: real = b2 * load<real>(v + o) + (<real>1 - b2) * (g * g);
    store<real>(m + o, mi);
    store<real>(v + o, vi);
    const mHat: real = mi / bc1;
    const vHat: real = vi / bc2;
    store<real>(w + o, load<real>(w + o) - lr * mHat / (sqrtReal(vHat) + eps));
  }
}

/** avg += rate*(w - avg) */
export function ema_update__scalar(avg: usize, w: usize, n: usize, rate: real): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << SHIFT;
    const a = load<real>(avg + o);
    store<real>(avg + o, a + rate * (load<real>(w + o) - a));
  }
}
