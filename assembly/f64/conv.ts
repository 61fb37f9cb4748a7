// f64 convolution helpers for im2col + GEMM (the host runs, per image, f64_im2col, f64_fill_rows
// with the bias and f64_gemm_nn accumulating; backward as in conv.ts). Same layout and formulas
// as conv.ts: for one image x (C, H, W), window (HH, WW), stride >= 1, zero padding pad >= 0,
//   cols (K = C·HH·WW, P = Ho·Wo): cols[(c·HH + ki)·WW + kj, oh·Wo + ow] = x[c, oh·stride - pad + ki, ow·stride - pad + kj]
// (0 in the padding). Copies are scalar: they are O(K·P) against the GEMM's O(F·K·P).

/** First output column whose input column ow·stride - pad + kj is >= 0. */
@inline function firstValid(pad: i32, kj: i32, stride: i32, Wo: i32): i32 {
  const need = pad - kj; // ow·stride >= need
  if (need <= 0) return 0;
  return min((need + stride - 1) / stride, Wo);
}

/** One past the last output column whose input column is < W. */
@inline function endValid(W: i32, pad: i32, kj: i32, stride: i32, Wo: i32): i32 {
  const limit = W - 1 + pad - kj; // ow·stride <= limit
  if (limit < 0) return 0;
  return min(limit / stride + 1, Wo);
}

/**
 * cols (C·HH·WW, Ho·Wo) = im2col of one image x (C, H, W). Every element of cols is written: per
 * cols row and output row, the columns [lo, hi) that fall inside the image are copied (one bulk
 * copy at stride 1), the rest zeroed.
 */
export function f64_im2col(
  cols: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  let d = cols;
  const rowBytes = <usize>Wo << 3;
  for (let c = 0; c < C; c++) {
    const plane = x + (<usize>(c * H * W) << 3);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        const lo = firstValid(pad, kj, stride, Wo);
        const hi = max(endValid(W, pad, kj, stride, Wo), lo);
        for (let oh = 0; oh < Ho; oh++) {
          const ih = oh * stride - pad + ki;
          if (ih < 0 || ih >= H || lo == hi) {
            memory.fill(d, 0, rowBytes);
          } else {
            if (lo > 0) memory.fill(d, 0, <usize>lo << 3);
            if (hi < Wo) memory.fill(d + (<usize>hi << 3), 0, <usize>(Wo - hi) << 3);
            const src = plane + (<usize>(ih * W + lo * stride - pad + kj) << 3);
            const out = d + (<usize>lo << 3);
            if (stride == 1) memory.copy(out, src, <usize>(hi - lo) << 3);
            else {
              const step = <usize>stride << 3;
              for (let i: usize = 0, n = <usize>(hi - lo); i < n; i++) store<f64>(out + (i << 3), load<f64>(src + i * step));
            }
          }
          d += rowBytes;
        }
      }
    }
  }
}

/**
 * dx (C, H, W) = col2im(dcols), the adjoint of f64_im2col: dx is overwritten, then every element
 * of dcols (C·HH·WW, Ho·Wo) is added to the input position it came from (padding dropped), in
 * row order of dcols.
 */
export function f64_col2im(
  dx: usize, dcols: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  memory.fill(dx, 0, <usize>(C * H * W) << 3);
  let s = dcols;
  const rowBytes = <usize>Wo << 3;
  for (let c = 0; c < C; c++) {
    const plane = dx + (<usize>(c * H * W) << 3);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        const lo = firstValid(pad, kj, stride, Wo);
        const hi = max(endValid(W, pad, kj, stride, Wo), lo);
        for (let oh = 0; oh < Ho; oh++) {
          const ih = oh * stride - pad + ki;
          if (ih >= 0 && ih < H) {
            const d = plane + (<usize>(ih * W + lo * stride - pad + kj) << 3);
            const src = s + (<usize>lo << 3);
            const step = <usize>stride << 3;
            for (let i: usize = 0, n = <usize>(hi - lo); i < n; i++) {
              const p = d + i * step;
              store<f64>(p, load<f64>(p) + load<f64>(src + (i << 3)));
            }
          }
          s += rowBytes;
        }
      }
    }
  }
}

/** y[r, j] = values[r]: a per-row bias before the GEMM accumulates. y: (rows, cols), values: (rows) */
export function f64_fill_rows(y: usize, values: usize, rows: usize, cols: usize): void {
  for (let r: usize = 0; r < rows; r++) {
    const v = load<f64>(values + (r << 3));
    const yr = y + ((r * cols) << 3);
    for (let j: usize = 0; j < cols; j++) store<f64>(yr + (j << 3), v);
  }
}

/** db[f] = sum_n sum_p dout[n, f, p] (each row summed in order of p, then added in order of n). db: (F), dout: (N, F, P) */
export function f64_conv_bias_backward(db: usize, dout: usize, N: usize, F: usize, P: usize): void {
  memory.fill(db, 0, F << 3);
  for (let n: usize = 0; n < N; n++) {
    for (let f: usize = 0; f < F; f++) {
      const row = dout + (((n * F + f) * P) << 3);
      let s: f64 = 0;
      for (let p: usize = 0; p < P; p++) s += load<f64>(row + (p << 3));
      store<f64>(db + (f << 3), load<f64>(db + (f << 3)) + s);
    }
  }
}
