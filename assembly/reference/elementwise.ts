// Naive scalar twins of the elementwise kernels (both dtypes, over `real`). Never exported from
// the module: the as-pect specs compare each fast kernel against its twin here at awkward sizes.
import { SHIFT } from "../real";

export function fill__scalar(y: usize, n: usize, value: real): void {
  for (let i: usize = 0; i < n; i++) store<real>(y + (i << SHIFT), value);
}

export function copy__scalar(y: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<real>(y + (i << SHIFT), load<real>(x + (i << SHIFT)));
}

export function scale__scalar(y: usize, x: usize, n: usize, alpha: real): void {
  for (let i: usize = 0; i < n; i++) store<real>(y + (i << SHIFT), alpha * load<real>(x + (i << SHIFT)));
}

export function mul__scalar(y: usize, a: usize, b: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<real>(y + (i << SHIFT), load<real>(a + (i << SHIFT)) * load<real>(b + (i << SHIFT)));
}

export function axpy__scalar(y: usize, x: usize, n: usize, alpha: real): void {
  for (let i: usize = 0; i < n; i++) {
    store<real>(y + (i << SHIFT), load<real>(y + (i << SHIFT)) + alpha * load<real>(x + (i << SHIFT)));
  }
}

export function relu__scalar(y: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const v = load<real>(x + (i << SHIFT));
    store<real>(y + (i << SHIFT), v <= 0 ? 0 : v);
  }
}

export function relu_backward__scalar(dx: usize, dy: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    store<real>(dx + (i << SHIFT), load<real>(x + (i << SHIFT)) > 0 ? load<real>(dy + (i << SHIFT)) : 0);
  }
}

export function add__scalar(y: usize, a: usize, b: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<real>(y + (i << SHIFT), load<real>(a + (i << SHIFT)) + load<real>(b + (i << SHIFT)));
}

export function leaky_relu__scalar(y: usize, x: usize, n: usize, slope: real): void {
  for (let i: usize = 0; i < n; i++) {
    const v = load<real>(x + (i << SHIFT));
    store<real>(y + (i << SHIFT), v > 0 ? v : v * slope);
  }
}

export function leaky_relu_backward__scalar(dx: usize, dy: usize, x: usize, n: usize, slope: real): void {
  for (let i: usize = 0; i < n; i++) {
    const g = load<real>(dy + (i << SHIFT));
    store<real>(dx + (i << SHIFT), load<real>(x + (i << SHIFT)) > 0 ? g : g * slope);
  }
}
