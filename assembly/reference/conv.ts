// Naive scalar twins of the conv kernels, plus a direct (no im2col) convolution forward and
// backward that the specs compare the im2col + GEMM pipeline against. Test-only.

/** Input value at (c, ih, iw), or 0 in the padding. */
@inline function at(x: usize, c: i32, ih: i32, iw: i32, H: i32, W: i32): f32 {
  if (ih < 0 || ih >= H || iw < 0 || iw >= W) return 0;
  return load<f32>(x + (<usize>((c * H + ih) * W + iw) << 2));
}

export function f32_im2col__scalar(
  cols: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  const P = Ho * Wo;
  for (let c = 0; c < C; c++) {
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        const row = (c * HH + ki) * WW + kj;
        for (let oh = 0; oh < Ho; oh++) {
          for (let ow = 0; ow < Wo; ow++) {
            const v = at(x, c, oh * stride - pad + ki, ow * stride - pad + kj, H, W);
            store<f32>(cols + (<usize>(row * P + oh * Wo + ow) << 2), v);
          }
        }
      }
    }
  }
}

export function f32_col2im__scalar(
  dx: usize, dcols: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  for (let i = 0; i < C * H * W; i++) store<f32>(dx + (<usize>i << 2), 0);
  const P = Ho * Wo;
  for (let c = 0; c < C; c++) {
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        const row = (c * HH + ki) * WW + kj;
        for (let oh = 0; oh < Ho; oh++) {
          for (let ow = 0; ow < Wo; ow++) {
            const ih = oh * stride - pad + ki;
            const iw = ow * stride - pad + kj;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const d = dx + (<usize>((c * H + ih) * W + iw) << 2);
            store<f32>(d, load<f32>(d) + load<f32>(dcols + (<usize>(row * P + oh * Wo + ow) << 2)));
          }
        }
      }
    }
  }
}

export function f32_fill_rows__scalar(y: usize, values: usize, rows: usize, cols: usize): void {
  for (let r: usize = 0; r < rows; r++) {
    for (let j: usize = 0; j < cols; j++) store<f32>(y + ((r * cols + j) << 2), load<f32>(values + (r << 2)));
  }
}

/** Same summation order as the SIMD kernel: four lane sums, folded (l0 + l1) + (l2 + l3), then the tail. */
export function f32_conv_bias_backward__scalar(db: usize, dout: usize, N: usize, F: usize, P: usize): void {
  for (let f: usize = 0; f < F; f++) store<f32>(db + (f << 2), 0);
  for (let n: usize = 0; n < N; n++) {
    for (let f: usize = 0; f < F; f++) {
      const row = dout + (((n * F + f) * P) << 2);
      let l0: f32 = 0, l1: f32 = 0, l2: f32 = 0, l3: f32 = 0;
      let p: usize = 0;
      for (; p + 4 <= P; p += 4) {
        l0 += load<f32>(row + (p << 2));
        l1 += load<f32>(row + ((p + 1) << 2));
        l2 += load<f32>(row + ((p + 2) << 2));
        l3 += load<f32>(row + ((p + 3) << 2));
      }
      let s = (l0 + l1) + (l2 + l3);
      for (; p < P; p++) s += load<f32>(row + (p << 2));
      store<f32>(db + (f << 2), load<f32>(db + (f << 2)) + s);
    }
  }
}

/** Direct convolution: out (N, F, Ho, Wo) = sum over c, ki, kj of w · x_padded + b. Accumulates in f64. */
export function f32_conv_forward__direct(
  out: usize, x: usize, w: usize, b: usize,
  N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * C * H * W) << 2);
    for (let f = 0; f < F; f++) {
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          let s: f64 = <f64>load<f32>(b + (<usize>f << 2));
          for (let c = 0; c < C; c++) {
            for (let ki = 0; ki < HH; ki++) {
              for (let kj = 0; kj < WW; kj++) {
                const wv = load<f32>(w + (<usize>(((f * C + c) * HH + ki) * WW + kj) << 2));
                s += <f64>wv * <f64>at(xn, c, oh * stride - pad + ki, ow * stride - pad + kj, H, W);
              }
            }
          }
          store<f32>(out + (<usize>(((n * F + f) * Ho + oh) * Wo + ow) << 2), <f32>s);
        }
      }
    }
  }
}

/** Direct backward: dx (N, C, H, W), dw (F, C, HH, WW), db (F) from dout (N, F, Ho, Wo), in f64. Overwrites all three. */
export function f32_conv_backward__direct(
  dx: usize, dw: usize, db: usize, dout: usize, x: usize, w: usize,
  N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  // db
  for (let f = 0; f < F; f++) {
    let s: f64 = 0;
    for (let n = 0; n < N; n++) {
      for (let p = 0; p < Ho * Wo; p++) s += <f64>load<f32>(dout + (<usize>((n * F + f) * Ho * Wo + p) << 2));
    }
    store<f32>(db + (<usize>f << 2), <f32>s);
  }
  // dw[f, c, ki, kj] = sum_n,oh,ow dout[n, f, oh, ow] · x_pad[n, c, oh·s + ki, ow·s + kj]
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      for (let ki = 0; ki < HH; ki++) {
        for (let kj = 0; kj < WW; kj++) {
          let s: f64 = 0;
          for (let n = 0; n < N; n++) {
            const xn = x + (<usize>(n * C * H * W) << 2);
            for (let oh = 0; oh < Ho; oh++) {
              for (let ow = 0; ow < Wo; ow++) {
                const g = load<f32>(dout + (<usize>(((n * F + f) * Ho + oh) * Wo + ow) << 2));
                s += <f64>g * <f64>at(xn, c, oh * stride - pad + ki, ow * stride - pad + kj, H, W);
              }
            }
          }
          store<f32>(dw + (<usize>(((f * C + c) * HH + ki) * WW + kj) << 2), <f32>s);
        }
      }
    }
  }
  // dx[n, c, ih, iw] = sum over (f, ki, kj) with ih = oh·s - pad + ki, iw likewise, of dout · w
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          let s: f64 = 0;
          for (let f = 0; f < F; f++) {
            for (let ki = 0; ki < HH; ki++) {
              const th = ih + pad - ki; // = oh · stride
              if (th < 0 || th % stride != 0 || th / stride >= Ho) continue;
              const oh = th / stride;
              for (let kj = 0; kj < WW; kj++) {
                const tw = iw + pad - kj;
                if (tw < 0 || tw % stride != 0 || tw / stride >= Wo) continue;
                const ow = tw / stride;
                const g = load<f32>(dout + (<usize>(((n * F + f) * Ho + oh) * Wo + ow) << 2));
                s += <f64>g * <f64>load<f32>(w + (<usize>(((f * C + c) * HH + ki) * WW + kj) << 2));
              }
            }
          }
          store<f32>(dx + (<usize>(((n * C + c) * H + ih) * W + iw) << 2), <f32>s);
        }
      }
    }
  }
}

/** Twin of f32_conv_forward: per output, s = Σ_k w·x (k ascending from 0, padding as 0), r = s + b, ReLU. */
export function f32_conv_forward__scalar(
  out: usize, x: usize, w: usize, b: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool,
): void {
  const K = C * HH * WW;
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * C * H * W) << 2);
    for (let f = 0; f < F; f++) {
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          let s: f32 = 0;
          for (let c = 0; c < C; c++) {
            for (let ki = 0; ki < HH; ki++) {
              for (let kj = 0; kj < WW; kj++) {
                const wv = load<f32>(w + (<usize>(f * K + (c * HH + ki) * WW + kj) << 2));
                s += wv * at(xn, c, oh * stride - pad + ki, ow * stride - pad + kj, H, W);
              }
            }
          }
          let r = s + load<f32>(b + (<usize>f << 2));
          if (relu && r <= 0) r = 0;
          store<f32>(out + (<usize>(((n * F + f) * Ho + oh) * Wo + ow) << 2), r);
        }
      }
    }
  }
}

/** Twin of f32_sum_chunks: dst[e] = src[e] + src[stride + e] + ... (chunk order), one element at a time. */
export function f32_sum_chunks__scalar(dst: usize, src: usize, chunks: usize, stride: usize, e0: usize, e1: usize): void {
  for (let e = e0; e < e1; e++) {
    let acc = load<f32>(src + (e << 2));
    for (let q: usize = 1; q < chunks; q++) acc += load<f32>(src + ((q * stride + e) << 2));
    store<f32>(dst + (e << 2), acc);
  }
}

/**
 * Twin of the chunked conv bias gradient: chunk q's partial is f32_conv_bias_backward__scalar over
 * images [q·G, min(N, (q+1)·G)), the partials added in chunk order. db: (F), dout: (N, F, P).
 */
export function f32_conv_bias_backward_chunks__scalar(db: usize, dout: usize, N: usize, F: usize, P: usize, G: usize): void {
  const chunks = (N + G - 1) / G;
  const partials = heap.alloc(max<usize>(chunks * F, 1) << 2);
  for (let q: usize = 0; q < chunks; q++) {
    const n0 = q * G, n1 = min(N, n0 + G);
    f32_conv_bias_backward__scalar(partials + ((q * F) << 2), dout + ((n0 * F * P) << 2), n1 - n0, F, P);
  }
  f32_sum_chunks__scalar(db, partials, chunks, F, 0, F);
  heap.free(partials);
}
