// Naive scalar twins of the max-pool kernels (one loop nest for every window shape). Test-only.

export function f32_maxpool_forward__scalar(
  out: usize, argmax: usize, x: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  for (let p = 0; p < planes; p++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        let best: f32 = 0;
        let bi = -1;
        for (let ki = 0; ki < ph; ki++) {
          for (let kj = 0; kj < pw; kj++) {
            const i = (oh * stride + ki) * W + ow * stride + kj;
            const v = load<f32>(x + (<usize>(p * H * W + i) << 2));
            // First element; then a strictly larger value or a NaN takes over.
            if (bi < 0 || v > best || isNaN(v)) {
              best = v;
              bi = i;
            }
          }
        }
        const o = <usize>((p * Ho + oh) * Wo + ow) << 2;
        store<f32>(out + o, best);
        store<f32>(argmax + o, <f32>bi);
      }
    }
  }
}

export function f32_maxpool_backward__scalar(
  dx: usize, dout: usize, argmax: usize, planes: i32, H: i32, W: i32, ph: i32, pw: i32, stride: i32, Ho: i32, Wo: i32,
): void {
  for (let i = 0; i < planes * H * W; i++) store<f32>(dx + (<usize>i << 2), 0);
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < Ho * Wo; o++) {
      const q = <usize>(p * Ho * Wo + o) << 2;
      const d = dx + (<usize>(p * H * W + <i32>load<f32>(argmax + q)) << 2);
      store<f32>(d, load<f32>(d) + load<f32>(dout + q));
    }
  }
}
