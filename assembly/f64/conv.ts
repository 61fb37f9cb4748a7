// f64 convolution helpers for im2col + GEMM (the host runs, per image, f64_im2col, f64_fill_rows
// with the bias and f64_gemm_nn accumulating; backward as in conv.ts). Same layout and formulas
// as conv.ts: for one image x (C, H, W), window (HH, WW), stride >= 1, zero padding pad >= 0,
//   cols (K = C·HH·WW, P = Ho·Wo): cols[(c·HH + ki)·WW + kj, oh·Wo + ow] = x[c, oh·stride - pad + ki, ow·stride - pad + kj]
// (0 in the padding). Copies are scalar: they are O(K·P) against the GEMM's O(F·K·P).

/** cols (C·HH·WW, Ho·Wo) = im2col of one image x (C, H, W). Every element of cols is written. */
export function f64_im2col(
  cols: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  let d = cols;
  for (let c = 0; c < C; c++) {
    const plane = x + (<usize>(c * H * W) << 3);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        for (let oh = 0; oh < Ho; oh++) {
          const ih = oh * stride - pad + ki;
          const rowInside = ih >= 0 && ih < H;
          for (let ow = 0; ow < Wo; ow++) {
            const iw = ow * stride - pad + kj;
            store<f64>(d, rowInside && iw >= 0 && iw < W ? load<f64>(plane + (<usize>(ih * W + iw) << 3)) : 0);
            d += 8;
          }
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
  for (let c = 0; c < C; c++) {
    const plane = dx + (<usize>(c * H * W) << 3);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        for (let oh = 0; oh < Ho; oh++) {
          const ih = oh * stride - pad + ki;
          const rowInside = ih >= 0 && ih < H;
          for (let ow = 0; ow < Wo; ow++) {
            const iw = ow * stride - pad + kj;
            if (rowInside && iw >= 0 && iw < W) {
              const p = plane + (<usize>(ih * W + iw) << 3);
              store<f64>(p, load<f64>(p) + load<f64>(s));
            }
            s += 8;
          }
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
