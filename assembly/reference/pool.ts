// Naive scalar twins of the max-pool kernels (one loop nest for every window shape), over `real`
// (both dtypes). Test-only.
import { SHIFT } from "../real";

export function maxpool_forward__scalar(
  out: usize, argmax: usize, x: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  for (let p = 0; p < planes; p++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        let best: real = 0;
        let bi = -1;
        for (let ki = 0; ki < ph; ki++) {
          for (let kj = 0; kj < pw; kj++) {
            const i = (oh * stride + ki) * W + ow * stride + kj;
            const v = load<real>(x + (<usize>(p * H * W + i) << SHIFT));
            // First element; then a strictly larger value or a NaN takes over.
            if (bi < 0 || v > best || isNaN(v)) {
              best = v;
              bi = i;
            }
          }
        }
        const o = <usize>((p * Ho + oh) * Wo + ow) << SHIFT;
        store<real>(out + o, best);
        store<real>(argmax + o, <real>bi);
      }
    }
  }
}

export function maxpool_backward__scalar(
  dx: usize, dout: usize, argmax: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  for (let i = 0; i < planes * H * W; i++) store<real>(dx + (<usize>i << SHIFT), 0);
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < Ho * Wo; o++) {
      const q = <usize>(p * Ho * Wo + o) << SHIFT;
      const d = dx + (<usize>(p * H * W + <i32>load<real>(argmax + q)) << SHIFT);
      store<real>(d, load<real>(d) + load<real>(dout + q));
    }
  }
}
