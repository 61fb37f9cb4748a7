// First-order update rules, each one fused SIMD pass over w, dw and its state, in place.
// Formulas follow the course notes (see SPEC.md); all pointers are (n) f32 arrays.

/** w -= lr * dw */
export function f32_sgd(w: usize, dw: usize, n: usize, lr: f32): void {
  const vlr = f32x4.splat(lr);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(vlr, v128.load(dw + o))));
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(w + o, load<f32>(w + o) - lr * load<f32>(dw + o));
  }
}

/** v = mu * v - lr * dw; w += v */
export function f32_sgd_momentum(w: usize, dw: usize, v: usize, n: usize, lr: f32, mu: f32): void {
  const vlr = f32x4.splat(lr);
  const vmu = f32x4.splat(mu);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    const nv = f32x4.sub(f32x4.mul(vmu, v128.load(v + o)), f32x4.mul(vlr, v128.load(dw + o)));
    v128.store(v + o, nv);
    v128.store(w + o, f32x4.add(v128.load(w + o), nv));
  }
  for (; i < n; i++) {
    const o = i << 2;
    const nv = mu * load<f32>(v + o) - lr * load<f32>(dw + o);
    store<f32>(v + o, nv);
    store<f32>(w + o, load<f32>(w + o) + nv);
  }
}

/** cache += dw^2; w -= lr * dw / (sqrt(cache) + eps) */
export function f32_adagrad(w: usize, dw: usize, cache: usize, n: usize, lr: f32, eps: f32): void {
  const vlr = f32x4.splat(lr);
  const veps = f32x4.splat(eps);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    const g = v128.load(dw + o);
    const c = f32x4.add(v128.load(cache + o), f32x4.mul(g, g));
    v128.store(cache + o, c);
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(vlr, g), f32x4.add(f32x4.sqrt(c), veps))));
  }
  for (; i < n; i++) {
    const o = i << 2;
    const g = load<f32>(dw + o);
    const c = load<f32>(cache + o) + g * g;
    store<f32>(cache + o, c);
    store<f32>(w + o, load<f32>(w + o) - (lr * g) / (Mathf.sqrt(c) + eps));
  }
}

/** cache = decay * cache + (1 - decay) * dw^2; w -= lr * dw / (sqrt(cache) + eps) */
export function f32_rmsprop(w: usize, dw: usize, cache: usize, n: usize, lr: f32, decay: f32, eps: f32): void {
  const vlr = f32x4.splat(lr);
  const veps = f32x4.splat(eps);
  const vd = f32x4.splat(decay);
  const vd1 = f32x4.splat(1 - decay);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    const g = v128.load(dw + o);
    const c = f32x4.add(f32x4.mul(vd, v128.load(cache + o)), f32x4.mul(vd1, f32x4.mul(g, g)));
    v128.store(cache + o, c);
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(vlr, g), f32x4.add(f32x4.sqrt(c), veps))));
  }
  const d1: f32 = 1 - decay;
  for (; i < n; i++) {
    const o = i << 2;
    const g = load<f32>(dw + o);
    const c = decay * load<f32>(cache + o) + d1 * (g * g);
    store<f32>(cache + o, c);
    store<f32>(w + o, load<f32>(w + o) - (lr * g) / (Mathf.sqrt(c) + eps));
  }
}

/**
 * Adam with bias correction at step t (t already incremented, t >= 1):
 * m = b1 m + (1-b1) dw; v = b2 v + (1-b2) dw^2; w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 */
export function f32_adam(w: usize, dw: usize, m: usize, v: usize, n: usize, lr: f32, b1: f32, b2: f32, eps: f32, t: f64): void {
  // b^t in f64 through exp/log (Math.pow would pull in 7 KB of tables); both corrections in f32.
  // m and v are DIVIDED by the corrections, as in the formula: multiplying by a rounded reciprocal
  // instead changes the last bit of w in 2-8% of elements (no more accurate, and not the seed's
  // numbers); Adam is one O(P) pass per step, so the two extra divisions cost nothing that shows.
  const c1 = <f32>(1.0 - Math.exp(t * Math.log(<f64>b1)));
  const c2 = <f32>(1.0 - Math.exp(t * Math.log(<f64>b2)));
  const vb1 = f32x4.splat(b1);
  const vb11 = f32x4.splat(1 - b1);
  const vb2 = f32x4.splat(b2);
  const vb21 = f32x4.splat(1 - b2);
  const vc1 = f32x4.splat(c1);
  const vc2 = f32x4.splat(c2);
  const vlr = f32x4.splat(lr);
  const veps = f32x4.splat(eps);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    const g = v128.load(dw + o);
    const nm = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vb11, g));
    const nv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vb21, f32x4.mul(g, g)));
    v128.store(m + o, nm);
    v128.store(v + o, nv);
    const step = f32x4.div(f32x4.mul(vlr, f32x4.div(nm, vc1)), f32x4.add(f32x4.sqrt(f32x4.div(nv, vc2)), veps));
    v128.store(w + o, f32x4.sub(v128.load(w + o), step));
  }
  const b11: f32 = 1 - b1;
  const b21: f32 = 1 - b2;
  for (; i < n; i++) {
    const o = i << 2;
    const g = load<f32>(dw + o);
    const nm = b1 * load<f32>(m + o) + b11 * g;
    const nv = b2 * load<f32>(v + o) + b21 * (g * g);
    store<f32>(m + o, nm);
    store<f32>(v + o, nv);
    store<f32>(w + o, load<f32>(w + o) - (lr * (nm / c1)) / (Mathf.sqrt(nv / c2) + eps));
  }
}
