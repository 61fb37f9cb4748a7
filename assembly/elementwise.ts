// Elementwise kernels over `real` (f32 or f64, see real.ts): SIMD128 over LANES lanes (4 or 2),
// scalar tail for n % LANES. Contract: pointers to `real` arrays of n elements; outputs may alias
// inputs exactly (in place). Each kernel's scalar twin lives in reference/elementwise.ts and the
// specs compare the two bit for bit, in both dtypes.
import { LANES, SHIFT } from "./real";

/** y[i] = value. y: (n) */
export function fill(y: usize, n: usize, value: real): void {
  const v = v128.splat<real>(value);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) v128.store(y + (i << SHIFT), v);
  for (; i < n; i++) store<real>(y + (i << SHIFT), value);
}

/** y[i] = alpha * x[i]. y, x: (n) */
export function scale(y: usize, x: usize, n: usize, alpha: real): void {
  const a = v128.splat<real>(alpha);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    v128.store(y + (i << SHIFT), v128.mul<real>(v128.load(x + (i << SHIFT)), a));
  }
  for (; i < n; i++) store<real>(y + (i << SHIFT), alpha * load<real>(x + (i << SHIFT)));
}

/** y[i] = a[i] * b[i]. y, a, b: (n) */
export function mul(y: usize, a: usize, b: usize, n: usize): void {
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    v128.store(y + o, v128.mul<real>(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    store<real>(y + o, load<real>(a + o) * load<real>(b + o));
  }
}

/** y[i] += alpha * x[i]. y, x: (n) */
export function axpy(y: usize, x: usize, n: usize, alpha: real): void {
  const a = v128.splat<real>(alpha);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    v128.store(y + o, v128.add<real>(v128.load(y + o), v128.mul<real>(a, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    store<real>(y + o, load<real>(y + o) + alpha * load<real>(x + o));
  }
}

/** y[i] = max(x[i], 0). y, x: (n). NaN stays NaN (the comparison x > 0 fails, x is kept via select). */
export function relu(y: usize, x: usize, n: usize): void {
  const zero = v128.splat<real>(0);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const v = v128.load(x + o);
    // Keep lanes where !(v <= 0): positive values and NaN, like the scalar twin.
    v128.store(y + o, v128.andnot(v, v128.le<real>(v, zero)));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    const v = load<real>(x + o);
    store<real>(y + o, v <= 0 ? 0 : v);
  }
}

/** dx[i] = x[i] > 0 ? dy[i] : 0. dx, dy, x: (n); dx may alias dy. */
export function relu_backward(dx: usize, dy: usize, x: usize, n: usize): void {
  const zero = v128.splat<real>(0);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    v128.store(dx + o, v128.and(v128.load(dy + o), v128.gt<real>(v128.load(x + o), zero)));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    store<real>(dx + o, load<real>(x + o) > 0 ? load<real>(dy + o) : 0);
  }
}

/** y[i] = a[i] + b[i] (a residual sum). y, a, b: (n); y may alias a or b. */
export function add(y: usize, a: usize, b: usize, n: usize): void {
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    v128.store(y + o, v128.add<real>(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    store<real>(y + o, load<real>(a + o) + load<real>(b + o));
  }
}

/**
 * y[i] = x[i] > 0 ? x[i] : slope·x[i] (PyTorch's LeakyReLU, negative_slope = slope). y, x: (n);
 * y may alias x. NaN stays NaN (slope·NaN).
 */
export function leaky_relu(y: usize, x: usize, n: usize, slope: real): void {
  const zero = v128.splat<real>(0);
  const s = v128.splat<real>(slope);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const v = v128.load(x + o);
    v128.store(y + o, v128.bitselect(v, v128.mul<real>(v, s), v128.gt<real>(v, zero)));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    const v = load<real>(x + o);
    store<real>(y + o, v > 0 ? v : v * slope);
  }
}

/** dx[i] = x[i] > 0 ? dy[i] : slope·dy[i], x the forward input. dx, dy, x: (n); dx may alias dy. */
export function leaky_relu_backward(dx: usize, dy: usize, x: usize, n: usize, slope: real): void {
  const zero = v128.splat<real>(0);
  const s = v128.splat<real>(slope);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    const g = v128.load(dy + o);
    v128.store(dx + o, v128.bitselect(g, v128.mul<real>(g, s), v128.gt<real>(v128.load(x + o), zero)));
  }
  for (; i < n; i++) {
    const o = i << SHIFT;
    const g = load<real>(dy + o);
    store<real>(dx + o, load<real>(x + o) > 0 ? g : g * slope);
  }
}
