// tanh in f64, scalar: tanh(|x|) = -e / (2 + e) with e = expm1(-2|x|) in (-1, 0] (no cancellation
// for any x; musl's expm1, compiled into this module, so every engine gives the same bits). The
// sign is put back at the end: tanh(-0) = -0, NaN stays NaN. Within a few ulp of the true value.

/** y[i] = tanh(x[i]). y, x: (n); y may alias x. */
export function f64_tanh(y: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const v = load<f64>(x + (i << 3));
    const e = Math.expm1(-2.0 * Math.abs(v));
    store<f64>(y + (i << 3), copysign<f64>(-e / (2.0 + e), v));
  }
}

/** dx[i] = dy[i] * (1 - y[i]^2), y = tanh(x) the forward output. dx, dy, y: (n); dx may alias dy. */
export function f64_tanh_backward(dx: usize, dy: usize, y: usize, n: usize): void {
  const one = f64x2.splat(1.0);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const o = i << 3;
    const t = v128.load(y + o);
    v128.store(dx + o, f64x2.mul(v128.load(dy + o), f64x2.sub(one, f64x2.mul(t, t))));
  }
  if (i < n) {
    const o = i << 3;
    const t = load<f64>(y + o);
    store<f64>(dx + o, load<f64>(dy + o) * (1.0 - t * t));
  }
}
