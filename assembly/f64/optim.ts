// f64 update rules, each one fused pass (f64x2 body, scalar tail for an odd n) over w, dw and its
// state, in place. Formulas as in optim.ts (the course notes); all pointers are (n) f64 arrays.
// Scalar twins: reference/f64-optim.ts (same operations, so the same bits).

/** w -= lr * dw */
export function f64_sgd(w: usize, dw: usize, n: usize, lr: f64): void {
  const vlr = f64x2.splat(lr);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    v128.store(w + o, f64x2.sub(v128.load(w + o), f64x2.mul(vlr, v128.load(dw + o))));
  }
  if (i < n) {
    const o = i << 3;
    store<f64>(w + o, load<f64>(w + o) - lr * load<f64>(dw + o));
  }
}

/** v = mu * v - lr * dw; w += v */
export function f64_sgd_momentum(w: usize, dw: usize, v: usize, n: usize, lr: f64, mu: f64): void {
  const vlr = f64x2.splat(lr);
  const vmu = f64x2.splat(mu);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    const nv = f64x2.sub(f64x2.mul(vmu, v128.load(v + o)), f64x2.mul(vlr, v128.load(dw + o)));
    v128.store(v + o, nv);
    v128.store(w + o, f64x2.add(v128.load(w + o), nv));
  }
  if (i < n) {
    const o = i << 3;
    const nv = mu * load<f64>(v + o) - lr * load<f64>(dw + o);
    store<f64>(v + o, nv);
    store<f64>(w + o, load<f64>(w + o) + nv);
  }
}

/** cache += dw^2; w -= lr * dw / (sqrt(cache) + eps) */
export function f64_adagrad(w: usize, dw: usize, cache: usize, n: usize, lr: f64, eps: f64): void {
  const vlr = f64x2.splat(lr);
  const veps = f64x2.splat(eps);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    const g = v128.load(dw + o);
    const c = f64x2.add(v128.load(cache + o), f64x2.mul(g, g));
    v128.store(cache + o, c);
    v128.store(w + o, f64x2.sub(v128.load(w + o), f64x2.div(f64x2.mul(vlr, g), f64x2.add(f64x2.sqrt(c), veps))));
  }
  if (i < n) {
    const o = i << 3;
    const g = load<f64>(dw + o);
    const c = load<f64>(cache + o) + g * g;
    store<f64>(cache + o, c);
    store<f64>(w + o, load<f64>(w + o) - (lr * g) / (Math.sqrt(c) + eps));
  }
}

/** cache = decay * cache + (1 - decay) * dw^2; w -= lr * dw / (sqrt(cache) + eps) */
export function f64_rmsprop(w: usize, dw: usize, cache: usize, n: usize, lr: f64, decay: f64, eps: f64): void {
  const vlr = f64x2.splat(lr);
  const veps = f64x2.splat(eps);
  const vd = f64x2.splat(decay);
  const d1 = 1.0 - decay;
  const vd1 = f64x2.splat(d1);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    const g = v128.load(dw + o);
    const c = f64x2.add(f64x2.mul(vd, v128.load(cache + o)), f64x2.mul(vd1, f64x2.mul(g, g)));
    v128.store(cache + o, c);
    v128.store(w + o, f64x2.sub(v128.load(w + o), f64x2.div(f64x2.mul(vlr, g), f64x2.add(f64x2.sqrt(c), veps))));
  }
  if (i < n) {
    const o = i << 3;
    const g = load<f64>(dw + o);
    const c = decay * load<f64>(cache + o) + d1 * (g * g);
    store<f64>(cache + o, c);
    store<f64>(w + o, load<f64>(w + o) - (lr * g) / (Math.sqrt(c) + eps));
  }
}

/** 1 - b^t for Adam's bias corrections, through exp/log (Math.pow would pull in 7 KB of tables). */
export function adamCorrection(b: f64, t: f64): f64 {
  return 1.0 - Math.exp(t * Math.log(b));
}

/**
 * Adam with bias correction at step t (t already incremented, t >= 1):
 * m = b1 m + (1-b1) dw; v = b2 v + (1-b2) dw^2; w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 */
export function f64_adam(w: usize, dw: usize, m: usize, v: usize, n: usize, lr: f64, b1: f64, b2: f64, eps: f64, t: f64): void {
  const c1 = adamCorrection(b1, t);
  const c2 = adamCorrection(b2, t);
  const b11 = 1.0 - b1;
  const b21 = 1.0 - b2;
  const vb1 = f64x2.splat(b1), vb11 = f64x2.splat(b11);
  const vb2 = f64x2.splat(b2), vb21 = f64x2.splat(b21);
  const vc1 = f64x2.splat(c1), vc2 = f64x2.splat(c2);
  const vlr = f64x2.splat(lr), veps = f64x2.splat(eps);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    const g = v128.load(dw + o);
    const nm = f64x2.add(f64x2.mul(vb1, v128.load(m + o)), f64x2.mul(vb11, g));
    const nv = f64x2.add(f64x2.mul(vb2, v128.load(v + o)), f64x2.mul(vb21, f64x2.mul(g, g)));
    v128.store(m + o, nm);
    v128.store(v + o, nv);
    const step = f64x2.div(f64x2.mul(vlr, f64x2.div(nm, vc1)), f64x2.add(f64x2.sqrt(f64x2.div(nv, vc2)), veps));
    v128.store(w + o, f64x2.sub(v128.load(w + o), step));
  }
  if (i < n) {
    const o = i << 3;
    const g = load<f64>(dw + o);
    const nm = b1 * load<f64>(m + o) + b11 * g;
    const nv = b2 * load<f64>(v + o) + b21 * (g * g);
    store<f64>(m + o, nm);
    store<f64>(v + o, nv);
    store<f64>(w + o, load<f64>(w + o) - (lr * (nm / c1)) / (Math.sqrt(nv / c2) + eps));
  }
}
