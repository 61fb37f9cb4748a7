// Elementwise f64 kernels: SIMD128 over two f64 lanes, scalar tail for an odd n.
// Contract: pointers to f64 arrays of n elements (8-byte aligned); outputs may alias inputs
// exactly (in place). Scalar twins: reference/f64-elementwise.ts.

/** y[i] = value. y: (n) */
export function f64_fill(y: usize, n: usize, value: f64): void {
  const v = f64x2.splat(value);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) v128.store(y + (i << 3), v);
  if (i < n) store<f64>(y + (i << 3), value);
}

/** y[i] = alpha * x[i]. y, x: (n) */
export function f64_scale(y: usize, x: usize, n: usize, alpha: f64): void {
  const a = f64x2.splat(alpha);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) v128.store(y + (i << 3), f64x2.mul(v128.load(x + (i << 3)), a));
  if (i < n) store<f64>(y + (i << 3), alpha * load<f64>(x + (i << 3)));
}

/** y[i] = a[i] + b[i]. y, a, b: (n) */
export function f64_add(y: usize, a: usize, b: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    v128.store(y + o, f64x2.add(v128.load(a + o), v128.load(b + o)));
  }
  if (i < n) store<f64>(y + (i << 3), load<f64>(a + (i << 3)) + load<f64>(b + (i << 3)));
}

/** y[i] = a[i] * b[i]. y, a, b: (n) */
export function f64_mul(y: usize, a: usize, b: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    v128.store(y + o, f64x2.mul(v128.load(a + o), v128.load(b + o)));
  }
  if (i < n) store<f64>(y + (i << 3), load<f64>(a + (i << 3)) * load<f64>(b + (i << 3)));
}

/** y[i] += alpha * x[i]. y, x: (n) */
export function f64_axpy(y: usize, x: usize, n: usize, alpha: f64): void {
  const a = f64x2.splat(alpha);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(a, v128.load(x + o))));
  }
  if (i < n) store<f64>(y + (i << 3), load<f64>(y + (i << 3)) + alpha * load<f64>(x + (i << 3)));
}

/** y[i] = max(x[i], 0); NaN stays NaN (kept where !(x <= 0)). y, x: (n) */
export function f64_relu(y: usize, x: usize, n: usize): void {
  const zero = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    const v = v128.load(x + o);
    v128.store(y + o, v128.andnot(v, f64x2.le(v, zero)));
  }
  if (i < n) {
    const v = load<f64>(x + (i << 3));
    store<f64>(y + (i << 3), v <= 0 ? 0 : v);
  }
}

/** dx[i] = x[i] > 0 ? dy[i] : 0. dx, dy, x: (n); dx may alias dy. */
export function f64_relu_backward(dx: usize, dy: usize, x: usize, n: usize): void {
  const zero = f64x2.splat(0);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    v128.store(dx + o, v128.and(v128.load(dy + o), f64x2.gt(v128.load(x + o), zero)));
  }
  if (i < n) {
    const o = i << 3;
    store<f64>(dx + o, load<f64>(x + o) > 0 ? load<f64>(dy + o) : 0);
  }
}
