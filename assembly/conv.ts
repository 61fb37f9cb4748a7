// Convolution as im2col + GEMM (the GEMM itself lives in gemm.ts; the host loops over images).
//
// For one image x (C, H, W), a filter window (HH, WW), `stride` >= 1 and zero padding `pad` >= 0:
//   Ho = (H + 2 pad - HH) / stride + 1 (floor),  Wo likewise,  K = C·HH·WW,  P = Ho·Wo
//   cols (K, P): cols[(c·HH + ki)·WW + kj, oh·Wo + ow] = x[c, oh·stride - pad + ki, ow·stride - pad + kj]
//                (0 where the index falls in the padding)
//   forward:   out[n] (F, P) = w (F, K) · cols + b   (f32_fill_rows puts b in, gemm accumulates)
//   backward:  dw (F, K) += dout[n] (F, P) · colsᵀ,  dcols (K, P) = wᵀ · dout[n],  dx[n] = col2im(dcols)
//              db[f] = sum over n and p of dout[n, f, p]  (f32_conv_bias_backward)
//
// Why im2col: every flop then runs in the register-tiled GEMM, and the copy is O(K·P), tiny next
// to the GEMM's O(F·K·P). Copies use v128 loops rather than memory.copy: rows are short (Wo
// floats) and the bulk-memory call costs more than the copy at that length.
//
// Contract for every kernel here: pointers to contiguous row-major f32 arrays, 4-byte aligned;
// sizes as above with Ho, Wo >= 1 computed by the caller from the formula; outputs do not overlap
// inputs. Summation order depends on the sizes only, so results are the same bits everywhere.

/** Copies n floats (v128 body, scalar tail). */
@inline function copyFloats(dst: usize, src: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) {
    v128.store(dst + (i << 2), v128.load(src + (i << 2)));
    v128.store(dst + (i << 2), v128.load(src + (i << 2) + 16), 16);
  }
  if (i + 4 <= n) {
    v128.store(dst + (i << 2), v128.load(src + (i << 2)));
    i += 4;
  }
  for (; i < n; i++) store<f32>(dst + (i << 2), load<f32>(src + (i << 2)));
}

/** dst[i] += src[i] for n floats. */
@inline function addFloats(dst: usize, src: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) store<f32>(dst + (i << 2), load<f32>(dst + (i << 2)) + load<f32>(src + (i << 2)));
}

/** Sets n floats to 0. */
@inline function zeroFloats(dst: usize, n: usize): void {
  const z = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (i << 2), z);
  for (; i < n; i++) store<f32>(dst + (i << 2), 0);
}

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
 * cols (C·HH·WW, Ho·Wo) = im2col of one image x (C, H, W) with zero padding `pad` and `stride`.
 * Every element of cols is written.
 */
export function f32_im2col(
  cols: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  const P = <usize>(Ho * Wo);
  let row: usize = 0;
  for (let c = 0; c < C; c++) {
    const plane = x + (<usize>(c * H * W) << 2);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        const dst = cols + ((row * P) << 2);
        const lo = firstValid(pad, kj, stride, Wo);
        const hi = max(endValid(W, pad, kj, stride, Wo), lo);
        const n = <usize>(hi - lo);
        for (let oh = 0; oh < Ho; oh++) {
          const d = dst + (<usize>(oh * Wo) << 2);
          const ih = oh * stride - pad + ki;
          if (ih < 0 || ih >= H) {
            zeroFloats(d, <usize>Wo);
            continue;
          }
          zeroFloats(d, <usize>lo);
          zeroFloats(d + (<usize>hi << 2), <usize>(Wo - hi));
          const src = plane + (<usize>(ih * W + lo * stride - pad + kj) << 2);
          const out = d + (<usize>lo << 2);
          if (stride == 1) {
            copyFloats(out, src, n);
          } else if (stride == 2) {
            // Even lanes of two consecutive vectors: 4 outputs from 8 inputs.
            let i: usize = 0;
            for (; i + 4 <= n; i += 4) {
              const s = src + (i << 3);
              const a = v128.load(s);
              // The second load reads 8 floats from s; for the last block only 7 are needed and
              // the 8th may lie past the row, so load the last vector at s + 12 and shift.
              const b = v128.load(s + 12);
              v128.store(out + (i << 2), v128.shuffle<f32>(a, b, 0, 2, 5, 7));
            }
            for (; i < n; i++) store<f32>(out + (i << 2), load<f32>(src + (i << 3)));
          } else {
            const step = <usize>stride << 2;
            for (let i: usize = 0; i < n; i++) store<f32>(out + (i << 2), load<f32>(src + i * step));
          }
        }
        row++;
      }
    }
  }
}

/**
 * dx (C, H, W) = col2im(dcols): the adjoint of f32_im2col. Overwrites dx, then adds every element
 * of dcols (C·HH·WW, Ho·Wo) to the input position it was copied from; positions covered by
 * several windows accumulate, padding positions are dropped.
 */
export function f32_col2im(
  dx: usize, dcols: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  zeroFloats(dx, <usize>(C * H * W));
  const P = <usize>(Ho * Wo);
  let row: usize = 0;
  for (let c = 0; c < C; c++) {
    const plane = dx + (<usize>(c * H * W) << 2);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        const srcRow = dcols + ((row * P) << 2);
        const lo = firstValid(pad, kj, stride, Wo);
        const hi = max(endValid(W, pad, kj, stride, Wo), lo);
        const n = <usize>(hi - lo);
        for (let oh = 0; oh < Ho; oh++) {
          const ih = oh * stride - pad + ki;
          if (ih < 0 || ih >= H) continue;
          const d = plane + (<usize>(ih * W + lo * stride - pad + kj) << 2);
          const s = srcRow + (<usize>(oh * Wo + lo) << 2);
          if (stride == 1) {
            addFloats(d, s, n);
          } else {
            const step = <usize>stride << 2;
            for (let i: usize = 0; i < n; i++) store<f32>(d + i * step, load<f32>(d + i * step) + load<f32>(s + (i << 2)));
          }
        }
        row++;
      }
    }
  }
}

/** y[r, j] = values[r]: a per-row bias, e.g. out[n] (F, P) = b before the GEMM accumulates. y: (rows, cols), values: (rows) */
export function f32_fill_rows(y: usize, values: usize, rows: usize, cols: usize): void {
  for (let r: usize = 0; r < rows; r++) {
    const v = load<f32>(values + (r << 2));
    const vv = f32x4.splat(v);
    const yr = y + ((r * cols) << 2);
    let j: usize = 0;
    for (; j + 4 <= cols; j += 4) v128.store(yr + (j << 2), vv);
    for (; j < cols; j++) store<f32>(yr + (j << 2), v);
  }
}

/**
 * db[f] = sum_n sum_p dout[n, f, p]: the conv bias gradient. db: (F), dout: (N, F, P).
 * Each (n, f) row is summed in four lanes (lane j takes p ≡ j mod 4, tail added in order), lanes
 * folded as (l0 + l1) + (l2 + l3), then added to db[f] in order of n.
 */
export function f32_conv_bias_backward(db: usize, dout: usize, N: usize, F: usize, P: usize): void {
  zeroFloats(db, F);
  for (let n: usize = 0; n < N; n++) {
    for (let f: usize = 0; f < F; f++) {
      const row = dout + (((n * F + f) * P) << 2);
      let acc = f32x4.splat(0);
      let p: usize = 0;
      for (; p + 4 <= P; p += 4) acc = f32x4.add(acc, v128.load(row + (p << 2)));
      let s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      for (; p < P; p++) s += load<f32>(row + (p << 2));
      store<f32>(db + (f << 2), load<f32>(db + (f << 2)) + s);
    }
  }
}
