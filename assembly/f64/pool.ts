// f64 max-pooling over NCHW planes, no padding, scalar. Same semantics as pool.ts: the forward
// saves argmax[p, oh, ow] = ih·W + iw (the winner's index in its plane, an exact f64 integer), ties
// go to the first maximum in row-major window order, a NaN in the window wins; the backward
// scatter-adds dout at the argmax positions in order of (p, oh, ow).

/**
 * out, argmax (planes, Ho, Wo) = max-pool of x (planes, H, W) with window (ph, pw) and stride.
 * Preconditions as for f32_maxpool_forward. argmax = 0: out only (inference).
 */
export function f64_maxpool_forward(
  out: usize, argmax: usize, x: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * H * W) << 3);
    for (let oh = 0; oh < Ho; oh++) {
      const h0 = oh * stride;
      const o = <usize>((p * Ho + oh) * Wo) << 3;
      for (let ow = 0; ow < Wo; ow++) {
        const w0 = ow * stride;
        let bi = h0 * W + w0;
        let best = load<f64>(plane + (<usize>bi << 3));
        for (let ki = 0; ki < ph; ki++) {
          const rowIndex = (h0 + ki) * W + w0;
          for (let kj = 0; kj < pw; kj++) {
            if (ki == 0 && kj == 0) continue;
            const v = load<f64>(plane + (<usize>(rowIndex + kj) << 3));
            if (v > best || v != v) {
              best = v;
              bi = rowIndex + kj;
            }
          }
        }
        store<f64>(out + o + (<usize>ow << 3), best);
        if (argmax) store<f64>(argmax + o + (<usize>ow << 3), <f64>bi);
      }
    }
  }
}

/**
 * dx (planes, H, W) = zeros, then dout[p, oh, ow] added at argmax[p, oh, ow]. dout, argmax:
 * (planes, Ho, Wo), argmax as written by f64_maxpool_forward with the same sizes.
 */
export function f64_maxpool_backward(
  dx: usize, dout: usize, argmax: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  memory.fill(dx, 0, <usize>(planes * H * W) << 3);
  const P = Ho * Wo;
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * H * W) << 3);
    const g = dout + (<usize>(p * P) << 3);
    const a = argmax + (<usize>(p * P) << 3);
    for (let o = 0; o < P; o++) {
      const d = plane + (<usize><i32>load<f64>(a + (<usize>o << 3)) << 3);
      store<f64>(d, load<f64>(d) + load<f64>(g + (<usize>o << 3)));
    }
  }
}
