// Naive scalar twins of the conv kernels over `real`, plus a direct (no im2col) convolution
// forward and backward that the specs compare the im2col + GEMM pipeline against. Test-only.
import { FLOAT32, LANES, SHIFT } from "../real";

/** Input value at (c, ih, iw), or 0 in the padding. */
@inline function at(x: usize, c: i32, ih: i32, iw: i32, H: i32, W: i32): real {
  if (ih < 0 || ih >= H || iw < 0 || iw >= W) return 0;
  return load<real>(x + (<usize>((c * H + ih) * W + iw) << SHIFT));
}

export function im2col__scalar(
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
            store<real>(cols + (<usize>(row * P + oh * Wo + ow) << SHIFT), v);
          }
        }
      }
    }
  }
}

export function col2im__scalar(
  dx: usize, dcols: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  for (let i = 0; i < C * H * W; i++) store<real>(dx + (<usize>i << SHIFT), 0);
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
            const d = dx + (<usize>((c * H + ih) * W + iw) << SHIFT);
            store<real>(d, load<real>(d) + load<real>(dcols + (<usize>(row * P + oh * Wo + ow) << SHIFT)));
          }
        }
      }
    }
  }
}

export function fill_rows__scalar(y: usize, values: usize, rows: usize, cols: usize): void {
  for (let r: usize = 0; r < rows; r++) {
    for (let j: usize = 0; j < cols; j++) store<real>(y + ((r * cols + j) << SHIFT), load<real>(values + (r << SHIFT)));
  }
}

/**
 * Same summation order as the SIMD kernel: LANES lane sums (4 f32, 2 f64), folded (l0 + l1) +
 * (l2 + l3) or l0 + l1, then the tail.
 */
export function conv_bias_backward__scalar(db: usize, dout: usize, N: usize, F: usize, P: usize): void {
  for (let f: usize = 0; f < F; f++) store<real>(db + (f << SHIFT), 0);
  for (let n: usize = 0; n < N; n++) {
    for (let f: usize = 0; f < F; f++) {
      const row = dout + (((n * F + f) * P) << SHIFT);
      let l0: real = 0, l1: real = 0, l2: real = 0, l3: real = 0;
      let p: usize = 0;
      for (; p + LANES <= P; p += LANES) {
        l0 += load<real>(row + (p << SHIFT));
        l1 += load<real>(row + ((p + 1) << SHIFT));
        if (FLOAT32) {
          l2 += load<real>(row + ((p + 2) << SHIFT));
          l3 += load<real>(row + ((p + 3) << SHIFT));
        }
      }
      let s = FLOAT32 ? (l0 + l1) + (l2 + l3) : l0 + l1;
      for (; p < P; p++) s += load<real>(row + (p << SHIFT));
      store<real>(db + (f << SHIFT), load<real>(db + (f << SHIFT)) + s);
    }
  }
}

/** Direct convolution: out (N, F, Ho, Wo) = sum over c, ki, kj of w · x_padded + b. Accumulates in f64 (in another order than the kernels: a float64 run compares within rounding too). */
export function conv_forward__direct(
  out: usize, x: usize, w: usize, b: usize,
  N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * C * H * W) << SHIFT);
    for (let f = 0; f < F; f++) {
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          let s: f64 = <f64>load<real>(b + (<usize>f << SHIFT));
          for (let c = 0; c < C; c++) {
            for (let ki = 0; ki < HH; ki++) {
              for (let kj = 0; kj < WW; kj++) {
                const wv = load<real>(w + (<usize>(((f * C + c) * HH + ki) * WW + kj) << SHIFT));
                s += <f64>wv * <f64>at(xn, c, oh * stride - pad + ki, ow * stride - pad + kj, H, W);
              }
            }
          }
          store<real>(out + (<usize>(((n * F + f) * Ho + oh) * Wo + ow) << SHIFT), <real>s);
        }
      }
    }
  }
}

/** Direct backward: dx (N, C, H, W), dw (F, C, HH, WW), db (F) from dout (N, F, Ho, Wo), in f64. Overwrites all three. */
export function conv_backward__direct(
  dx: usize, dw: usize, db: usize, dout: usize, x: usize, w: usize,
  N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  // db
  for (let f = 0; f < F; f++) {
    let s: f64 = 0;
    for (let n = 0; n < N; n++) {
      for (let p = 0; p < Ho * Wo; p++) s += <f64>load<real>(dout + (<usize>((n * F + f) * Ho * Wo + p) << SHIFT));
    }
    store<real>(db + (<usize>f << SHIFT), <real>s);
  }
  // dw[f, c, ki, kj] = sum_n,oh,ow dout[n, f, oh, ow] · x_pad[n, c, oh·s + ki, ow·s + kj]
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      for (let ki = 0; ki < HH; ki++) {
        for (let kj = 0; kj < WW; kj++) {
          let s: f64 = 0;
          for (let n = 0; n < N; n++) {
            const xn = x + (<usize>(n * C * H * W) << SHIFT);
            for (let oh = 0; oh < Ho; oh++) {
              for (let ow = 0; ow < Wo; ow++) {
                const g = load<real>(dout + (<usize>(((n * F + f) * Ho + oh) * Wo + ow) << SHIFT));
                s += <f64>g * <f64>at(xn, c, oh * stride - pad + ki, ow * stride - pad + kj, H, W);
              }
            }
          }
          store<real>(dw + (<usize>(((f * C + c) * HH + ki) * WW + kj) << SHIFT), <real>s);
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
                const g = load<real>(dout + (<usize>(((n * F + f) * Ho + oh) * Wo + ow) << SHIFT));
                s += <f64>g * <f64>load<real>(w + (<usize>(((f * C + c) * HH + ki) * WW + kj) << SHIFT));
              }
            }
          }
          store<real>(dx + (<usize>(((n * C + c) * H + ih) * W + iw) << SHIFT), <real>s);
        }
      }
    }
  }
}

/** Twin of conv_forward: per output, s = Σ_k w·x (k ascending from 0, padding as 0), r = s + b, ReLU. */
export function conv_forward__scalar(
  out: usize, x: usize, w: usize, b: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool,
): void {
  const K = C * HH * WW;
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * C * H * W) << SHIFT);
    for (let f = 0; f < F; f++) {
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          let s: real = 0;
          for (let c = 0; c < C; c++) {
            for (let ki = 0; ki < HH; ki++) {
              for (let kj = 0; kj < WW; kj++) {
                const wv = load<real>(w + (<usize>(f * K + (c * HH + ki) * WW + kj) << SHIFT));
                s += wv * at(xn, c, oh * stride - pad + ki, ow * stride - pad + kj, H, W);
              }
            }
          }
          let r = s + load<real>(b + (<usize>f << SHIFT));
          if (relu && r <= 0) r = 0;
          store<real>(out + (<usize>(((n * F + f) * Ho + oh) * Wo + ow) << SHIFT), r);
        }
      }
    }
  }
}

/** Twin of sum_chunks: dst[e] = src[e] + src[stride + e] + ... (chunk order), one element at a time. */
export function sum_chunks__scalar(dst: usize, src: usize, chunks: usize, stride: usize, e0: usize, e1: usize): void {
  for (let e = e0; e < e1; e++) {
    let acc = load<real>(src + (e << SHIFT));
    for (let q: usize = 1; q < chunks; q++) acc += load<real>(src + ((q * stride + e) << SHIFT));
    store<real>(dst + (e << SHIFT), acc);
  }
}

/**
 * Twin of the chunked conv bias gradient: chunk q's partial is conv_bias_backward__scalar over
 * images [q·G, min(N, (q+1)·G)), the partials added in chunk order. db: (F), dout: (N, F, P).
 */
export function conv_bias_backward_chunks__scalar(db: usize, dout: usize, N: usize, F: usize, P: usize, G: usize): void {
  const chunks = (N + G - 1) / G;
  const partials = heap.alloc(max<usize>(chunks * F, 1) << SHIFT);
  for (let q: usize = 0; q < chunks; q++) {
    const n0 = q * G, n1 = min(N, n0 + G);
    conv_bias_backward__scalar(partials + ((q * F) << SHIFT), dout + ((n0 * F * P) << SHIFT), n1 - n0, F, P);
  }
  sum_chunks__scalar(db, partials, chunks, F, 0, F);
  heap.free(partials);
}
