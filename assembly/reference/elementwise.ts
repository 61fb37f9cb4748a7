// Naive scalar twins of the elementwise kernels. Never exported from the module: the as-pect specs
// compare each fast kernel against its twin here at awkward sizes.

export function f32_fill__scalar(y: usize, n: usize, value: f32): void {
  for (let i: usize = 0; i < n; i++) store<f32>(y + (i << 2), value);
}

export function f32_copy__scalar(y: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<f32>(y + (i << 2), load<f32>(x + (i << 2)));
}

export function f32_scale__scalar(y: usize, x: usize, n: usize, alpha: f32): void {
  for (let i: usize = 0; i < n; i++) store<f32>(y + (i << 2), alpha * load<f32>(x + (i << 2)));
}

export function f32_mul__scalar(y: usize, a: usize, b: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<f32>(y + (i << 2), load<f32>(a + (i << 2)) * load<f32>(b + (i << 2)));
}

export function f32_axpy__scalar(y: usize, x: usize, n: usize, alpha: f32): void {
  for (let i: usize = 0; i < n; i++) {
    store<f32>(y + (i << 2), load<f32>(y + (i << 2)) + alpha * load<f32>(x + (i << 2)));
  }
}

export function f32_relu__scalar(y: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const v = load<f32>(x + (i << 2));
    store<f32>(y + (i << 2), v <= 0 ? 0 : v);
  }
}

export function f32_relu_backward__scalar(dx: usize, dy: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    store<f32>(dx + (i << 2), load<f32>(x + (i << 2)) > 0 ? load<f32>(dy + (i << 2)) : 0);
  }
}
