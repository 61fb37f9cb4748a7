// Convolution as im2col + GEMM (the GEMM itself lives in gemm.ts; the host loops over images),
// and a fused forward (f32_conv_forward, below) that never materializes cols.
//
// For one image x (C, H, W), a filter window (HH, WW), `stride` >= 1 and zero padding `pad` >= 0:
//   Ho = (H + 2 pad - HH) / stride + 1 (floor),  Wo likewise,  K = C·HH·WW,  P = Ho·Wo
//   cols (K, P): cols[(c·HH + ki)·WW + kj, oh·Wo + ow] = x[c, oh·stride - pad + ki, ow·stride - pad + kj]
//                (0 where the index falls in the padding)
//   forward:   out[n] (F, P) = w (F, K) · cols + b   (f32_conv_forward; im2col, a per-row bias fill and
//              gemm with accumulate compute the same sums)
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

import { gemm_work_bytes, gemm, packSplatTransposed } from "./gemm";

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

// ---------------------------------------------------------------------------------------------
// Backward in chunks of images, for threads with the same bits for any thread count.
//
// dw and db are sums over all N images. The host cuts the batch into `chunks` = ceil(N / G)
// chunks of G images, G chosen from the sizes alone (never the thread count). Chunk q writes its
// own partial sums to its own slice of `partials` (F·K floats of dw, then F of db); a task runs a
// range of chunks (one wasm call: im2col + GEMMs for each of its images, with the task's own
// scratch); f32_sum_chunks then adds the partials in chunk order. One thread runs the very same
// chunks, so 1 and 16 threads give the same bits. dx is per image, so any split gives its bits.
//
// Summation order (sizes only): dbq[f] = Σ_{n in chunk q, ascending} rowsum(dout[n, f, :]) with
// rowsum as in f32_conv_bias_backward; dwq = Σ_{n in chunk q} dout[n] · cols[n]ᵀ as successive
// accumulating GEMMs (gemm.ts's order within each); dw = ((dw_0 + dw_1) + dw_2) + ..., db likewise.

/** Floats in one chunk's slice of the partial buffer: dw (F, K) then db (F). */
export function f32_conv_chunk_floats(F: usize, K: usize): usize {
  return F * K + F;
}

/**
 * Scratch bytes one task of f32_conv_backward_chunks needs: the image's cols (K, P) (none for a
 * pointwise conv: 1x1, stride 1, no pad, where cols is the image itself), 16-byte aligned, then
 * the GEMM's packing work for dw (F,K) over P and dcols (K,P) over F.
 */
export function f32_conv_backward_work_bytes(F: usize, K: usize, P: usize, pointwise: bool): usize {
  const cols: usize = pointwise ? 0 : ((K * P) << 2) + 15 & ~15;
  return cols + max(gemm_work_bytes(F, K, P), gemm_work_bytes(K, P, F));
}

/**
 * Chunks [c0, c1) of the chunked backward (see above). dx: (N, C, H, W) or 0 to skip it (images
 * of these chunks written, overwritten); partials: chunks x f32_conv_chunk_floats(F, K) floats
 * (slices c0..c1 overwritten); dout: (N, F, Ho, Wo); x: (N, C, H, W); w: (F, C, HH, WW); chunk q
 * holds images [q·G, min(N, (q+1)·G)). work: f32_conv_backward_work_bytes(...) bytes of this
 * task's own scratch, 16-byte aligned. Preconditions: G >= 1, c0 <= c1 <= ceil(N / G).
 */
export function f32_conv_backward_chunks(
  dx: usize, partials: usize, dout: usize, x: usize, w: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, G: i32, c0: i32, c1: i32, work: usize,
): void {
  const K = <usize>(C * HH * WW);
  const P = <usize>(Ho * Wo);
  const Fu = <usize>F;
  const pointwise = HH == 1 && WW == 1 && stride == 1 && pad == 0;
  const cols = work;
  const gemmWork = pointwise ? work : work + (((K * P) << 2) + 15 & ~15);
  const slice = f32_conv_chunk_floats(Fu, K) << 2;
  const imageBytes = <usize>(C * H * W) << 2;
  const doutBytes = (Fu * P) << 2;
  for (let q = c0; q < c1; q++) {
    const dwq = partials + <usize>q * slice;
    const dbq = dwq + ((Fu * K) << 2);
    const n0 = q * G, n1 = min(N, n0 + G);
    f32_conv_bias_backward(dbq, dout + <usize>n0 * doutBytes, <usize>(n1 - n0), Fu, P);
    for (let n = n0; n < n1; n++) {
      const xn = x + <usize>n * imageBytes;
      const gn = dout + <usize>n * doutBytes;
      let src = xn;
      if (!pointwise) {
        f32_im2col(cols, xn, C, H, W, HH, WW, stride, pad, Ho, Wo);
        src = cols;
      }
      // dwq (F, K) (+)= dout[n] (F, P) · cols (K, P)ᵀ
      gemm(dwq, K << 2, gn, P << 2, src, P << 2, Fu, K, P, 0, n > n0, gemmWork, false, true);
      if (!dx) continue;
      const dxn = dx + <usize>n * imageBytes;
      // dcols (K, P) = w (F, K)ᵀ · dout[n] (F, P), scattered back onto the image
      if (pointwise) {
        gemm(dxn, P << 2, w, K << 2, gn, P << 2, K, P, Fu, 0, false, gemmWork, true, false);
      } else {
        gemm(cols, P << 2, w, K << 2, gn, P << 2, K, P, Fu, 0, false, gemmWork, true, false);
        f32_col2im(dxn, cols, C, H, W, HH, WW, stride, pad, Ho, Wo);
      }
    }
  }
}

/**
 * dst[e] = Σ_{q = 0..chunks-1, ascending} src[q·stride + e] for e in [e0, e1): the fixed-order
 * sum of per-chunk partials (the first term is taken as is, so -0 survives). dst: (>= e1);
 * src: chunks x stride floats. Each element's order is the same in the vector body and the tail.
 */
export function f32_sum_chunks(dst: usize, src: usize, chunks: usize, stride: usize, e0: usize, e1: usize): void {
  if (chunks == 0) return;
  const sb = stride << 2;
  let e = e0;
  for (; e + 4 <= e1; e += 4) {
    const o = e << 2;
    let acc = v128.load(src + o);
    for (let q: usize = 1; q < chunks; q++) acc = f32x4.add(acc, v128.load(src + q * sb + o));
    v128.store(dst + o, acc);
  }
  for (; e < e1; e++) {
    const o = e << 2;
    let acc = load<f32>(src + o);
    for (let q: usize = 1; q < chunks; q++) acc += load<f32>(src + q * sb + o);
    store<f32>(dst + o, acc);
  }
}

// ---------------------------------------------------------------------------------------------
// Fused forward: out = [relu](w · im2col(x) + b) for N images in one call, with no cols matrix.
//
// The GEMM's B operand (cols) is never materialized. Each 4-filter x 8-pixel tile runs the loop
// of gemm.ts's microkernel over a K x 8 "panel" of cols:
//  - stride 1 and Wo a multiple of 8 (every 8-pixel block lies in one output row): each image is
//    copied into a zero-padded buffer once, and panel row k is read IN PLACE as the 8 floats at
//    block base + offs[k] (a K-entry offset table built once per call): no packing at all;
//  - otherwise the panel is packed from x (stride 1 rows in one output row: two masked v128
//    loads per row; else a checked gather) and reused by every tile of the block from L1.
// The weights are packed once per call (splatted, the layout gemm.ts's microkernel reads), not
// once per image. Bias (per filter, i.e. per row) and ReLU are applied in the tile's epilogue.
//
// Summation order (depends only on the sizes): for each output element,
//   s = Σ_{k = 0..K-1 ascending} w[f, k]·cols[k, p]  (one f32 lane, products added one at a time,
//       padding positions included as w·0),  r = s + b[f],  out = relu ? (r <= 0 ? 0 : r) : r.
// Strict SIMD128 (mul then add), so every engine gives the same bits as the scalar twin.

/**
 * Scratch bytes f32_conv_forward needs for F filters over C x H x W images with HH x WW windows
 * and padding `pad`: splatted weights (F rounded up to 4) x K x 16 B, one K x 8 pixel panel,
 * max(128, K·32) bytes for an edge tile or the packer's lane masks, a zero-padded image
 * C x (H + 2 pad) x (W + 2 pad) and K row offsets (K = C·HH·WW).
 */
export function f32_conv_forward_work_bytes(F: usize, C: usize, H: usize, W: usize, HH: usize, WW: usize, pad: usize): usize {
  const K = C * HH * WW;
  return ((F + 3) & ~3) * K * 16 + K * 32 + max<usize>(128, K * 32) + ((C * (H + 2 * pad) * (W + 2 * pad) + K) << 2);
}

/**
 * Images [n0, n1) of a batch of N: f32_conv_forward on that slice (out and x offset to image n0).
 * The split entry point: threads take image ranges, each with its own work.
 */
export function f32_conv_forward_images(
  out: usize, x: usize, w: usize, b: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool, work: usize, n0: i32, n1: i32,
): void {
  if (n1 > N) n1 = N;
  if (n0 < 0 || n0 >= n1) return;
  f32_conv_forward(out + (<usize>(n0 * F * Ho * Wo) << 2), x + (<usize>(n0 * C * H * W) << 2), w, b, n1 - n0, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, work);
}

/**
 * out (N, F, Ho, Wo) = [relu](conv(x, w) + b) for x (N, C, H, W), w (F, C, HH, WW), b (F), zero
 * padding `pad`, `stride` >= 1, Ho and Wo from the formula at the top of this file. `work`: at
 * least f32_conv_forward_work_bytes(F, C, H, W, HH, WW, pad) bytes, 16-byte aligned. out
 * overlaps nothing.
 */
export function f32_conv_forward(
  out: usize, x: usize, w: usize, b: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool, work: usize,
): void {
  const K = <usize>(C * HH * WW);
  const P = Ho * Wo;
  if (N <= 0 || F <= 0 || P <= 0 || K == 0) return;
  const packedW = work;
  const panel = packedW + ((<usize>((F + 3) & ~3) * K) << 4);
  const edge = panel + (K << 5);
  const Hq = H + 2 * pad, Wq = W + 2 * pad;
  const xpad = edge + max<usize>(128, K << 5);
  const offs = xpad + (<usize>(C * Hq * Wq) << 2);
  packSplatTransposed(packedW, w, K << 2, K, <usize>F);
  // Stride 1 with whole 8-pixel panels in every output row: the tiles read their panel rows in
  // place from a zero-padded copy of the image (row k of the panel at (oh, ow0) is the 8 floats
  // at xpad + (oh·Wq + ow0)·4 + offs[k]), so nothing is packed. Otherwise panels are packed.
  const direct = stride == 1 && Wo % 8 == 0;
  if (direct) {
    zeroFloats(xpad, <usize>(C * Hq * Wq)); // the border stays zero; each image fills the inside
    let k = 0;
    for (let c = 0; c < C; c++) {
      for (let ki = 0; ki < HH; ki++) {
        for (let kj = 0; kj < WW; kj++) {
          store<u32>(offs + (<usize>k << 2), <u32>(((c * Hq + ki) * Wq + kj) << 2));
          k++;
        }
      }
    }
  }
  const ldo = <usize>P << 2;
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * C * H * W) << 2);
    const on = out + (<usize>(n * F * P) << 2);
    if (direct) {
      for (let c = 0; c < C; c++) {
        for (let ih = 0; ih < H; ih++) {
          copyFloats(xpad + (<usize>((c * Hq + ih + pad) * Wq + pad) << 2), xn + (<usize>((c * H + ih) * W) << 2), <usize>W);
        }
      }
    }
    for (let p0 = 0; p0 < P; p0 += 8) {
      let bp = panel, ko: usize = 0;
      if (direct) {
        bp = xpad + (<usize>((p0 / Wo) * Wq + p0 % Wo) << 2);
        ko = offs;
      } else packPixels(panel, xn, C, H, W, HH, WW, stride, pad, Wo, P, p0, edge);
      const nv = min(8, P - p0);
      for (let f0 = 0; f0 < F; f0 += 4) {
        const ap = packedW + ((<usize>f0 * K) << 4);
        const o = on + (<usize>(f0 * P + p0) << 2);
        const bf = b + (<usize>f0 << 2);
        // One (inlined) tile call site: full tiles store in place, edge tiles go through `edge`.
        const full = nv == 8 && f0 + 4 <= F;
        convTile(ap, bp, ko, K, full ? o : edge, full ? ldo : 32, bf, relu, full ? TILE_STORE : TILE_RAW);
        if (!full) mergeConvEdge(o, ldo, edge, min(4, F - f0), nv, bf, relu);
      }
    }
  }
}

/**
 * The K x 8 panel of cols for pixels p0 .. p0+7 (pixels past P are zero): row k = (c, ki, kj)
 * at panel + k*32 holds x[c, oh·stride - pad + ki, ow·stride - pad + kj] of each pixel (oh, ow).
 * `lanes`: scratch of max(64, WW·32) bytes (lane masks or per-pixel offsets).
 */
function packPixels(
  panel: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Wo: i32, P: i32, p0: i32, lanes: usize,
): void {
  const z = f32x4.splat(0);
  const oh = p0 / Wo, ow0 = p0 % Wo;
  let d = panel;
  if (stride == 1 && ow0 + 8 <= Wo) {
    // One output row, stride 1: row (c, ki, kj) is the 8 floats at x[c, ih0 + ki, iwBase + kj].
    // They are loaded whole and ANDed with a lane mask per kj (lanes whose column falls outside
    // [0, W) are padding): 2 loads, 2 ands, 2 stores a row, no branch. Loads that would leave
    // the image (first/last rows) take the checked path instead.
    const ih0 = oh - pad;
    const iwBase = ow0 - pad;
    const lanesLo = i32x4(0, 1, 2, 3), lanesHi = i32x4(4, 5, 6, 7);
    const wv = i32x4.splat(W), neg1 = i32x4.splat(-1);
    for (let kj = 0; kj < WW; kj++) {
      const i0 = i32x4.add(i32x4.splat(iwBase + kj), lanesLo), i1 = i32x4.add(i32x4.splat(iwBase + kj), lanesHi);
      v128.store(lanes + (<usize>kj << 5), v128.and(i32x4.gt_s(i0, neg1), i32x4.lt_s(i0, wv)), 0);
      v128.store(lanes + (<usize>kj << 5), v128.and(i32x4.gt_s(i1, neg1), i32x4.lt_s(i1, wv)), 16);
    }
    const lo = <isize>x, hi = <isize>(x + (<usize>(C * H * W) << 2));
    const first = <isize>iwBase << 2, last = <isize>(iwBase + WW - 1 + 8) << 2; // byte range read from a row
    for (let c = 0; c < C; c++) {
      const plane = x + (<usize>(c * H * W) << 2);
      for (let ki = 0; ki < HH; ki++) {
        const ih = ih0 + ki;
        if (ih < 0 || ih >= H) {
          for (let kj = 0; kj < WW; kj++) {
            v128.store(d, z, 0);
            v128.store(d, z, 16);
            d += 32;
          }
          continue;
        }
        const row = <isize>(plane + (<usize>(ih * W) << 2));
        if (row + first >= lo && row + last <= hi) {
          let s = <usize>(row + first);
          let m = lanes;
          const end = d + (<usize>WW << 5);
          while (d < end) {
            v128.store(d, v128.and(v128.load(s, 0), v128.load(m, 0)), 0);
            v128.store(d, v128.and(v128.load(s, 16), v128.load(m, 16)), 16);
            s += 4;
            m += 32;
            d += 32;
          }
        } else {
          for (let kj = 0; kj < WW; kj++) {
            const iw0 = iwBase + kj;
            for (let j = 0; j < 8; j++) {
              const iw = iw0 + j;
              store<f32>(d + (<usize>j << 2), iw >= 0 && iw < W ? load<f32>(<usize>row + (<usize>iw << 2)) : 0);
            }
            d += 32;
          }
        }
      }
    }
    return;
  }
  // Any other case (stride > 1, pixels spanning output rows or past P): per-lane offsets, a checked gather.
  for (let j = 0; j < 8; j++) {
    const p = p0 + j;
    const valid = p < P;
    store<i32>(lanes + (<usize>j << 2), valid ? (p / Wo) * stride - pad : -0x40000000); // ih of ki = 0
    store<i32>(lanes + (<usize>j << 2), valid ? (p % Wo) * stride - pad : 0, 32); // iw of kj = 0
  }
  gatherLanes(panel, x, C, H, W, HH, WW, lanes);
}

/**
 * The K x 8 panel from per-lane offsets: lane j reads x[c, ih_j + ki, iw_j + kj] (0 outside the
 * image) with ih_j, iw_j the i32s at lanes + 4j and lanes + 32 + 4j (ih_j very negative: a lane
 * with no pixel).
 */
function gatherLanes(panel: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, lanes: usize): void {
  let d = panel;
  for (let c = 0; c < C; c++) {
    const plane = x + (<usize>(c * H * W) << 2);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        for (let j = 0; j < 8; j++) {
          const ih = load<i32>(lanes + (<usize>j << 2)) + ki;
          const iw = load<i32>(lanes + (<usize>j << 2), 32) + kj;
          const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
          store<f32>(d + (<usize>j << 2), inside ? load<f32>(plane + (<usize>(ih * W + iw) << 2)) : 0);
        }
        d += 32;
      }
    }
  }
}

/**
 * 4 filters x 8 pixels: the loop of gemm.ts's microkernel4x8 (ap: K x 4 splatted weights, bp:
 * the K x 8 pixel panel), then r = s + b[row] and ReLU, stored to 4 rows ldo bytes apart.
 * mode TILE_STORE: the 4x8 results; TILE_RAW: the sums s only (edge tiles, finished by
 * mergeConvEdge). Inlined (one call site): the call costs ~7% at K = 27.
 */
@inline function convTile(ap: usize, bp: usize, offs: usize, K: usize, out: usize, ldo: usize, bias: usize, relu: bool, mode: i32): void {
  let c0l = f32x4.splat(0), c0h = f32x4.splat(0);
  let c1l = f32x4.splat(0), c1h = f32x4.splat(0);
  let c2l = f32x4.splat(0), c2h = f32x4.splat(0);
  let c3l = f32x4.splat(0), c3h = f32x4.splat(0);
  if (offs) {
    // Row k of the panel read in place: the 8 floats at bp + offs[k] (the padded image).
    const end = offs + (K << 2);
    while (offs < end) {
      const b = bp + <usize>load<u32>(offs);
      const bl = v128.load(b, 0), bh = v128.load(b, 16);
      let av = v128.load(ap, 0);
      c0l = f32x4.add(c0l, f32x4.mul(av, bl)); c0h = f32x4.add(c0h, f32x4.mul(av, bh));
      av = v128.load(ap, 16);
      c1l = f32x4.add(c1l, f32x4.mul(av, bl)); c1h = f32x4.add(c1h, f32x4.mul(av, bh));
      av = v128.load(ap, 32);
      c2l = f32x4.add(c2l, f32x4.mul(av, bl)); c2h = f32x4.add(c2h, f32x4.mul(av, bh));
      av = v128.load(ap, 48);
      c3l = f32x4.add(c3l, f32x4.mul(av, bl)); c3h = f32x4.add(c3h, f32x4.mul(av, bh));
      ap += 64;
      offs += 4;
    }
  } else {
    const end = bp + (K << 5);
    while (bp < end) {
      const bl = v128.load(bp, 0), bh = v128.load(bp, 16);
      let av = v128.load(ap, 0);
      c0l = f32x4.add(c0l, f32x4.mul(av, bl)); c0h = f32x4.add(c0h, f32x4.mul(av, bh));
      av = v128.load(ap, 16);
      c1l = f32x4.add(c1l, f32x4.mul(av, bl)); c1h = f32x4.add(c1h, f32x4.mul(av, bh));
      av = v128.load(ap, 32);
      c2l = f32x4.add(c2l, f32x4.mul(av, bl)); c2h = f32x4.add(c2h, f32x4.mul(av, bh));
      av = v128.load(ap, 48);
      c3l = f32x4.add(c3l, f32x4.mul(av, bl)); c3h = f32x4.add(c3h, f32x4.mul(av, bh));
      ap += 64;
      bp += 32;
    }
  }
  if (mode != TILE_RAW) {
    let bv = v128.load32_splat(bias, 0);
    c0l = f32x4.add(c0l, bv); c0h = f32x4.add(c0h, bv);
    bv = v128.load32_splat(bias, 4);
    c1l = f32x4.add(c1l, bv); c1h = f32x4.add(c1h, bv);
    bv = v128.load32_splat(bias, 8);
    c2l = f32x4.add(c2l, bv); c2h = f32x4.add(c2h, bv);
    bv = v128.load32_splat(bias, 12);
    c3l = f32x4.add(c3l, bv); c3h = f32x4.add(c3h, bv);
    if (relu) {
      // Keep lanes where !(v <= 0), as f32_relu does (NaN stays, -0 becomes +0).
      const z = f32x4.splat(0);
      c0l = v128.andnot(c0l, f32x4.le(c0l, z)); c0h = v128.andnot(c0h, f32x4.le(c0h, z));
      c1l = v128.andnot(c1l, f32x4.le(c1l, z)); c1h = v128.andnot(c1h, f32x4.le(c1h, z));
      c2l = v128.andnot(c2l, f32x4.le(c2l, z)); c2h = v128.andnot(c2h, f32x4.le(c2h, z));
      c3l = v128.andnot(c3l, f32x4.le(c3l, z)); c3h = v128.andnot(c3h, f32x4.le(c3h, z));
    }
  }
  const o1 = out + ldo, o2 = o1 + ldo, o3 = o2 + ldo;
  v128.store(out, c0l, 0); v128.store(out, c0h, 16);
  v128.store(o1, c1l, 0); v128.store(o1, c1h, 16);
  v128.store(o2, c2l, 0); v128.store(o2, c2h, 16);
  v128.store(o3, c3l, 0); v128.store(o3, c3h, 16);
}

const TILE_STORE = 0;
const TILE_RAW = 1;

/** The valid rows x cols corner of a raw edge tile (rows 32 bytes apart): r = s + b[row], ReLU, into out. */
function mergeConvEdge(out: usize, ldo: usize, tile: usize, rows: i32, cols: i32, bias: usize, relu: bool): void {
  for (let i = 0; i < rows; i++) {
    const bi = load<f32>(bias + (<usize>i << 2));
    for (let j = 0; j < cols; j++) {
      let r = load<f32>(tile + (<usize>(i * 8 + j) << 2)) + bi;
      if (relu && r <= 0) r = 0;
      store<f32>(out + <usize>i * ldo + (<usize>j << 2), r);
    }
  }
}
