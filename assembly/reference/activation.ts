// Naive scalar twins of the activation kernels, for the specs. The tanh twin is a different
// algorithm on purpose (musl's f64 tanh, rounded to f32): the fast kernel must stay within 1 ulp.

export function f32_tanh__scalar(y: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<f32>(y + (i << 2), <f32>Math.tanh(<f64>load<f32>(x + (i << 2))));
}

export function f32_tanh_backward__scalar(dx: usize, dy: usize, y: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const t = load<f32>(y + (i << 2));
    store<f32>(dx + (i << 2), load<f32>(dy + (i << 2)) * (<f32>1.0 - t * t));
  }
}
