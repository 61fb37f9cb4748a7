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

import { gemm_work_bytes, gemm } from "./gemm";
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
// Each 4-filter x PX-pixel tile (PX = 2·LANES: 4x8 f32, 4x4 f64) runs the loop of gemm.ts's
// microkernel over a K x PX "panel" of cols (32 B a row in both types), packed once per block of
// PX pixels and read from L1 by every filter tile of the block. The weights are packed once per
// call, 4 filters interleaved (conv_forward_pack), and broadcast in the tile (load_splat: a
// quarter of the bytes of gemm.ts's splatted panels, which matters when F·K is large).
//
// Pixels are numbered across a group of PX / gcd(P, PX) images, so the group's pixels fill whole
// blocks (a 7x7 map would otherwise waste 7 of every 8 lanes of its last block): a block may span
// output rows and images. The group is copied into a zero-padded buffer, so the packer reads
// without bounds checks (with pad = 0 the input is read in place). A panel row is then one or
// two runs of pixels whose inputs lie 1 or 2 apart: two v128 loads per run (stride 1) or four and
// two shuffles (stride 2), the runs blended with a lane mask. Other blocks (stride > 2, maps
// narrower than a block) are gathered lane by lane. Blocks that fill PX consecutive outputs of one
// image store in place; the others go through an edge tile and a scatter.
//
// Summation order (depends only on the sizes): for each output element,
//   s = Σ_{k = 0..K-1 ascending} w[f, k]·cols[k, p]  (one lane, products added one at a time,
//       padding positions included as w·0),  r = s + b[f],  out = relu ? (r <= 0 ? 0 : r) : r.
// Strict SIMD128 (mul then add), so every engine gives the same bits as the scalar twin.

function gcd(a: i32, b: i32): i32 {
  while (b) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Images padded at once: their pixels fill whole PX-pixel blocks. */
@inline function groupImages(P: i32): i32 {
  return PX / gcd(P, PX);
}

/** Reals of the packed weights: F rounded up to 4, times K. */
export function conv_forward_packed_reals(F: usize, K: usize): usize {
  return ((F + 3) & ~3) * K;
}

/**
 * wp (ceil(F/4), K, 4) = the weights w (F, K), 4 filters interleaved: wp[g][k][r] = w[4g + r, k]
 * (0 past F). The tile broadcasts the 4 values of each k.
 */
export function conv_forward_pack(wp: usize, w: usize, F: i32, K: i32): void {
  const z = v128.splat<real>(0);
  const Ku = <usize>K;
  for (let f0 = 0; f0 < F; f0 += 4) {
    const rows = min(4, F - f0);
    const r0 = w + ((<usize>f0 * Ku) << SHIFT);
    const r1 = r0 + (Ku << SHIFT), r2 = r1 + (Ku << SHIFT), r3 = r2 + (Ku << SHIFT);
    let d = wp + ((<usize>f0 * Ku) << SHIFT);
    let k: usize = 0;
    // LANES steps of k at a time: a 4 x LANES block of w transposed into LANES rows of 4.
    for (; k + LANES <= Ku; k += LANES) {
      const o = k << SHIFT;
      const x0 = v128.load(r0 + o);
      const x1 = rows > 1 ? v128.load(r1 + o) : z;
      const x2 = rows > 2 ? v128.load(r2 + o) : z;
      const x3 = rows > 3 ? v128.load(r3 + o) : z;
      if (FLOAT32) {
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 0);
        v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
      } else {
        v128.store(d, v128.shuffle<f64>(x0, x1, 0, 2), 0);
        v128.store(d, v128.shuffle<f64>(x2, x3, 0, 2), 16);
        v128.store(d, v128.shuffle<f64>(x0, x1, 1, 3), 32);
        v128.store(d, v128.shuffle<f64>(x2, x3, 1, 3), 48);
      }
      d += 64;
    }
    for (; k < Ku; k++) {
      const o = k << SHIFT;
      store<real>(d, load<real>(r0 + o));
      store<real>(d, rows > 1 ? load<real>(r1 + o) : 0, sizeof<real>());
      store<real>(d, rows > 2 ? load<real>(r2 + o) : 0, 2 * sizeof<real>());
      store<real>(d, rows > 3 ? load<real>(r3 + o) : 0, 3 * sizeof<real>());
      d += 4 << SHIFT;
    }
  }
}

/**
 * Scratch bytes conv_forward_images needs: one K x PX pixel panel (K·32 B), an edge tile (128 B),
 * the block's lane tables (64 B), K u32 panel-row offsets and, with padding, a zero-padded copy of
 * PX / gcd(Ho·Wo, PX) images (K = C·HH·WW).
 */
export function conv_forward_images_work_bytes(C: usize, H: usize, W: usize, HH: usize, WW: usize, pad: usize, Ho: usize, Wo: usize): usize {
  const K = C * HH * WW;
  const G = <usize>groupImages(<i32>(Ho * Wo));
  const xpad = pad ? (G * C * (H + 2 * pad) * (W + 2 * pad)) << SHIFT : 0;
  return ((xpad + 15) & ~15) + (K << 5) + 128 + 64 + ((K << 2) + 15 & ~15);
}

/** Scratch bytes conv_forward needs: the packed weights, then conv_forward_images' work. */
export function conv_forward_work_bytes(F: usize, C: usize, H: usize, W: usize, HH: usize, WW: usize, pad: usize, Ho: usize, Wo: usize): usize {
  const packed = (conv_forward_packed_reals(F, C * HH * WW) << SHIFT) + 15 & ~15;
  return packed + conv_forward_images_work_bytes(C, H, W, HH, WW, pad, Ho, Wo);
}

/**
 * out (N, F, Ho, Wo) = [relu](conv(x, w) + b) for x (N, C, H, W), w (F, C, HH, WW), b (F), zero
 * padding `pad`, `stride` >= 1, Ho and Wo from the formula at the top of this file. `work`: at
 * least conv_forward_work_bytes(F, C, H, W, HH, WW, pad, Ho, Wo) bytes, 16-byte aligned. out
 * overlaps nothing.
 */
export function conv_forward(
  out: usize, x: usize, w: usize, b: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool, work: usize,
): void {
  const K = C * HH * WW;
  if (N <= 0 || F <= 0 || Ho * Wo <= 0 || K == 0) return;
  conv_forward_pack(work, w, F, K);
  const rest = work + ((conv_forward_packed_reals(<usize>F, <usize>K) << SHIFT) + 15 & ~15);
  conv_forward_images(out, x, work, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, rest, 0, N);
}

/**
 * Images [n0, n1) of the batch: conv_forward with the weights packed by conv_forward_pack (wp),
 * the split entry point (threads take image ranges, each with its own work of
 * conv_forward_images_work_bytes(...) bytes, 16-byte aligned; wp is shared and only read).
 */
export function conv_forward_images(
  out: usize, x: usize, wp: usize, b: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool, work: usize, n0: i32, n1: i32,
): void {
  if (n1 > N) n1 = N;
  if (n0 < 0 || n0 >= n1) return;
  const K = <usize>(C * HH * WW);
  const P = Ho * Wo;
  if (F <= 0 || P <= 0 || K == 0) return;
  const Hq = H + 2 * pad, Wq = W + 2 * pad;
  const G = pad ? groupImages(P) : n1 - n0; // unpadded images are read in place, all as one group
  const imgBytes = <usize>(C * Hq * Wq) << SHIFT;
  const xpad = work;
  const panel = xpad + ((pad ? <usize>G * imgBytes : 0) + 15 & ~15);
  const edge = panel + (K << 5);
  const lanes = edge + 128; // PX u32 window bases, then PX u32 output offsets
  const offs = lanes + 64;
  let k = 0;
  for (let c = 0; c < C; c++) {
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        store<u32>(offs + (<usize>k << 2), <u32>(((c * Hq + ki) * Wq + kj) << <i32>SHIFT));
        k++;
      }
    }
  }
  if (pad) zeroReals(xpad, <usize>G * (imgBytes >> SHIFT)); // the borders stay zero
  const ldo = <usize>P << SHIFT;
  const imgOut = <usize>F * ldo;
  const xBytes = <usize>(C * H * W) << SHIFT;
  for (let g0 = n0; g0 < n1; g0 += G) {
    const g = min(G, n1 - g0);
    let src = x + <usize>g0 * xBytes;
    if (pad) {
      for (let i = 0; i < g; i++) {
        const xi = src + <usize>i * xBytes;
        const xq = xpad + <usize>i * imgBytes + (<usize>(pad * Wq + pad) << SHIFT);
        for (let row = 0; row < C * H; row++) {
          const c = row / H;
          copyReals(xq + (<usize>((c * Hq + row % H) * Wq) << SHIFT), xi + (<usize>(row * W) << SHIFT), <usize>W);
        }
      }
      src = xpad;
    }
    const limit = src + <usize>g * imgBytes;
    const on = out + <usize>g0 * imgOut;
    const total = g * P;
    // Where the next pixel is: image, index in its map, row and column.
    let img = 0, r = 0, oh = 0, ow = 0;
    for (let q0 = 0; q0 < total; q0 += PX) {
      const nv = min(PX, total - q0);
      for (let j = 0; j < nv; j++) {
        store<u32>(lanes + (<usize>j << 2), <u32>(<usize>img * imgBytes + (<usize>((oh * Wq + ow) * stride) << SHIFT)));
        store<u32>(lanes + (<usize>j << 2), <u32>(<usize>img * imgOut + (<usize>r << SHIFT)), 32);
        r++;
        if (++ow == Wo) {
          ow = 0;
          oh++;
        }
        if (r == P) {
          r = 0;
          oh = 0;
          img++;
        }
      }
      for (let j = nv; j < PX; j++) {
        store<u32>(lanes + (<usize>j << 2), load<u32>(lanes));
        store<u32>(lanes + (<usize>j << 2), load<u32>(lanes, 32), 32);
      }
      packPanel(panel, src, limit, offs, K, stride, lanes);
      const first = <usize>load<u32>(lanes, 32);
      const inPlace = nv == PX && <usize>load<u32>(lanes, 32 + 4 * (PX - 1)) == first + (<usize>(PX - 1) << SHIFT);
      for (let f0 = 0; f0 < F; f0 += 4) {
        const ap = wp + ((<usize>f0 * K) << SHIFT);
        const bf = b + (<usize>f0 << SHIFT);
        // One (inlined) tile call site: full tiles store in place, the others go through `edge`.
        const full = inPlace && f0 + 4 <= F;
        const o = on + first + <usize>f0 * ldo;
        convTile(ap, panel, K, full ? o : edge, full ? ldo : 32, bf, relu, full ? TILE_STORE : TILE_RAW);
        if (!full) scatterConvEdge(on, ldo, edge, f0, min(4, F - f0), nv, bf, relu, lanes + 32);
      }
    }
  }
}

/**
 * The K x PX panel of the block whose window bases (bytes from src, the u32s at `lanes`) are
 * given: row k lane j = src[base_j + offs[k]]. Never reads at or past `limit`, nor before src.
 */
function packPanel(panel: usize, src: usize, limit: usize, offs: usize, K: usize, stride: i32, lanes: usize): void {
  const step = <usize>stride << SHIFT;
  const b0 = <usize>load<u32>(lanes);
  const end = offs + (K << 2);
  const span = <usize>load<u32>(offs + ((K - 1) << 2)); // the largest offset
  // Lanes [0, s) run from b0, lanes [s, t) from bs, one stride apart.
  let s = 1;
  while (s < PX && <usize>load<u32>(lanes + (<usize>s << 2)) == b0 + <usize>s * step) s++;
  const bs = s < PX ? <usize>load<u32>(lanes + (<usize>s << 2)) : b0 + <usize>s * step;
  let t = s + 1;
  while (t < PX && <usize>load<u32>(lanes + (<usize>t << 2)) == bs + <usize>(t - s) * step) t++;
  // Each half-row load reads LANES values one stride apart from its first lane's input (the
  // stride-2 shuffle one value more); run 2 is loaded as if it began at lane 0.
  const reach = <usize>PX * step + span;
  if ((stride == 1 || stride == 2) && t >= PX && bs >= <usize>s * step) {
    const s2 = bs - <usize>s * step;
    if (src + max(b0, s2) + reach <= limit) {
      const r1 = src + b0, r2 = src + s2;
      const half = <usize>LANES * step;
      let d = panel;
      if (s == PX) {
        for (let o = offs; o < end; o += 4) {
          const a = r1 + <usize>load<u32>(o);
          v128.store(d, loadRun(a, stride), 0);
          v128.store(d, loadRun(a + half, stride), 16);
          d += 32;
        }
      } else {
        const m0 = lanesBelow(s), m1 = lanesBelow(s - <i32>LANES);
        for (let o = offs; o < end; o += 4) {
          const oo = <usize>load<u32>(o);
          const a = r1 + oo, c = r2 + oo;
          v128.store(d, v128.bitselect(loadRun(a, stride), loadRun(c, stride), m0), 0);
          v128.store(d, v128.bitselect(loadRun(a + half, stride), loadRun(c + half, stride), m1), 16);
          d += 32;
        }
      }
      return;
    }
  }
  for (let j = 0; j < PX; j++) {
    const sj = src + <usize>load<u32>(lanes + (<usize>j << 2));
    let d = panel + (<usize>j << SHIFT);
    for (let o = offs; o < end; o += 4) {
      store<real>(d, load<real>(sj + <usize>load<u32>(o)));
      d += 32;
    }
  }
}

/** LANES values one stride (1 or 2) apart from a. */
@inline function loadRun(a: usize, stride: i32): v128 {
  if (stride == 1) return v128.load(a);
  return FLOAT32 ? v128.shuffle<f32>(v128.load(a), v128.load(a, 16), 0, 2, 4, 6) : v128.shuffle<f64>(v128.load(a), v128.load(a, 16), 0, 2);
}

/** All ones in lanes i < s (i = 0 .. LANES-1), in the lane width of `real`. */
@inline function lanesBelow(s: i32): v128 {
  return FLOAT32 ? i32x4.gt_s(i32x4.splat(s), i32x4(0, 1, 2, 3)) : i64x2.gt_s(i64x2.splat(s), i64x2(0, 1));
}

/**
 * 4 filters x PX pixels: the loop of gemm.ts's microkernel4x2v (ap: K steps of 4 interleaved
 * weights, broadcast; bp: the K x PX pixel panel), then r = s + b[row] and ReLU, stored to 4 rows
 * ldo bytes apart. mode TILE_STORE: the 4 x PX results; TILE_RAW: the sums s only (edge tiles,
 * finished by scatterConvEdge). Inlined (one call site): the call costs ~7% at K = 27.
 */
@inline function convTile(ap: usize, bp: usize, K: usize, out: usize, ldo: usize, bias: usize, relu: bool, mode: i32): void {
  let c0l = v128.splat<real>(0), c0h = v128.splat<real>(0);
  let c1l = v128.splat<real>(0), c1h = v128.splat<real>(0);
  let c2l = v128.splat<real>(0), c2h = v128.splat<real>(0);
  let c3l = v128.splat<real>(0), c3h = v128.splat<real>(0);
  const end = bp + (K << 5);
  while (bp < end) {
    const bl = v128.load(bp, 0), bh = v128.load(bp, 16);
    let av = v128.load_splat<real>(ap, 0);
    c0l = v128.add<real>(c0l, v128.mul<real>(av, bl)); c0h = v128.add<real>(c0h, v128.mul<real>(av, bh));
    av = v128.load_splat<real>(ap, sizeof<real>());
    c1l = v128.add<real>(c1l, v128.mul<real>(av, bl)); c1h = v128.add<real>(c1h, v128.mul<real>(av, bh));
    av = v128.load_splat<real>(ap, 2 * sizeof<real>());
    c2l = v128.add<real>(c2l, v128.mul<real>(av, bl)); c2h = v128.add<real>(c2h, v128.mul<real>(av, bh));
    av = v128.load_splat<real>(ap, 3 * sizeof<real>());
    c3l = v128.add<real>(c3l, v128.mul<real>(av, bl)); c3h = v128.add<real>(c3h, v128.mul<real>(av, bh));
    ap += 4 << SHIFT;
    bp += 32;
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

/**
 * The valid rows x cols corner of a raw edge tile (rows 32 bytes apart): r = s + b[row], ReLU,
 * lane j to out row f0 + i at on + outOffs[j] (u32 byte offsets).
 */
function scatterConvEdge(on: usize, ldo: usize, tile: usize, f0: i32, rows: i32, cols: i32, bias: usize, relu: bool, outOffs: usize): void {
  for (let i = 0; i < rows; i++) {
    const bi = load<real>(bias + (<usize>i << SHIFT));
    const row = on + <usize>(f0 + i) * ldo;
    for (let j = 0; j < cols; j++) {
      let r = load<real>(tile + (<usize>(i * PX + j) << SHIFT)) + bi;
      if (relu && r <= 0) r = 0;
      store<real>(row + <usize>load<u32>(outOffs + (<usize>j << 2)), r);
    }
  }
}
