// Convolution over `real` (f32 or f64, see real.ts) as im2col + GEMM (the GEMM itself lives in
// gemm.ts), and a fused forward (conv_forward, below) that never materializes cols.
//
// For one image x (C, H, W), a filter window (HH, WW), `stride` >= 1 and zero padding `pad` >= 0:
//   Ho = (H + 2 pad - HH) / stride + 1 (floor),  Wo likewise,  K = C·HH·WW,  P = Ho·Wo
//   cols (K, P): cols[(c·HH + ki)·WW + kj, oh·Wo + ow] = x[c, oh·stride - pad + ki, ow·stride - pad + kj]
//                (0 where the index falls in the padding)
//   forward:   out[n] (F, P) = w (F, K) · cols + b   (conv_forward; im2col, a per-row bias fill and
//              gemm with accumulate compute the same sums)
//   backward:  dw (F, K) += dout[n] (F, P) · colsᵀ,  dcols (K, P) = wᵀ · dout[n],  dx[n] = col2im(dcols)
//              db[f] = sum over n and p of dout[n, f, p]  (conv_bias_backward)
//
// Why im2col: every flop then runs in the register-tiled GEMM, and the copy is O(K·P), tiny next
// to the GEMM's O(F·K·P). Copies use v128 loops rather than memory.copy: rows are short (Wo
// values) and the bulk-memory call costs more than the copy at that length.
//
// Contract for every kernel here: pointers to contiguous row-major `real` arrays, element-aligned;
// sizes as above with Ho, Wo >= 1 computed by the caller from the formula; outputs do not overlap
// inputs. Summation order depends on the sizes only, so results are the same bits everywhere.

import { gemm_work_bytes, gemm, packSplatTransposed } from "./gemm";
import { FLOAT32, LANES, SHIFT } from "./real";

/** Pixels per tile of the fused forward (two v128 of a filter's outputs: 8 f32, 4 f64). */
@inline const PX: i32 = 2 * <i32>LANES;

/** Copies n reals (v128 body, scalar tail). */
@inline function copyReals(dst: usize, src: usize, n: usize): void {
  let i: usize = 0;
  for (; i + <usize>PX <= n; i += <usize>PX) {
    v128.store(dst + (i << SHIFT), v128.load(src + (i << SHIFT)));
    v128.store(dst + (i << SHIFT), v128.load(src + (i << SHIFT) + 16), 16);
  }
  if (i + LANES <= n) {
    v128.store(dst + (i << SHIFT), v128.load(src + (i << SHIFT)));
    i += LANES;
  }
  for (; i < n; i++) store<real>(dst + (i << SHIFT), load<real>(src + (i << SHIFT)));
}

/** dst[i] += src[i] for n reals. */
@inline function addReals(dst: usize, src: usize, n: usize): void {
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    v128.store(dst + o, v128.add<real>(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) store<real>(dst + (i << SHIFT), load<real>(dst + (i << SHIFT)) + load<real>(src + (i << SHIFT)));
}

/** Sets n reals to 0. */
@inline function zeroReals(dst: usize, n: usize): void {
  const z = v128.splat<real>(0);
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) v128.store(dst + (i << SHIFT), z);
  for (; i < n; i++) store<real>(dst + (i << SHIFT), 0);
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
export function im2col(
  cols: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  const P = <usize>(Ho * Wo);
  let row: usize = 0;
  for (let c = 0; c < C; c++) {
    const plane = x + (<usize>(c * H * W) << SHIFT);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        const dst = cols + ((row * P) << SHIFT);
        const lo = firstValid(pad, kj, stride, Wo);
        const hi = max(endValid(W, pad, kj, stride, Wo), lo);
        const n = <usize>(hi - lo);
        for (let oh = 0; oh < Ho; oh++) {
          const d = dst + (<usize>(oh * Wo) << SHIFT);
          const ih = oh * stride - pad + ki;
          if (ih < 0 || ih >= H) {
            zeroReals(d, <usize>Wo);
            continue;
          }
          zeroReals(d, <usize>lo);
          zeroReals(d + (<usize>hi << SHIFT), <usize>(Wo - hi));
          const src = plane + (<usize>(ih * W + lo * stride - pad + kj) << SHIFT);
          const out = d + (<usize>lo << SHIFT);
          if (stride == 1) {
            copyReals(out, src, n);
          } else if (stride == 2) {
            // Even lanes of two consecutive vectors: LANES outputs from 2·LANES inputs.
            let i: usize = 0;
            for (; i + LANES <= n; i += LANES) {
              const s = src + (i << (SHIFT + 1));
              const a = v128.load(s);
              // The second load would read inputs LANES .. 2·LANES-1 of s; for the last block the
              // last one is not needed and may lie past the row, so load the vector one element
              // earlier (inputs LANES-1 .. 2·LANES-2) and pick its odd lanes (f32 lanes 1, 3; f64 lane 1).
              const b = v128.load(s + (LANES - 1) * sizeof<real>());
              v128.store(out + (i << SHIFT), FLOAT32 ? v128.shuffle<f32>(a, b, 0, 2, 5, 7) : v128.shuffle<f64>(a, b, 0, 3));
            }
            for (; i < n; i++) store<real>(out + (i << SHIFT), load<real>(src + (i << (SHIFT + 1))));
          } else {
            const step = <usize>stride << SHIFT;
            for (let i: usize = 0; i < n; i++) store<real>(out + (i << SHIFT), load<real>(src + i * step));
          }
        }
        row++;
      }
    }
  }
}

/**
 * dx (C, H, W) = col2im(dcols): the adjoint of im2col. Overwrites dx, then adds every element
 * of dcols (C·HH·WW, Ho·Wo) to the input position it was copied from; positions covered by
 * several windows accumulate, padding positions are dropped.
 */
export function col2im(
  dx: usize, dcols: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  zeroReals(dx, <usize>(C * H * W));
  const P = <usize>(Ho * Wo);
  let row: usize = 0;
  for (let c = 0; c < C; c++) {
    const plane = dx + (<usize>(c * H * W) << SHIFT);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        const srcRow = dcols + ((row * P) << SHIFT);
        const lo = firstValid(pad, kj, stride, Wo);
        const hi = max(endValid(W, pad, kj, stride, Wo), lo);
        const n = <usize>(hi - lo);
        for (let oh = 0; oh < Ho; oh++) {
          const ih = oh * stride - pad + ki;
          if (ih < 0 || ih >= H) continue;
          const d = plane + (<usize>(ih * W + lo * stride - pad + kj) << SHIFT);
          const s = srcRow + (<usize>(oh * Wo + lo) << SHIFT);
          if (stride == 1) {
            addReals(d, s, n);
          } else {
            const step = <usize>stride << SHIFT;
            for (let i: usize = 0; i < n; i++) store<real>(d + i * step, load<real>(d + i * step) + load<real>(s + (i << SHIFT)));
          }
        }
        row++;
      }
    }
  }
}

/**
 * db[f] = sum_n sum_p dout[n, f, p]: the conv bias gradient. db: (F), dout: (N, F, P).
 * Each (n, f) row is summed in LANES lanes (lane j takes p ≡ j mod LANES, tail added in order),
 * lanes folded as (l0 + l1) + (l2 + l3) (f32) or l0 + l1 (f64), then added to db[f] in order of n.
 */
export function conv_bias_backward(db: usize, dout: usize, N: usize, F: usize, P: usize): void {
  zeroReals(db, F);
  for (let n: usize = 0; n < N; n++) {
    for (let f: usize = 0; f < F; f++) {
      const row = dout + (((n * F + f) * P) << SHIFT);
      let acc = v128.splat<real>(0);
      let p: usize = 0;
      for (; p + LANES <= P; p += LANES) acc = v128.add<real>(acc, v128.load(row + (p << SHIFT)));
      let s = FLOAT32
        ? (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3))
        : <real>(f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1));
      for (; p < P; p++) s += load<real>(row + (p << SHIFT));
      store<real>(db + (f << SHIFT), load<real>(db + (f << SHIFT)) + s);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Backward in chunks of images, for threads with the same bits for any thread count.
//
// dw and db are sums over all N images. The host cuts the batch into `chunks` = ceil(N / G)
// chunks of G images, G chosen from the sizes alone (never the thread count). Chunk q writes its
// own partial sums to its own slice of `partials` (F·K reals of dw, then F of db); a task runs a
// range of chunks (one wasm call: im2col + GEMMs for each of its images, with the task's own
// scratch); sum_chunks then adds the partials in chunk order. One thread runs the very same
// chunks, so 1 and 16 threads give the same bits. dx is per image, so any split gives its bits.
//
// Summation order (sizes only): dbq[f] = Σ_{n in chunk q, ascending} rowsum(dout[n, f, :]) with
// rowsum as in conv_bias_backward; dwq = Σ_{n in chunk q} dout[n] · cols[n]ᵀ as successive
// accumulating GEMMs (gemm.ts's order within each); dw = ((dw_0 + dw_1) + dw_2) + ..., db likewise.

/** Reals in one chunk's slice of the partial buffer: dw (F, K) then db (F). */
export function conv_chunk_reals(F: usize, K: usize): usize {
  return F * K + F;
}

/**
 * Scratch bytes one task of conv_backward_chunks needs: the image's cols (K, P) (none for a
 * pointwise conv: 1x1, stride 1, no pad, where cols is the image itself), 16-byte aligned, then
 * the GEMM's packing work for dw (F,K) over P and dcols (K,P) over F.
 */
export function conv_backward_work_bytes(F: usize, K: usize, P: usize, pointwise: bool): usize {
  const cols: usize = pointwise ? 0 : ((K * P) << SHIFT) + 15 & ~15;
  return cols + max(gemm_work_bytes(F, K, P), gemm_work_bytes(K, P, F));
}

/**
 * Chunks [c0, c1) of the chunked backward (see above). dx: (N, C, H, W) or 0 to skip it (images
 * of these chunks written, overwritten); partials: chunks x conv_chunk_reals(F, K) reals
 * (slices c0..c1 overwritten); dout: (N, F, Ho, Wo); x: (N, C, H, W); w: (F, C, HH, WW); chunk q
 * holds images [q·G, min(N, (q+1)·G)). work: conv_backward_work_bytes(...) bytes of this
 * task's own scratch, 16-byte aligned. Preconditions: G >= 1, c0 <= c1 <= ceil(N / G).
 */
export function conv_backward_chunks(
  dx: usize, partials: usize, dout: usize, x: usize, w: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, G: i32, c0: i32, c1: i32, work: usize,
): void {
  const K = <usize>(C * HH * WW);
  const P = <usize>(Ho * Wo);
  const Fu = <usize>F;
  const pointwise = HH == 1 && WW == 1 && stride == 1 && pad == 0;
  const cols = work;
  const gemmWork = pointwise ? work : work + (((K * P) << SHIFT) + 15 & ~15);
  const slice = conv_chunk_reals(Fu, K) << SHIFT;
  const imageBytes = <usize>(C * H * W) << SHIFT;
  const doutBytes = (Fu * P) << SHIFT;
  for (let q = c0; q < c1; q++) {
    const dwq = partials + <usize>q * slice;
    const dbq = dwq + ((Fu * K) << SHIFT);
    const n0 = q * G, n1 = min(N, n0 + G);
    conv_bias_backward(dbq, dout + <usize>n0 * doutBytes, <usize>(n1 - n0), Fu, P);
    for (let n = n0; n < n1; n++) {
      const xn = x + <usize>n * imageBytes;
      const gn = dout + <usize>n * doutBytes;
      let src = xn;
      if (!pointwise) {
        im2col(cols, xn, C, H, W, HH, WW, stride, pad, Ho, Wo);
        src = cols;
      }
      // dwq (F, K) (+)= dout[n] (F, P) · cols (K, P)ᵀ
      gemm(dwq, K << SHIFT, gn, P << SHIFT, src, P << SHIFT, Fu, K, P, 0, n > n0, gemmWork, false, true);
      if (!dx) continue;
      const dxn = dx + <usize>n * imageBytes;
      // dcols (K, P) = w (F, K)ᵀ · dout[n] (F, P), scattered back onto the image
      if (pointwise) {
        gemm(dxn, P << SHIFT, w, K << SHIFT, gn, P << SHIFT, K, P, Fu, 0, false, gemmWork, true, false);
      } else {
        gemm(cols, P << SHIFT, w, K << SHIFT, gn, P << SHIFT, K, P, Fu, 0, false, gemmWork, true, false);
        col2im(dxn, cols, C, H, W, HH, WW, stride, pad, Ho, Wo);
      }
    }
  }
}

/**
 * dst[e] = Σ_{q = 0..chunks-1, ascending} src[q·stride + e] for e in [e0, e1): the fixed-order
 * sum of per-chunk partials (the first term is taken as is, so -0 survives). dst: (>= e1);
 * src: chunks x stride reals. Each element's order is the same in the vector body and the tail.
 */
export function sum_chunks(dst: usize, src: usize, chunks: usize, stride: usize, e0: usize, e1: usize): void {
  if (chunks == 0) return;
  const sb = stride << SHIFT;
  let e = e0;
  for (; e + LANES <= e1; e += LANES) {
    const o = e << SHIFT;
    let acc = v128.load(src + o);
    for (let q: usize = 1; q < chunks; q++) acc = v128.add<real>(acc, v128.load(src + q * sb + o));
    v128.store(dst + o, acc);
  }
  for (; e < e1; e++) {
    const o = e << SHIFT;
    let acc = load<real>(src + o);
    for (let q: usize = 1; q < chunks; q++) acc += load<real>(src + q * sb + o);
    store<real>(dst + o, acc);
  }
}

// ---------------------------------------------------------------------------------------------
// Fused forward: out = [relu](w · im2col(x) + b) for N images in one call, with no cols matrix.
//
// The GEMM's B operand (cols) is never materialized. Each 4-filter x PX-pixel tile (PX = 2·LANES:
// 4x8 f32, 4x4 f64) runs the loop of gemm.ts's microkernel over a K x PX "panel" of cols (32 B a
// row in both types):
//  - stride 1 and Wo a multiple of PX (every PX-pixel block lies in one output row): each image is
//    copied into a zero-padded buffer once, and panel row k is read IN PLACE as the PX reals at
//    block base + offs[k] (a K-entry offset table built once per call): no packing at all;
//  - otherwise the panel is packed from x (stride 1 rows in one output row: two masked v128
//    loads per row; else a checked gather) and reused by every tile of the block from L1.
// The weights are packed once per call (splatted, the layout gemm.ts's microkernel reads), not
// once per image. Bias (per filter, i.e. per row) and ReLU are applied in the tile's epilogue.
//
// Summation order (depends only on the sizes): for each output element,
//   s = Σ_{k = 0..K-1 ascending} w[f, k]·cols[k, p]  (one lane, products added one at a time,
//       padding positions included as w·0),  r = s + b[f],  out = relu ? (r <= 0 ? 0 : r) : r.
// Strict SIMD128 (mul then add), so every engine gives the same bits as the scalar twin.

/**
 * Scratch bytes conv_forward needs for F filters over C x H x W images with HH x WW windows
 * and padding `pad`: splatted weights (F rounded up to 4) x K x 16 B, one K x PX pixel panel
 * (K·32 B), max(128, K·32) bytes for an edge tile or the packer's lane masks, a zero-padded image
 * C x (H + 2 pad) x (W + 2 pad) (counted in 4-byte words: 1 per f32, 2 per f64) and K u32 row
 * offsets (K = C·HH·WW).
 */
export function conv_forward_work_bytes(F: usize, C: usize, H: usize, W: usize, HH: usize, WW: usize, pad: usize): usize {
  const K = C * HH * WW;
  return ((F + 3) & ~3) * K * 16 + K * 32 + max<usize>(128, K * 32) + ((C * (H + 2 * pad) * (W + 2 * pad) * (sizeof<real>() >> 2) + K) << 2);
}

/**
 * Images [n0, n1) of a batch of N: conv_forward on that slice (out and x offset to image n0).
 * The split entry point: threads take image ranges, each with its own work.
 */
export function conv_forward_images(
  out: usize, x: usize, w: usize, b: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool, work: usize, n0: i32, n1: i32,
): void {
  if (n1 > N) n1 = N;
  if (n0 < 0 || n0 >= n1) return;
  conv_forward(out + (<usize>(n0 * F * Ho * Wo) << SHIFT), x + (<usize>(n0 * C * H * W) << SHIFT), w, b, n1 - n0, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, work);
}

/**
 * out (N, F, Ho, Wo) = [relu](conv(x, w) + b) for x (N, C, H, W), w (F, C, HH, WW), b (F), zero
 * padding `pad`, `stride` >= 1, Ho and Wo from the formula at the top of this file. `work`: at
 * least conv_forward_work_bytes(F, C, H, W, HH, WW, pad) bytes, 16-byte aligned. out
 * overlaps nothing.
 */
export function conv_forward(
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
  const offs = xpad + (<usize>(C * Hq * Wq) << SHIFT);
  packSplatTransposed(packedW, w, K << SHIFT, K, <usize>F);
  // Stride 1 with whole PX-pixel panels in every output row: the tiles read their panel rows in
  // place from a zero-padded copy of the image (row k of the panel at (oh, ow0) is the PX reals
  // at xpad + ((oh·Wq + ow0) << SHIFT) + offs[k]), so nothing is packed. Otherwise panels are packed.
  const direct = stride == 1 && Wo % PX == 0;
  if (direct) {
    zeroReals(xpad, <usize>(C * Hq * Wq)); // the border stays zero; each image fills the inside
    let k = 0;
    for (let c = 0; c < C; c++) {
      for (let ki = 0; ki < HH; ki++) {
        for (let kj = 0; kj < WW; kj++) {
          store<u32>(offs + (<usize>k << 2), <u32>(((c * Hq + ki) * Wq + kj) << <i32>SHIFT));
          k++;
        }
      }
    }
  }
  const ldo = <usize>P << SHIFT;
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * C * H * W) << SHIFT);
    const on = out + (<usize>(n * F * P) << SHIFT);
    if (direct) {
      for (let c = 0; c < C; c++) {
        for (let ih = 0; ih < H; ih++) {
          copyReals(xpad + (<usize>((c * Hq + ih + pad) * Wq + pad) << SHIFT), xn + (<usize>((c * H + ih) * W) << SHIFT), <usize>W);
        }
      }
    }
    for (let p0 = 0; p0 < P; p0 += PX) {
      let bp = panel, ko: usize = 0;
      if (direct) {
        bp = xpad + (<usize>((p0 / Wo) * Wq + p0 % Wo) << SHIFT);
        ko = offs;
      } else packPixels(panel, xn, C, H, W, HH, WW, stride, pad, Wo, P, p0, edge);
      const nv = min(PX, P - p0);
      for (let f0 = 0; f0 < F; f0 += 4) {
        const ap = packedW + ((<usize>f0 * K) << 4);
        const o = on + (<usize>(f0 * P + p0) << SHIFT);
        const bf = b + (<usize>f0 << SHIFT);
        // One (inlined) tile call site: full tiles store in place, edge tiles go through `edge`.
        const full = nv == PX && f0 + 4 <= F;
        convTile(ap, bp, ko, K, full ? o : edge, full ? ldo : 32, bf, relu, full ? TILE_STORE : TILE_RAW);
        if (!full) mergeConvEdge(o, ldo, edge, min(4, F - f0), nv, bf, relu);
      }
    }
  }
}

/**
 * The K x PX panel of cols for pixels p0 .. p0+PX-1 (pixels past P are zero): row k = (c, ki, kj)
 * at panel + k*32 holds x[c, oh·stride - pad + ki, ow·stride - pad + kj] of each pixel (oh, ow).
 * `lanes`: scratch of max(64, WW·32) bytes (lane masks or per-pixel offsets).
 */
function packPixels(
  panel: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Wo: i32, P: i32, p0: i32, lanes: usize,
): void {
  const z = v128.splat<real>(0);
  const oh = p0 / Wo, ow0 = p0 % Wo;
  let d = panel;
  if (stride == 1 && ow0 + PX <= Wo) {
    // One output row, stride 1: row (c, ki, kj) is the PX reals at x[c, ih0 + ki, iwBase + kj].
    // They are loaded whole and ANDed with a lane mask per kj (lanes whose column falls outside
    // [0, W) are padding): 2 loads, 2 ands, 2 stores a row, no branch. Loads that would leave
    // the image (first/last rows) take the checked path instead.
    const ih0 = oh - pad;
    const iwBase = ow0 - pad;
    const lanesLo = i32x4(0, 1, 2, 3), lanesHi = i32x4(4, 5, 6, 7);
    const wv = i32x4.splat(W), neg1 = i32x4.splat(-1);
    // The masks need the lane width of `real`: 32-bit lanes for pixels 0..3 and 4..7 (f32);
    // for f64 the 32-bit masks of pixels 0..3, sign-extended to 64-bit lanes (0, 1) and (2, 3).
    if (FLOAT32) {
      for (let kj = 0; kj < WW; kj++) {
        const i0 = i32x4.add(i32x4.splat(iwBase + kj), lanesLo), i1 = i32x4.add(i32x4.splat(iwBase + kj), lanesHi);
        v128.store(lanes + (<usize>kj << 5), v128.and(i32x4.gt_s(i0, neg1), i32x4.lt_s(i0, wv)), 0);
        v128.store(lanes + (<usize>kj << 5), v128.and(i32x4.gt_s(i1, neg1), i32x4.lt_s(i1, wv)), 16);
      }
    } else {
      for (let kj = 0; kj < WW; kj++) {
        const i0 = i32x4.add(i32x4.splat(iwBase + kj), lanesLo);
        const m0 = v128.and(i32x4.gt_s(i0, neg1), i32x4.lt_s(i0, wv));
        v128.store(lanes + (<usize>kj << 5), i64x2.extend_low_i32x4_s(m0), 0);
        v128.store(lanes + (<usize>kj << 5), i64x2.extend_high_i32x4_s(m0), 16);
      }
    }
    const lo = <isize>x, hi = <isize>(x + (<usize>(C * H * W) << SHIFT));
    const first = <isize>iwBase << SHIFT, last = <isize>(iwBase + WW - 1 + PX) << SHIFT; // byte range read from a row
    for (let c = 0; c < C; c++) {
      const plane = x + (<usize>(c * H * W) << SHIFT);
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
        const row = <isize>(plane + (<usize>(ih * W) << SHIFT));
        if (row + first >= lo && row + last <= hi) {
          let s = <usize>(row + first);
          let m = lanes;
          const end = d + (<usize>WW << 5);
          while (d < end) {
            v128.store(d, v128.and(v128.load(s, 0), v128.load(m, 0)), 0);
            v128.store(d, v128.and(v128.load(s, 16), v128.load(m, 16)), 16);
            s += sizeof<real>();
            m += 32;
            d += 32;
          }
        } else {
          for (let kj = 0; kj < WW; kj++) {
            const iw0 = iwBase + kj;
            for (let j = 0; j < PX; j++) {
              const iw = iw0 + j;
              store<real>(d + (<usize>j << SHIFT), iw >= 0 && iw < W ? load<real>(<usize>row + (<usize>iw << SHIFT)) : 0);
            }
            d += 32;
          }
        }
      }
    }
    return;
  }
  // Any other case (stride > 1, pixels spanning output rows or past P): per-lane offsets, a checked gather.
  for (let j = 0; j < PX; j++) {
    const p = p0 + j;
    const valid = p < P;
    store<i32>(lanes + (<usize>j << 2), valid ? (p / Wo) * stride - pad : -0x40000000); // ih of ki = 0
    store<i32>(lanes + (<usize>j << 2), valid ? (p % Wo) * stride - pad : 0, 32); // iw of kj = 0
  }
  gatherLanes(panel, x, C, H, W, HH, WW, lanes);
}

/**
 * The K x PX panel from per-lane offsets: lane j reads x[c, ih_j + ki, iw_j + kj] (0 outside the
 * image) with ih_j, iw_j the i32s at lanes + 4j and lanes + 32 + 4j (ih_j very negative: a lane
 * with no pixel).
 */
function gatherLanes(panel: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, lanes: usize): void {
  let d = panel;
  for (let c = 0; c < C; c++) {
    const plane = x + (<usize>(c * H * W) << SHIFT);
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        for (let j = 0; j < PX; j++) {
          const ih = load<i32>(lanes + (<usize>j << 2)) + ki;
          const iw = load<i32>(lanes + (<usize>j << 2), 32) + kj;
          const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
          store<real>(d + (<usize>j << SHIFT), inside ? load<real>(plane + (<usize>(ih * W + iw) << SHIFT)) : 0);
        }
        d += 32;
      }
    }
  }
}

/**
 * 4 filters x PX pixels: the loop of gemm.ts's microkernel4x2v (ap: K x 4 splatted weights, bp:
 * the K x PX pixel panel), then r = s + b[row] and ReLU, stored to 4 rows ldo bytes apart.
 * mode TILE_STORE: the 4 x PX results; TILE_RAW: the sums s only (edge tiles, finished by
 * mergeConvEdge). Inlined (one call site): the call costs ~7% at K = 27.
 */
@inline function convTile(ap: usize, bp: usize, offs: usize, K: usize, out: usize, ldo: usize, bias: usize, relu: bool, mode: i32): void {
  let c0l = v128.splat<real>(0), c0h = v128.splat<real>(0);
  let c1l = v128.splat<real>(0), c1h = v128.splat<real>(0);
  let c2l = v128.splat<real>(0), c2h = v128.splat<real>(0);
  let c3l = v128.splat<real>(0), c3h = v128.splat<real>(0);
  if (offs) {
    // Row k of the panel read in place: the PX reals at bp + offs[k] (the padded image).
    const end = offs + (K << 2);
    while (offs < end) {
      const b = bp + <usize>load<u32>(offs);
      const bl = v128.load(b, 0), bh = v128.load(b, 16);
      let av = v128.load(ap, 0);
      c0l = v128.add<real>(c0l, v128.mul<real>(av, bl)); c0h = v128.add<real>(c0h, v128.mul<real>(av, bh));
      av = v128.load(ap, 16);
      c1l = v128.add<real>(c1l, v128.mul<real>(av, bl)); c1h = v128.add<real>(c1h, v128.mul<real>(av, bh));
      av = v128.load(ap, 32);
      c2l = v128.add<real>(c2l, v128.mul<real>(av, bl)); c2h = v128.add<real>(c2h, v128.mul<real>(av, bh));
      av = v128.load(ap, 48);
      c3l = v128.add<real>(c3l, v128.mul<real>(av, bl)); c3h = v128.add<real>(c3h, v128.mul<real>(av, bh));
      ap += 64;
      offs += 4;
    }
  } else {
    const end = bp + (K << 5);
    while (bp < end) {
      const bl = v128.load(bp, 0), bh = v128.load(bp, 16);
      let av = v128.load(ap, 0);
      c0l = v128.add<real>(c0l, v128.mul<real>(av, bl)); c0h = v128.add<real>(c0h, v128.mul<real>(av, bh));
      av = v128.load(ap, 16);
      c1l = v128.add<real>(c1l, v128.mul<real>(av, bl)); c1h = v128.add<real>(c1h, v128.mul<real>(av, bh));
      av = v128.load(ap, 32);
      c2l = v128.add<real>(c2l, v128.mul<real>(av, bl)); c2h = v128.add<real>(c2h, v128.mul<real>(av, bh));
      av = v128.load(ap, 48);
      c3l = v128.add<real>(c3l, v128.mul<real>(av, bl)); c3h = v128.add<real>(c3h, v128.mul<real>(av, bh));
      ap += 64;
      bp += 32;
    }
  }
  if (mode != TILE_RAW) {
    let bv = v128.load_splat<real>(bias, 0);
    c0l = v128.add<real>(c0l, bv); c0h = v128.add<real>(c0h, bv);
    bv = v128.load_splat<real>(bias, sizeof<real>());
    c1l = v128.add<real>(c1l, bv); c1h = v128.add<real>(c1h, bv);
    bv = v128.load_splat<real>(bias, 2 * sizeof<real>());
    c2l = v128.add<real>(c2l, bv); c2h = v128.add<real>(c2h, bv);
    bv = v128.load_splat<real>(bias, 3 * sizeof<real>());
    c3l = v128.add<real>(c3l, bv); c3h = v128.add<real>(c3h, bv);
    if (relu) {
      // Keep lanes where !(v <= 0), as relu does (NaN stays, -0 becomes +0).
      const z = v128.splat<real>(0);
      c0l = v128.andnot(c0l, v128.le<real>(c0l, z)); c0h = v128.andnot(c0h, v128.le<real>(c0h, z));
      c1l = v128.andnot(c1l, v128.le<real>(c1l, z)); c1h = v128.andnot(c1h, v128.le<real>(c1h, z));
      c2l = v128.andnot(c2l, v128.le<real>(c2l, z)); c2h = v128.andnot(c2h, v128.le<real>(c2h, z));
      c3l = v128.andnot(c3l, v128.le<real>(c3l, z)); c3h = v128.andnot(c3h, v128.le<real>(c3h, z));
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
    const bi = load<real>(bias + (<usize>i << SHIFT));
    for (let j = 0; j < cols; j++) {
      let r = load<real>(tile + (<usize>(i * PX + j) << SHIFT)) + bi;
      if (relu && r <= 0) r = 0;
      store<real>(out + <usize>i * ldo + (<usize>j << SHIFT), r);
    }
  }
}
