// Naive scalar twins of the update rules (assembly/optim.ts), straight from SPEC.md's Semantics
// table in f32, one element at a time. Expressions keep the table's grouping: `lr*dw/(...)` is
// (lr*dw)/(...), `(1-decay)*dw^2` is (1-decay)*(dw*dw).

/** w -= lr * dw */
export function f32_sgd__scalar(w: usize, dw: usize, n: usize, lr: f32): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << 2;
    store<f32>(w + o, load<f32>(w + o) - lr * load<f32>(dw + o));
  }
}

/** v = mu*v - lr*dw; w += v */
export function f32_sgd_momentum__scalar(w: usize, dw: usize, v: usize, n: usize, lr: f32, mu: f32): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << 2;
    const vel: f32 = mu * load<f32>(v + o) - lr * load<f32>(dw + o);
    store<f32>(v + o, vel);
    store<f32>(w + o, load<f32>(w + o) + vel);
  }
}

/** cache += dw^2; w -= lr*dw/(sqrt(cache)+eps) */
export function f32_adagrad__scalar(w: usize, dw: usize, cache: usize, n: usize, lr: f32, eps: f32): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << 2;
    const g = load<f32>(dw + o);
    const c: f32 = load<f32>(cache + o) + g * g;
    store<f32>(cache + o, c);
    store<f32>(w + o, load<f32>(w + o) - lr * g / (Mathf.sqrt(c) + eps));
  }
}

/** cache = decay*cache + (1-decay)*dw^2; w -= lr*dw/(sqrt(cache)+eps) */
export function f32_rmsprop__scalar(w: usize, dw: usize, cache: usize, n: usize, lr: f32, decay: f32, eps: f32): void {
  for (let i: usize = 0; i < n; i++) {
    const o = i << 2;
    const g = load<f32>(dw + o);
    const c: f32 = decay * load<f32>(cache + o) + (<f32>1 - decay) * (g * g);
    store<f32>(cache + o, c);
    store<f32>(w + o, load<f32>(w + o) - lr * g / (Mathf.sqrt(c) + eps));
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
 * b^t and 1 - b^t in f64 (in f32, 1 - b2^t would lose about half its digits at small t).
 */
export function f32_adam__scalar(w: usize, dw: usize, m: usize, v: usize, n: usize, lr: f32, b1: f32, b2: f32, eps: f32, t: i32): void {
  const bc1 = <f32>(1.0 - powInt(<f64>b1, t));
  const bc2 = <f32>(1.0 - powInt(<f64>b2, t));
  for (let i: usize = 0; i < n; i++) {
    const o = i << 2;
    const g = load<f32>(dw + o);
    const mi: f32 = b1 * load<f32>(m + o) + (<f32>1 - b1) * g;
    const vi: f32 = b2 * load<f32>(v + o) + (<f32>1 - b2) * (g * g);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    const mHat: f32 = mi / bc1;
    const vHat: f32 = vi / bc2;
    store<f32>(w + o, load<f32>(w + o) - lr * mHat / (Mathf.sqrt(vHat) + eps));
  }
}
