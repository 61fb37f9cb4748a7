// Elementwise f32 kernels: SIMD128 over four lanes, scalar tail for n % 4.
// Contract: pointers to f32 arrays of n elements; outputs may alias inputs exactly (in place).
// Each kernel's scalar twin lives in reference.ts and the specs compare the two.

/** y[i] = value. y: (n) */
export function f32_fill(y: usize, n: usize, value: f32): void {
  const v = f32x4.splat(value);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (i << 2), v);
  for (; i < n; i++) store<f32>(y + (i << 2), value);
}

/** y[i] = alpha * x[i]. y, x: (n) */
export function f32_scale(y: usize, x: usize, n: usize, alpha: f32): void {
  const a = f32x4.splat(alpha);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(y + (i << 2), f32x4.mul(v128.load(x + (i << 2)), a));
  }
  for (; i < n; i++) store<f32>(y + (i << 2), alpha * load<f32>(x + (i << 2)));
}

/** y[i] = a[i] * b[i]. y, a, b: (n) */
export function f32_mul(y: usize, a: usize, b: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    v128.store(y + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(y + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/** y[i] += alpha * x[i]. y, x: (n) */
export function f32_axpy(y: usize, x: usize, n: usize, alpha: f32): void {
  const a = f32x4.splat(alpha);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(a, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

/** y[i] = max(x[i], 0). y, x: (n). NaN stays NaN (the comparison x > 0 fails, x is kept via select). */
export function f32_relu(y: usize, x: usize, n: usize): void {
  const zero = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    const v = v128.load(x + o);
    // Keep lanes where !(v <= 0): positive values and NaN, like the scalar twin.
    v128.store(y + o, v128.andnot(v, f32x4.le(v, zero)));
  }
  for (; i < n; i++) {
    const o = i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v <= 0 ? 0 : v);
  }
}

/** dx[i] = x[i] > 0 ? dy[i] : 0. dx, dy, x: (n); dx may alias dy. */
export function f32_relu_backward(dx: usize, dy: usize, x: usize, n: usize): void {
  const zero = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(x + o), zero)));
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(dx + o, load<f32>(x + o) > 0 ? load<f32>(dy + o) : 0);
  }
}
