// First-order update rules, each one fused SIMD pass over w, dw and its state, in place.
// Formulas follow the course notes (docs/course-api.md, "Semantics"); all
// pointers are (n) arrays of `real` (f32 or f64, see real.ts). Scalar twins: reference/optim.ts.
import { LANES, SHIFT, sqrtReal } from "./real";

/** w -= lr * dw */
export function sgd(w: usize, dw: usize, n: usize, lr: real): void {
  const vlr = v128.splat<real>(lr);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    v128.store(w + o, v128.sub<real>(v128.load(w + o), v128.mul<real>(vlr, v128.load(dw + o))));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    store<real>(w + o, load<real>(w + o) - lr * load<real>(dw + o));
  }
}

/** v = mu * v - lr * dw; w += v */
export function sgd_momentum(w: usize, dw: usize, v: usize, n: usize, lr: real, mu: real): void {
  const vlr = v128.splat<real>(lr);
  const vmu = v128.splat<real>(mu);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const nv = v128.sub<real>(v128.mul<real>(vmu, v128.load(v + o)), v128.mul<real>(vlr, v128.load(dw + o)));
    v128.store(v + o, nv);
    v128.store(w + o, v128.add<real>(v128.load(w + o), nv));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    const nv = mu * load<real>(v + o) - lr * load<real>(dw + o);
    store<real>(v + o, nv);
    store<real>(w + o, load<real>(w + o) + nv);
  }
}

/**
 * Nesterov momentum in the course notes' form: v_prev = v; v = mu * v - lr * dw;
 * w += -mu * v_prev + (1 + mu) * v (the update looks ahead along the new velocity).
 */
export function sgd_nesterov(w: usize, dw: usize, v: usize, n: usize, lr: real, mu: real): void {
  const vlr = v128.splat<real>(lr);
  const vmu = v128.splat<real>(mu);
  const vmu1 = v128.splat<real>(1 + mu);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const pv = v128.load(v + o);
    const nv = v128.sub<real>(v128.mul<real>(vmu, pv), v128.mul<real>(vlr, v128.load(dw + o)));
    v128.store(v + o, nv);
    v128.store(w + o, v128.add<real>(v128.load(w + o), v128.sub<real>(v128.mul<real>(vmu1, nv), v128.mul<real>(vmu, pv))));
  }
  const mu1: real = 1 + mu;
  for (; i < n; i++) {
    const o = i << SHIFT;
    const pv = load<real>(v + o);
    const nv = mu * pv - lr * load<real>(dw + o);
    store<real>(v + o, nv);
    store<real>(w + o, load<real>(w + o) + (mu1 * nv - mu * pv));
  }
}

/** cache += dw^2; w -= lr * dw / (sqrt(cache) + eps) */
export function adagrad(w: usize, dw: usize, cache: usize, n: usize, lr: real, eps: real): void {
  const vlr = v128.splat<real>(lr);
  const veps = v128.splat<real>(eps);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const g = v128.load(dw + o);
    const c = v128.add<real>(v128.load(cache + o), v128.mul<real>(g, g));
    v128.store(cache + o, c);
    v128.store(w + o, v128.sub<real>(v128.load(w + o), v128.div<real>(v128.mul<real>(vlr, g), v128.add<real>(v128.sqrt<real>(c), veps))));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    const g = load<real>(dw + o);
    const c = load<real>(cache + o) + g * g;
    store<real>(cache + o, c);
    store<real>(w + o, load<real>(w + o) - (lr * g) / (sqrtReal(c) + eps));
  }
}

/** cache = decay * cache + (1 - decay) * dw^2; w -= lr * dw / (sqrt(cache) + eps) */
export function rmsprop(w: usize, dw: usize, cache: usize, n: usize, lr: real, decay: real, eps: real): void {
  const vlr = v128.splat<real>(lr);
  const veps = v128.splat<real>(eps);
  const vd = v128.splat<real>(decay);
  const vd1 = v128.splat<real>(1 - decay);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const g = v128.load(dw + o);
    const c = v128.add<real>(v128.mul<real>(vd, v128.load(cache + o)), v128.mul<real>(vd1, v128.mul<real>(g, g)));
    v128.store(cache + o, c);
    v128.store(w + o, v128.sub<real>(v128.load(w + o), v128.div<real>(v128.mul<real>(vlr, g), v128.add<real>(v128.sqrt<real>(c), veps))));
  }
  const d1: real = 1 - decay;
  for (; i < n; i++) {
    const o = i << SHIFT;
    const g = load<real>(dw + o);
    const c = decay * load<real>(cache + o) + d1 * (g * g);
    store<real>(cache + o, c);
    store<real>(w + o, load<real>(w + o) - (lr * g) / (sqrtReal(c) + eps));
  }
}

/**
 * Adam with bias correction at step t (t already incremented, t >= 1):
 * m = b1 m + (1-b1) dw; v = b2 v + (1-b2) dw^2; w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 */
export function adam(w: usize, dw: usize, m: usize, v: usize, n: usize, lr: real, b1: real, b2: real, eps: real, t: f64): void {
  // b^t in f64 through exp/log (Math.pow would pull in 7 KB of tables); both corrections in `real`.
  // m and v are DIVIDED by the corrections, as in the formula: multiplying by a rounded reciprocal
  // instead changes the last bit of w in 2-8% of elements (no more accurate, and not the seed's
  // numbers); Adam is one O(P) pass per step, so the two extra divisions cost nothing that shows.
  const c1 = <real>(1.0 - Math.exp(t * Math.log(<f64>b1)));
  const c2 = <real>(1.0 - Math.exp(t * Math.log(<f64>b2)));
  const vb1 = v128.splat<real>(b1);
  const vb11 = v128.splat<real>(1 - b1);
  const vb2 = v128.splat<real>(b2);
  const vb21 = v128.splat<real>(1 - b2);
  const vc1 = v128.splat<real>(c1);
  const vc2 = v128.splat<real>(c2);
  const vlr = v128.splat<real>(lr);
  const veps = v128.splat<real>(eps);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const g = v128.load(dw + o);
    const nm = v128.add<real>(v128.mul<real>(vb1, v128.load(m + o)), v128.mul<real>(vb11, g));
    const nv = v128.add<real>(v128.mul<real>(vb2, v128.load(v + o)), v128.mul<real>(vb21, v128.mul<real>(g, g)));
    v128.store(m + o, nm);
    v128.store(v + o, nv);
    const step = v128.div<real>(v128.mul<real>(vlr, v128.div<real>(nm, vc1)), v128.add<real>(v128.sqrt<real>(v128.div<real>(nv, vc2)), veps));
    v128.store(w + o, v128.sub<real>(v128.load(w + o), step));
  }
  const b11: real = 1 - b1;
  const b21: real = 1 - b2;
  for (; i < n; i++) {
    const o = i << SHIFT;
    const g = load<real>(dw + o);
    const nm = b1 * load<real>(m + o) + b11 * g;
    const nv = b2 * load<real>(v + o) + b21 * (g * g);
    store<real>(m + o, nm);
    store<real>(v + o, nv);
    store<real>(w + o, load<real>(w + o) - (lr * (nm / c1)) / (sqrtReal(nv / c2) + eps));
  }
}

/** Moving average of the parameters (and buffers): avg += rate * (w - avg), with rate = 1 - decay. */
export function ema_update(avg: usize, w: usize, n: usize, rate: real): void {
  const vrate = v128.splat<real>(rate);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const a = v128.load(avg + o);
    v128.store(avg + o, v128.add<real>(a, v128.mul<real>(vrate, v128.sub<real>(v128.load(w + o), a))));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    const a = load<real>(avg + o);
    store<real>(avg + o, a + rate * (load<real>(w + o) - a));
  }
}
