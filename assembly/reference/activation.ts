// Naive scalar twins of the activation kernels, for the specs. The tanh twin is a different
// algorithm on purpose (musl's f64 tanh, rounded to `real`): the fast kernel must stay within
// 1 ulp of it in float32 and a few ulp in float64.
import { SHIFT } from "../real";

export function tanh__scalar(y: usize, x: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<real>(y + (i << SHIFT), <real>Math.tanh(<f64>load<real>(x + (i << SHIFT))));
}

export function tanh_backward__scalar(dx: usize, dy: usize, y: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const t = load<real>(y + (i << SHIFT));
    store<real>(dx + (i << SHIFT), load<real>(dy + (i << SHIFT)) * (<real>1.0 - t * t));
  }
}
