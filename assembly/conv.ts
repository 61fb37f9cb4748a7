// Convolution over `real` (f32 or f64, see real.ts): the products of im2col + GEMM, computed by
// register tiles of their own (the loop of gemm.ts's 4 x 8 microkernel) on operands packed for
// the convolution, with the same sums as gemm.ts (so the bits of the first release's im2col +
// GEMM pipeline), and no cols matrix in the forward.
//
// For one image x (C, H, W), a filter window (HH, WW), `stride` >= 1 and zero padding `pad` >= 0:
//   Ho = (H + 2 pad - HH) / stride + 1 (floor),  Wo likewise,  K = C·HH·WW,  P = Ho·Wo
//   cols (K, P): cols[(c·HH + ki)·WW + kj, oh·Wo + ow] = x[c, oh·stride - pad + ki, ow·stride - pad + kj]
//                (0 where the index falls in the padding)
//   forward:   out[n] (F, P) = w (F, K) · cols + b   (conv_forward: 8-pixel panels of cols packed
//              from a padded copy of the images, weights packed once per call)
//   backward:  dw (F, K) += dout[n] (F, P) · colsᵀ   (dwGroup: cols interleaved by 4 taps, dout
//              transposed by 8 filters),  dcols (K, P) = wᵀ · dout[n]  (dcolsGroup: wᵀ packed once
//              per call, dout in blocks of 8 pixels),  dx[n] = col2im(dcols)
//              db[f] = sum over n and p of dout[n, f, p]  (conv_bias_backward)
// The packing is O(K·P) per image, small next to the products' O(F·K·P). Copies use v128 loops
// rather than memory.copy: rows are short (Wo values) and the bulk-memory call costs more than the
// copy at that length.
//
// Contract for every kernel here: pointers to contiguous row-major `real` arrays, element-aligned;
// sizes as above with Ho, Wo >= 1 computed by the caller from the formula; outputs do not overlap
// inputs. Summation order depends on the sizes only, so results are the same bits everywhere.

import { FLOAT32, LANES, SHIFT } from "./real";

/** Pixels per tile of the fused forward (two v128 of a filter's outputs: 8 f32, 4 f64). */
@inline const PX: i32 = 2 * <i32>LANES;

/** Copies n reals (v128 body, scalar tail). */
@inline export function copyReals(dst: usize, src: usize, n: usize): void {
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
@inline export function addReals(dst: usize, src: usize, n: usize): void {
  let i: usize = 0;
  for (; i + LANES <= n; i += LANES) {
    const o = i << SHIFT;
    v128.store(dst + o, v128.add<real>(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) store<real>(dst + (i << SHIFT), load<real>(dst + (i << SHIFT)) + load<real>(src + (i << SHIFT)));
}

/**
 * dst[2i] += src[i] for n reals (dst's odd elements kept bit for bit): per LANES of src, two
 * vectors of dst, added where even and selected back where odd. Never touches dst past 2(n-1).
 */
@inline function addEvenReals(dst: usize, src: usize, n: usize): void {
  const even = FLOAT32 ? i32x4(-1, 0, -1, 0) : i64x2(-1, 0);
  let i: usize = 0;
  for (; i + LANES < n; i += LANES) {
    const s = v128.load(src + (i << SHIFT));
    const d = dst + (i << (SHIFT + 1));
    const d0 = v128.load(d), d1 = v128.load(d, 16);
    // Lane j of the sum vectors holds src[i + j/2]: the even lanes line up with dst[2i .. ].
    const lo = FLOAT32 ? v128.shuffle<f32>(s, s, 0, 0, 1, 1) : v128.shuffle<f64>(s, s, 0, 0);
    const hi = FLOAT32 ? v128.shuffle<f32>(s, s, 2, 2, 3, 3) : v128.shuffle<f64>(s, s, 1, 1);
    v128.store(d, v128.bitselect(v128.add<real>(d0, lo), d0, even));
    v128.store(d, v128.bitselect(v128.add<real>(d1, hi), d1, even), 16);
  }
  for (; i < n; i++) {
    const d = dst + (i << (SHIFT + 1));
    store<real>(d, load<real>(d) + load<real>(src + (i << SHIFT)));
  }
}

/** Sets n reals to 0. */
@inline export function zeroReals(dst: usize, n: usize): void {
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
        im2colRow(cols + ((row * P) << SHIFT), plane, H, W, ki, kj, stride, pad, Ho, Wo);
        row++;
      }
    }
  }
}

/** Row (c, ki, kj) of im2col: dst (Ho·Wo) = the plane's inputs under tap (ki, kj) of every window, 0 in the padding. */
function im2colRow(dst: usize, plane: usize, H: i32, W: i32, ki: i32, kj: i32, stride: i32, pad: i32, Ho: i32, Wo: i32): void {
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
}

/**
 * colsI (ceil(K/4), P, 4) = im2col of one image, 4 rows interleaved: colsI[g][p][r] = cols[4g + r, p]
 * (0 past K), the layout the dw tiles broadcast from. tmp: 4·P reals.
 */
function im2colInterleaved(
  colsI: usize, tmp: usize, x: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32,
): void {
  const K = C * HH * WW, P = Ho * Wo;
  const ld = <usize>P << SHIFT;
  const taps = HH * WW;
  for (let k0 = 0; k0 < K; k0 += 4) {
    for (let r = 0; r < 4; r++) {
      const k = k0 + r;
      const row = tmp + <usize>r * ld;
      if (k >= K) {
        zeroReals(row, <usize>P);
        continue;
      }
      const c = k / taps, t = k % taps;
      im2colRow(row, x + (<usize>(c * H * W) << SHIFT), H, W, t / WW, t % WW, stride, pad, Ho, Wo);
    }
    const d0 = colsI + (<usize>(k0 * P) << SHIFT);
    let p = 0;
    for (; p + <i32>LANES <= P; p += <i32>LANES) {
      const o = <usize>p << SHIFT;
      const d = d0 + (o << 2);
      storeColumns4(d, v128.load(tmp + o), v128.load(tmp + ld + o), v128.load(tmp + 2 * ld + o), v128.load(tmp + 3 * ld + o));
    }
    for (; p < P; p++) {
      const d = d0 + (<usize>(4 * p) << SHIFT);
      for (let r = 0; r < 4; r++) store<real>(d + (<usize>r << SHIFT), load<real>(tmp + <usize>r * ld + (<usize>p << SHIFT)));
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
          } else if (stride == 2) {
            addEvenReals(d, s, n);
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
// range of chunks (one wasm call: the products of each of its images, with the task's own
// scratch); sum_chunks then adds the partials in chunk order. One thread runs the very same
// chunks and adds each partial as it is done (conv_backward), so 1 and 16 threads give the same
// bits. dx is per image, so any split gives its bits.
//
// Summation order (sizes only): dbq[f] = Σ_{n in chunk q, ascending} rowsum(dout[n, f, :]) with
// rowsum as in conv_bias_backward; dwq = Σ_{n in chunk q} dout[n] · cols[n]ᵀ as successive
// accumulating GEMMs (gemm.ts's order within each); dw = ((dw_0 + dw_1) + dw_2) + ..., db likewise.
// dx[n] = col2im(wᵀ · dout[n]), the product summed as gemm.ts would (dcolsGroup).

/** Reals in one chunk's slice of the partial buffer: dw (F, K) then db (F). */
export function conv_chunk_reals(F: usize, K: usize): usize {
  return F * K + F;
}

/** Filters per slice of the dcols sums: gemm.ts's KC, so dx keeps the GEMM's bits. */
const DCOLS_KC: i32 = 256;

/** Reals of the weights packed for the backward: K rounded up to 4, times F. */
export function conv_backward_packed_reals(F: usize, K: usize): usize {
  return ((K + 3) & ~3) * F;
}

/**
 * wt (ceil(K/4), F, 4) = wᵀ for the dcols tiles: wt[g][f][r] = w[f, 4g + r] (0 past K), four
 * consecutive k of one filter row, broadcast in the tile. w: (F, K).
 */
export function conv_backward_pack(wt: usize, w: usize, F: i32, K: i32): void {
  const Ku = <usize>K;
  for (let k0: usize = 0; k0 < Ku; k0 += 4) {
    let d = wt + ((k0 * <usize>F) << SHIFT);
    let s = w + (k0 << SHIFT);
    if (k0 + 4 <= Ku) {
      for (let f = 0; f < F; f++) {
        v128.store(d, v128.load(s));
        if (!FLOAT32) v128.store(d, v128.load(s, 16), 16);
        d += 4 << SHIFT;
        s += Ku << SHIFT;
      }
    } else {
      for (let f = 0; f < F; f++) {
        for (let r: usize = 0; r < 4; r++) store<real>(d + (r << SHIFT), k0 + r < Ku ? load<real>(s + (r << SHIFT)) : 0);
        d += 4 << SHIFT;
        s += Ku << SHIFT;
      }
    }
  }
}

/** Filters per dw tile: two v128 (8 f32, 4 f64). */
@inline const FT: i32 = 2 * <i32>LANES;
/** Pixels per slice of the dw sums: gemm.ts's KC (the GEMM dw = dout · colsᵀ sums over k = P). */
const DW_KC: i32 = 256;

/**
 * Bytes of scratch per image of a group: its im2col with 4 rows interleaved (K rounded up to 4,
 * times P; then its dcols (K, P)), its gradient transposed by FT filters (for dw) and in blocks
 * of PX pixels (for dcols).
 */
function backwardImageBytes(F: usize, K: usize, P: usize): usize {
  const Pb = (P + <usize>PX - 1) & ~(<usize>PX - 1);
  return align16(((K + 3) & ~3) * P << SHIFT) + align16(((F + <usize>FT - 1) & ~(<usize>FT - 1)) * P << SHIFT) + align16((F * Pb) << SHIFT);
}

/**
 * Scratch a task's group of images may take: packed operands stay in L2, and dw and the weights
 * are read once per group. Large enough that a chunk of small maps (3 images of 4x4 at C = 128)
 * is one group: its dw tiles then keep their sums in L1 from the first image to the last.
 */
const GROUP_BYTES: usize = 1 << 20;

/** Images a task packs and runs together (at least 1): bounded by GROUP_BYTES. */
function groupImagesBackward(F: usize, K: usize, P: usize): i32 {
  return <i32>max<usize>(1, GROUP_BYTES / backwardImageBytes(F, K, P));
}

/**
 * Scratch bytes one task of conv_backward_chunks needs: a group of images' packed operands
 * (backwardImageBytes each), 4 rows of P, a dw edge tile and a dw tile's running sums (4 x FT
 * reals each), a dcols edge tile (4 x PX reals) and a zero-padded image (paddedReals).
 */
export function conv_backward_work_bytes(
  F: usize, C: usize, H: usize, W: usize, HH: usize, WW: usize, stride: usize, pad: usize, Ho: usize, Wo: usize,
): usize {
  const K = C * HH * WW, P = Ho * Wo;
  return <usize>groupImagesBackward(F, K, P) * backwardImageBytes(F, K, P) + align16((4 * P) << SHIFT) + 384 +
    align16(paddedReals(<i32>C, <i32>H, <i32>W, <i32>pad) << SHIFT);
}

@inline export function align16(bytes: usize): usize {
  return (bytes + 15) & ~15;
}

/**
 * Chunks [c0, c1) of the chunked backward (see above). dx: (N, C, H, W) or 0 to skip it (images
 * of these chunks written, overwritten); partials: chunks x conv_chunk_reals(F, K) reals
 * (slices c0..c1 overwritten); dout: (N, F, Ho, Wo); x: (N, C, H, W); wt: the weights packed by
 * conv_backward_pack (read only when dx is written); chunk q holds images
 * [q·G, min(N, (q+1)·G)). work: conv_backward_work_bytes(...) bytes of this task's own scratch,
 * 16-byte aligned. Preconditions: G >= 1, c0 <= c1 <= ceil(N / G).
 */
export function conv_backward_chunks(
  dx: usize, partials: usize, dout: usize, x: usize, wt: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, G: i32, c0: i32, c1: i32, work: usize,
): void {
  const K = C * HH * WW;
  if (c0 >= c1 || K <= 0 || Ho * Wo <= 0 || F <= 0) return;
  const slice = conv_chunk_reals(<usize>F, <usize>K) << SHIFT;
  for (let q = c0; q < c1; q++) {
    const dwq = partials + <usize>q * slice;
    backwardChunk(dwq, dwq + (<usize>(F * K) << SHIFT), 0, dx, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, q, work);
  }
}

/**
 * The whole chunked backward on one thread: dw (F, K) and db (F) overwritten with the sums
 * sum_chunks would make of the chunks' partials (((p_0 + p_1) + p_2) + ...: the same bits as
 * conv_backward_chunks over all chunks, then sum_chunks), each chunk's partial added as soon as
 * it is done instead of kept (a 32-chunk buffer does not fit in L2): dw's by the tiles that finish
 * it, from L1, db's after the chunk. dx as conv_backward_chunks.
 * work: conv_backward_work_bytes(...) bytes, 16-byte aligned, then conv_chunk_reals(F, K) reals.
 */
export function conv_backward(
  dx: usize, dw: usize, db: usize, dout: usize, x: usize, wt: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, G: i32, work: usize,
): void {
  const K = C * HH * WW;
  if (N <= 0 || K <= 0 || Ho * Wo <= 0 || F <= 0) return;
  const FK = <usize>(F * K);
  const partial = work + conv_backward_work_bytes(<usize>F, <usize>C, <usize>H, <usize>W, <usize>HH, <usize>WW, <usize>stride, <usize>pad, <usize>Ho, <usize>Wo);
  const chunks = (N + G - 1) / G;
  for (let q = 0; q < chunks; q++) {
    if (q == 0) {
      backwardChunk(dw, db, 0, dx, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, q, work);
      continue;
    }
    // The chunk's dw sums are added to dw by its tiles as they finish (dw + partial, as addReals).
    backwardChunk(partial, partial + (FK << SHIFT), dw, dx, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, q, work);
    addReals(db, partial + (FK << SHIFT), <usize>F);
  }
}

/**
 * Chunk q of the backward: dwq (F, K) and dbq (F) overwritten with its partial sums, its images'
 * dx. total: 0, or dw (F, K), to which the chunk's dw sums are added (dw + partial) instead of
 * being left in dwq (dwq is then scratch).
 */
function backwardChunk(
  dwq: usize, dbq: usize, total: usize, dx: usize, dout: usize, x: usize, wt: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, G: i32, q: i32, work: usize,
): void {
  const K = C * HH * WW;
  const P = Ho * Wo;
  const Ku = <usize>K, Pu = <usize>P, Fu = <usize>F;
  const pointwise = HH == 1 && WW == 1 && stride == 1 && pad == 0;
  const M = groupImagesBackward(Fu, Ku, Pu);
  const colsBytes = align16((Ku + 3 & ~3) * Pu << SHIFT);
  const gtBytes = align16((Fu + <usize>FT - 1 & ~(<usize>FT - 1)) * Pu << SHIFT);
  const gpBytes = align16((Fu * ((Pu + <usize>PX - 1) & ~(<usize>PX - 1))) << SHIFT);
  const cols = work; // M images: colsI for dw, then dcols for dx
  const gt = cols + <usize>M * colsBytes; // M images
  const gp = gt + <usize>M * gtBytes; // M images
  const tmp = gp + <usize>M * gpBytes;
  const edge = tmp + align16((4 * Pu) << SHIFT);
  const imageBytes = <usize>(C * H * W) << SHIFT;
  const doutBytes = (Fu * Pu) << SHIFT;
  const padded = paddedPath(stride, pad, Wo);
  const xq = edge + 384;
  const n0 = q * G, n1 = min(N, n0 + G);
  conv_bias_backward(dbq, dout + <usize>n0 * doutBytes, <usize>(n1 - n0), Fu, Pu);
  for (let m0 = n0; m0 < n1; m0 += M) {
    const m = min(M, n1 - m0);
    const g0 = dout + <usize>m0 * doutBytes;
    // dwq (F, K) (+)= Σ_n dout[n] (F, P) · cols[n] (K, P)ᵀ
    for (let i = 0; i < m; i++) {
      const xi = x + <usize>(m0 + i) * imageBytes;
      if (padded) {
        padImage(xq, xi, C, H, W, pad);
        im2colPadded(cols + <usize>i * colsBytes, xq, C, H, W, HH, WW, stride, pad, Ho, Wo);
        transposeGradient(gt + <usize>i * gtBytes, g0 + <usize>i * doutBytes, F, P);
      } else {
        im2colInterleaved(cols + <usize>i * colsBytes, tmp, xi, C, H, W, HH, WW, stride, pad, Ho, Wo);
        transposeGradient(gt + <usize>i * gtBytes, g0 + <usize>i * doutBytes, F, P);
      }
    }
    const last = m0 + m == n1 ? total : 0; // the chunk's sums are finished in this group
    dwGroup(dwq, m0 == n0, cols, colsBytes, gt, gtBytes, m, K, P, F, edge, edge + 128, last);
    if (!dx) continue;
    // dcols (K, P) = w (F, K)ᵀ · dout[n] (F, P), scattered back onto the image
    const dx0 = dx + <usize>m0 * imageBytes;
    for (let i = 0; i < m; i++) blockGradient(gp + <usize>i * gpBytes, g0 + <usize>i * doutBytes, F, P);
    dcolsGroup(pointwise ? dx0 : cols, pointwise ? imageBytes : colsBytes, wt, gp, gpBytes, m, K, P, F, edge + 256);
    if (!pointwise) {
      for (let i = 0; i < m; i++) {
        if (padded) col2imPadded(dx0 + <usize>i * imageBytes, cols + <usize>i * colsBytes, xq, C, H, W, HH, WW, stride, pad, Ho, Wo);
        else col2im(dx0 + <usize>i * imageBytes, cols + <usize>i * colsBytes, C, H, W, HH, WW, stride, pad, Ho, Wo);
      }
    }
  }
}

/** gt (ceil(F/FT), P, FT) = g (F, P) by groups of FT filters: gt[j][p][i] = g[j·FT + i, p], 0 past F. */
function transposeGradient(gt: usize, g: usize, F: i32, P: i32): void {
  const z = v128.splat<real>(0);
  const ld = <usize>P << SHIFT;
  for (let f0 = 0; f0 < F; f0 += FT) {
    const d0 = gt + (<usize>(f0 * P) << SHIFT);
    // LANES filters (a half of the group) at a time: LANES rows of LANES pixels transposed.
    for (let h = 0; h < 2; h++) {
      const fh = f0 + h * <i32>LANES;
      const r0 = g + <usize>fh * ld;
      let p = 0;
      for (; p + <i32>LANES <= P; p += <i32>LANES) {
        const o = <usize>p << SHIFT;
        const d = d0 + (<usize>(p * FT + h * <i32>LANES) << SHIFT);
        if (FLOAT32) {
          const x0 = fh < F ? v128.load(r0 + o) : z;
          const x1 = fh + 1 < F ? v128.load(r0 + ld + o) : z;
          const x2 = fh + 2 < F ? v128.load(r0 + 2 * ld + o) : z;
          const x3 = fh + 3 < F ? v128.load(r0 + 3 * ld + o) : z;
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 0);
          v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
          v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
          v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
        } else {
          const x0 = fh < F ? v128.load(r0 + o) : z;
          const x1 = fh + 1 < F ? v128.load(r0 + ld + o) : z;
          v128.store(d, v128.shuffle<f64>(x0, x1, 0, 2), 0);
          v128.store(d, v128.shuffle<f64>(x0, x1, 1, 3), 32);
        }
      }
      for (; p < P; p++) {
        const d = d0 + (<usize>(p * FT + h * <i32>LANES) << SHIFT);
        for (let i = 0; i < <i32>LANES; i++) {
          store<real>(d + (<usize>i << SHIFT), fh + i < F ? load<real>(r0 + <usize>i * ld + (<usize>p << SHIFT)) : 0);
        }
      }
    }
  }
}

/**
 * dwq (F, K) (+)= Σ_i g_i · cols_iᵀ over m images (in order): gradients transposed into gt
 * (transposeGradient, gtStride bytes apart), cols interleaved into colsI (im2colInterleaved,
 * colsStride bytes apart). The sums of gemm.ts with k = P, one image after the other: Σ_p over
 * slices of DW_KC pixels (p ascending from 0 within a slice), each slice's sums added to dwq in
 * order, the very first stored instead when `first`. Tiles of 4 taps (broadcast) x FT filters,
 * each running over all m images; a full tile's running sums stay in `sums` (4 x FT reals, in
 * L1, the tile's own layout) and reach dwq's rows once, transposed. total: 0, or a (F, K) matrix
 * the finished sums are added to (total + dwq's values, as addReals would) instead of being
 * stored in dwq, which then holds only edge tiles' values. `edge`: 4 x FT reals.
 */
function dwGroup(
  dwq: usize, first: bool, colsI: usize, colsStride: usize, gt: usize, gtStride: usize, m: i32, K: i32, P: i32, F: i32, edge: usize, sums: usize, total: usize,
): void {
  const ldw = <usize>K << SHIFT;
  for (let f0 = 0; f0 < F; f0 += FT) {
    for (let k0 = 0; k0 < K; k0 += 4) {
      const full = k0 + 4 <= K && f0 + FT <= F;
      const offset = <usize>f0 * ldw + (<usize>k0 << SHIFT);
      const out = dwq + offset;
      if (full && !first) gatherTile(sums, out, ldw, 4, FT);
      for (let i = 0; i < m; i++) {
        const a0 = colsI + <usize>i * colsStride + (<usize>(k0 * P) << SHIFT);
        const g0 = gt + <usize>i * gtStride + (<usize>(f0 * P) << SHIFT);
        for (let p0 = 0; p0 < P; p0 += DW_KC) {
          const np = <usize>min(DW_KC, P - p0);
          const add = !first || i > 0 || p0 > 0;
          dwTile(a0 + (<usize>(4 * p0) << SHIFT), g0 + (<usize>(p0 * FT) << SHIFT), np, full ? sums : edge, full && add);
          if (!full) mergeDwEdge(out, ldw, edge, min(4, K - k0), min(FT, F - f0), add);
        }
      }
      if (full) flushDwTile(sums, total ? total + offset : out, ldw, total != 0);
      else if (total) addCorner(total + offset, out, ldw, min(4, K - k0), min(FT, F - f0));
    }
  }
}

/**
 * 4 taps x FT filters of dwq over np pixels: the loop of gemm.ts's microkernel4x2v (ap: np steps
 * of 4 interleaved cols values, broadcast; gp: np rows of FT gradients). The sums go to `tile`
 * in their own layout (row r = tap r's FT filters, 32 bytes), stored, or added to what it holds
 * with `accumulate` (tile + sums). Inlined (one call site).
 */
@inline function dwTile(ap: usize, gp: usize, np: usize, tile: usize, accumulate: bool): void {
  let c0l = v128.splat<real>(0), c0h = v128.splat<real>(0);
  let c1l = v128.splat<real>(0), c1h = v128.splat<real>(0);
  let c2l = v128.splat<real>(0), c2h = v128.splat<real>(0);
  let c3l = v128.splat<real>(0), c3h = v128.splat<real>(0);
  const end = gp + (np << 5);
  while (gp < end) {
    const gl = v128.load(gp, 0), gh = v128.load(gp, 16);
    let av = v128.load_splat<real>(ap, 0);
    c0l = v128.add<real>(c0l, v128.mul<real>(av, gl)); c0h = v128.add<real>(c0h, v128.mul<real>(av, gh));
    av = v128.load_splat<real>(ap, sizeof<real>());
    c1l = v128.add<real>(c1l, v128.mul<real>(av, gl)); c1h = v128.add<real>(c1h, v128.mul<real>(av, gh));
    av = v128.load_splat<real>(ap, 2 * sizeof<real>());
    c2l = v128.add<real>(c2l, v128.mul<real>(av, gl)); c2h = v128.add<real>(c2h, v128.mul<real>(av, gh));
    av = v128.load_splat<real>(ap, 3 * sizeof<real>());
    c3l = v128.add<real>(c3l, v128.mul<real>(av, gl)); c3h = v128.add<real>(c3h, v128.mul<real>(av, gh));
    ap += 4 << SHIFT;
    gp += 32;
  }
  if (accumulate) {
    c0l = v128.add<real>(v128.load(tile, 0), c0l); c0h = v128.add<real>(v128.load(tile, 16), c0h);
    c1l = v128.add<real>(v128.load(tile, 32), c1l); c1h = v128.add<real>(v128.load(tile, 48), c1h);
    c2l = v128.add<real>(v128.load(tile, 64), c2l); c2h = v128.add<real>(v128.load(tile, 80), c2h);
    c3l = v128.add<real>(v128.load(tile, 96), c3l); c3h = v128.add<real>(v128.load(tile, 112), c3h);
  }
  v128.store(tile, c0l, 0); v128.store(tile, c0h, 16);
  v128.store(tile, c1l, 32); v128.store(tile, c1h, 48);
  v128.store(tile, c2l, 64); v128.store(tile, c2h, 80);
  v128.store(tile, c3l, 96); v128.store(tile, c3h, 112);
}

/**
 * A full dw tile's sums (dwTile's layout) transposed into dwq's (F, K) rows at out (ldw bytes
 * apart): stored, or added to them with `add` (out + sums).
 */
function flushDwTile(tile: usize, out: usize, ldw: usize, add: bool): void {
  const c0l = v128.load(tile, 0), c0h = v128.load(tile, 16);
  const c1l = v128.load(tile, 32), c1h = v128.load(tile, 48);
  const c2l = v128.load(tile, 64), c2h = v128.load(tile, 80);
  const c3l = v128.load(tile, 96), c3h = v128.load(tile, 112);
  // Row r holds tap k0 + r of FT filters; dwq's rows are filters: transpose LANES x LANES blocks.
  if (FLOAT32) {
    storeTransposed4(out, ldw, add, c0l, c1l, c2l, c3l);
    storeTransposed4(out + 4 * ldw, ldw, add, c0h, c1h, c2h, c3h);
  } else {
    storeTransposed2(out, ldw, add, c0l, c1l, c2l, c3l);
    storeTransposed2(out + 2 * ldw, ldw, add, c0h, c1h, c2h, c3h);
  }
}

/** tile (taps rows of `width` reals) = the taps x width corner of dwq at out (rows = filters, ldw bytes apart), transposed. */
function gatherTile(tile: usize, out: usize, ldw: usize, taps: i32, width: i32): void {
  for (let r = 0; r < taps; r++) {
    for (let f = 0; f < width; f++) {
      store<real>(tile + (<usize>(r * width + f) << SHIFT), load<real>(out + <usize>f * ldw + (<usize>r << SHIFT)));
    }
  }
}

/** The filters x taps corner at t (rows ldw bytes apart) += the same corner at o. */
function addCorner(t: usize, o: usize, ldw: usize, taps: i32, filters: i32): void {
  for (let f = 0; f < filters; f++) {
    for (let r = 0; r < taps; r++) {
      const d = t + <usize>f * ldw + (<usize>r << SHIFT);
      store<real>(d, load<real>(d) + load<real>(o + <usize>f * ldw + (<usize>r << SHIFT)));
    }
  }
}

/** f32: rows a..d (taps) of 4 filters each, stored as 4 filter rows of 4 taps, ld bytes apart (or added). */
@inline function storeTransposed4(o: usize, ld: usize, add: bool, a: v128, b: v128, c: v128, d: v128): void {
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  storeOrAdd(o, add, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  storeOrAdd(o + ld, add, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  storeOrAdd(o + 2 * ld, add, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  storeOrAdd(o + 3 * ld, add, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/** f64: rows a..d (taps) of 2 filters each, stored as 2 filter rows of 4 taps (two v128), ld bytes apart (or added). */
@inline function storeTransposed2(o: usize, ld: usize, add: bool, a: v128, b: v128, c: v128, d: v128): void {
  storeOrAdd(o, add, v128.shuffle<f64>(a, b, 0, 2));
  storeOrAdd(o + 16, add, v128.shuffle<f64>(c, d, 0, 2));
  storeOrAdd(o + ld, add, v128.shuffle<f64>(a, b, 1, 3));
  storeOrAdd(o + ld + 16, add, v128.shuffle<f64>(c, d, 1, 3));
}

/** Rows x0..x3 of LANES values each, stored at d as LANES columns of 4 (the interleaved panels' layout, 64 bytes). */
@inline function storeColumns4(d: usize, x0: v128, x1: v128, x2: v128, x3: v128): void {
  if (FLOAT32) storeTransposed4(d, 16, false, x0, x1, x2, x3);
  else storeTransposed2(d, 32, false, x0, x1, x2, x3);
}

@inline function storeOrAdd(o: usize, add: bool, v: v128): void {
  v128.store(o, add ? v128.add<real>(v128.load(o), v) : v);
}

/** The valid taps x filters corner of a dw edge tile (4 rows of FT) into dwq (rows = filters, ldw bytes apart). */
function mergeDwEdge(out: usize, ldw: usize, tile: usize, taps: i32, filters: i32, add: bool): void {
  for (let r = 0; r < taps; r++) {
    for (let f = 0; f < filters; f++) {
      const d = out + <usize>f * ldw + (<usize>r << SHIFT);
      const s = load<real>(tile + (<usize>(r * FT + f) << SHIFT));
      store<real>(d, add ? load<real>(d) + s : s);
    }
  }
}

/**
 * gp (ceil(P/PX), F, PX) = g (F, P) in blocks of PX pixels: gp[b][f][j] = g[f, b·PX + j], 0 past
 * P. The dcols tiles then read 32 contiguous bytes a step (g's rows in place are P apart: at
 * P = 1024 f32 every row falls in the same L1 set).
 */
function blockGradient(gp: usize, g: usize, F: i32, P: i32): void {
  const ld = <usize>P << SHIFT;
  const full = P - P % PX;
  let d = gp;
  for (let p0 = 0; p0 < full; p0 += PX) {
    let s = g + (<usize>p0 << SHIFT);
    for (let f = 0; f < F; f++) {
      v128.store(d, v128.load(s), 0);
      v128.store(d, v128.load(s, 16), 16);
      s += ld;
      d += 32;
    }
  }
  if (full < P) {
    let s = g + (<usize>full << SHIFT);
    for (let f = 0; f < F; f++) {
      for (let j = 0; j < PX; j++) store<real>(d + (<usize>j << SHIFT), full + j < P ? load<real>(s + (<usize>j << SHIFT)) : 0);
      s += ld;
      d += 32;
    }
  }
}

/**
 * dcols_i (K, P) = wᵀ · g_i for m images' gradients, in blocks in gp (blockGradient, gpStride
 * bytes apart), wt packed by conv_backward_pack, dcols_i at dcols + i·stride. The sums of
 * gemm.ts with A = wᵀ, k = F: each element Σ_f w[f, k]·g[f, p] over slices of DCOLS_KC filters
 * (f ascending from 0 within a slice), later slices added onto the first. The weights are packed
 * once per call instead of once per image, and each 4 taps' weights run over all m images (from
 * L1). `edge`: a 4 x PX tile.
 */
function dcolsGroup(dcols: usize, stride: usize, wt: usize, gp: usize, gpStride: usize, m: i32, K: i32, P: i32, F: i32, edge: usize): void {
  const ldc = <usize>P << SHIFT;
  const blockBytes = <usize>F << 5;
  for (let f0 = 0; f0 < F; f0 += DCOLS_KC) {
    const fc = min(DCOLS_KC, F - f0);
    const add = f0 > 0;
    for (let k0 = 0; k0 < K; k0 += 4) {
      const ap = wt + (<usize>(k0 * F + 4 * f0) << SHIFT);
      const rows = min(4, K - k0);
      for (let i = 0; i < m; i++) {
        let bp = gp + <usize>i * gpStride + (<usize>f0 << 5);
        const di = dcols + <usize>i * stride + <usize>k0 * ldc;
        for (let p0 = 0; p0 < P; p0 += PX) {
          const nv = min(PX, P - p0);
          const full = nv == PX && rows == 4;
          const o = di + (<usize>p0 << SHIFT);
          dcolsTile(ap, bp, 32, <usize>fc, full ? o : edge, full ? ldc : 32, add && full);
          if (!full) mergeDcolsEdge(o, ldc, edge, rows, nv, add);
          bp += blockBytes;
        }
      }
    }
  }
}

/**
 * 4 k x PX pixels of dcols: the loop of gemm.ts's microkernel4x2v over fc filters (ap: fc steps
 * of 4 interleaved weights, broadcast; bp: fc rows of PX gradients, ldb bytes apart: 32 here,
 * a row of tiles in winograd.ts's products), stored to 4 rows ldo bytes apart, or added to them
 * with `add` (a later slice of filters). Inlined.
 */
@inline export function dcolsTile(ap: usize, bp: usize, ldb: usize, fc: usize, out: usize, ldo: usize, add: bool): void {
  let c0l = v128.splat<real>(0), c0h = v128.splat<real>(0);
  let c1l = v128.splat<real>(0), c1h = v128.splat<real>(0);
  let c2l = v128.splat<real>(0), c2h = v128.splat<real>(0);
  let c3l = v128.splat<real>(0), c3h = v128.splat<real>(0);
  const end = ap + (fc << (SHIFT + 2));
  while (ap < end) {
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
    bp += ldb;
  }
  const o1 = out + ldo, o2 = o1 + ldo, o3 = o2 + ldo;
  if (add) {
    c0l = v128.add<real>(v128.load(out, 0), c0l); c0h = v128.add<real>(v128.load(out, 16), c0h);
    c1l = v128.add<real>(v128.load(o1, 0), c1l); c1h = v128.add<real>(v128.load(o1, 16), c1h);
    c2l = v128.add<real>(v128.load(o2, 0), c2l); c2h = v128.add<real>(v128.load(o2, 16), c2h);
    c3l = v128.add<real>(v128.load(o3, 0), c3l); c3h = v128.add<real>(v128.load(o3, 16), c3h);
  }
  v128.store(out, c0l, 0); v128.store(out, c0h, 16);
  v128.store(o1, c1l, 0); v128.store(o1, c1h, 16);
  v128.store(o2, c2l, 0); v128.store(o2, c2h, 16);
  v128.store(o3, c3l, 0); v128.store(o3, c3h, 16);
}

/** The valid rows x cols corner of a raw edge tile (rows 32 bytes apart) into out: s, or out + s with `add`. */
function mergeDcolsEdge(out: usize, ldo: usize, tile: usize, rows: i32, cols: i32, add: bool): void {
  for (let i = 0; i < rows; i++) {
    const o = out + <usize>i * ldo;
    for (let j = 0; j < cols; j++) {
      const d = o + (<usize>j << SHIFT);
      const s = load<real>(tile + (<usize>(i * PX + j) << SHIFT));
      store<real>(d, add ? load<real>(d) + s : s);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// im2col and col2im through a zero-padded copy of the image (strides 1 and 2, Wo >= LANES): each
// row of LANES output pixels is one vector load per tap (loadRun), with no bounds checks, where
// im2colRow and col2im branch and copy per output row (at 4x4 and 7x7 maps, rows of 4 or 7
// values: the bookkeeping cost more than the copies). Same values, same order of the dx sums.

/** Reals of the padded image buffer: C·(H + 2 pad)·(W + 2 pad), plus room for loads past its end. */
@inline function paddedReals(C: i32, H: i32, W: i32, pad: i32): usize {
  return <usize>(C * (H + 2 * pad) * (W + 2 * pad) + 4 * PX);
}

/**
 * Whether the backward packs cols and scatters dcols through the padded buffer: padded convs
 * with strides 1 and 2 (without padding the rows are read in place, and a strided 1x1 conv reads
 * a quarter of its input: a whole copy would cost more than it saves).
 */
@inline function paddedPath(stride: i32, pad: i32, Wo: i32): bool {
  return pad > 0 && (stride == 1 || stride == 2) && Wo >= <i32>LANES;
}

/** xq (C, H + 2 pad, W + 2 pad) = x zero-padded (and the slack past it zeroed). */
function padImage(xq: usize, x: usize, C: i32, H: i32, W: i32, pad: i32): void {
  const Hq = H + 2 * pad, Wq = W + 2 * pad;
  zeroReals(xq, paddedReals(C, H, W, pad));
  for (let row = 0; row < C * H; row++) {
    const c = row / H;
    copyReals(xq + (<usize>((c * Hq + row % H + pad) * Wq + pad) << SHIFT), x + (<usize>(row * W) << SHIFT), <usize>W);
  }
}

/**
 * im2colInterleaved from the padded image xq (padImage): colsI (ceil(K/4), P, 4), colsI[g][p][r]
 * = cols[4g + r, p] (0 past K). Strides 1 and 2, Wo >= LANES: a row's last vector of pixels
 * overlaps the one before when Wo % LANES != 0 (the same values written twice).
 */
function im2colPadded(colsI: usize, xq: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32): void {
  const K = C * HH * WW, P = Ho * Wo;
  const Hq = H + 2 * pad, Wq = W + 2 * pad;
  const taps = HH * WW;
  const L = <i32>LANES;
  const z = v128.splat<real>(0);
  const rowStep = <usize>(stride * Wq) << SHIFT;
  for (let k0 = 0; k0 < K; k0 += 4) {
    // Byte offsets of the 4 taps' first inputs; a tap past K reads zeros.
    let o0: usize = 0, o1: usize = 0, o2: usize = 0, o3: usize = 0;
    for (let r = 0; r < 4; r++) {
      const k = k0 + r;
      const c = k / taps, t = k % taps;
      const o = k < K ? <usize>((c * Hq + t / WW) * Wq + t % WW) << SHIFT : 0;
      if (r == 0) o0 = o;
      else if (r == 1) o1 = o;
      else if (r == 2) o2 = o;
      else o3 = o;
    }
    const rows = min(4, K - k0);
    let d = colsI + (<usize>(k0 * P) << SHIFT);
    let rb = xq;
    for (let oh = 0; oh < Ho; oh++) {
      let ow = 0;
      while (true) {
        const o = min(ow, Wo - L);
        const a = rb + (<usize>(o * stride) << SHIFT);
        const x0 = loadRun(a + o0, stride);
        const x1 = rows > 1 ? loadRun(a + o1, stride) : z;
        const x2 = rows > 2 ? loadRun(a + o2, stride) : z;
        const x3 = rows > 3 ? loadRun(a + o3, stride) : z;
        const dd = d + (<usize>o << (SHIFT + 2));
        storeColumns4(dd, x0, x1, x2, x3);
        if (o == Wo - L) break;
        ow += L;
      }
      d += <usize>Wo << (SHIFT + 2);
      rb += rowStep;
    }
  }
}

/**
 * dx (C, H, W) = col2im(dcols) through the padded buffer xq (its contents are overwritten):
 * col2im's sums (each position from 0, the rows of dcols added in order), strides 1 and 2,
 * Wo >= LANES. Lanes of a vector that fall on no output of the row are kept bit for bit.
 */
function col2imPadded(dx: usize, dcols: usize, xq: usize, C: i32, H: i32, W: i32, HH: i32, WW: i32, stride: i32, pad: i32, Ho: i32, Wo: i32): void {
  const Hq = H + 2 * pad, Wq = W + 2 * pad;
  const P = <usize>(Ho * Wo);
  const L = <i32>LANES;
  zeroReals(xq, paddedReals(C, H, W, pad));
  const rowStep = <usize>(stride * Wq) << SHIFT;
  const tail = Wo % L;
  const mask = lanesBelow(tail);
  const even = FLOAT32 ? i32x4(-1, 0, -1, 0) : i64x2(-1, 0);
  let src = dcols;
  for (let c = 0; c < C; c++) {
    for (let ki = 0; ki < HH; ki++) {
      for (let kj = 0; kj < WW; kj++) {
        let d = xq + (<usize>((c * Hq + ki) * Wq + kj) << SHIFT);
        let s = src;
        for (let oh = 0; oh < Ho; oh++) {
          let ow = 0;
          if (stride == 1) {
            for (; ow + L <= Wo; ow += L) {
              const dd = d + (<usize>ow << SHIFT);
              v128.store(dd, v128.add<real>(v128.load(dd), v128.load(s + (<usize>ow << SHIFT))));
            }
            if (tail) {
              const dd = d + (<usize>ow << SHIFT);
              const old = v128.load(dd);
              v128.store(dd, v128.bitselect(v128.add<real>(old, v128.load(s + (<usize>ow << SHIFT))), old, mask));
            }
          } else {
            for (; ow + L <= Wo; ow += L) {
              const v = v128.load(s + (<usize>ow << SHIFT));
              const dd = d + (<usize>ow << (SHIFT + 1));
              const d0 = v128.load(dd), d1 = v128.load(dd, 16);
              const lo = FLOAT32 ? v128.shuffle<f32>(v, v, 0, 0, 1, 1) : v128.shuffle<f64>(v, v, 0, 0);
              const hi = FLOAT32 ? v128.shuffle<f32>(v, v, 2, 2, 3, 3) : v128.shuffle<f64>(v, v, 1, 1);
              v128.store(dd, v128.bitselect(v128.add<real>(d0, lo), d0, even));
              v128.store(dd, v128.bitselect(v128.add<real>(d1, hi), d1, even), 16);
            }
            for (; ow < Wo; ow++) {
              const dd = d + (<usize>ow << (SHIFT + 1));
              store<real>(dd, load<real>(dd) + load<real>(s + (<usize>ow << SHIFT)));
            }
          }
          d += rowStep;
          s += <usize>Wo << SHIFT;
        }
        src += P << SHIFT;
      }
    }
  }
  for (let row = 0; row < C * H; row++) {
    const c = row / H;
    copyReals(dx + (<usize>(row * W) << SHIFT), xq + (<usize>((c * Hq + row % H + pad) * Wq + pad) << SHIFT), <usize>W);
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
      storeColumns4(d, x0, x1, x2, x3);
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
 * Whether a 1x1 conv with stride > 1 or padding reads a subsampled copy of its input (then it is a
 * plain pointwise conv): for output rows of at least a block (28 -> 14: 1.1x); narrower rows cost
 * more to copy than to pack (7 -> 4: 0.8x).
 */
@inline function subsampled(HH: usize, WW: usize, stride: usize, pad: usize, Wo: usize): bool {
  return HH == 1 && WW == 1 && (stride > 1 || pad > 0) && Wo >= <usize>PX;
}

/**
 * Scratch bytes conv_forward_images needs: one K x PX pixel panel (K·32 B), an edge tile (128 B),
 * the block's lane tables (64 B), K u32 panel-row offsets and, with padding, a zero-padded copy of
 * PX / gcd(Ho·Wo, PX) images (K = C·HH·WW), or for a strided or padded 1x1 conv their
 * subsampled (C, Ho, Wo) copies.
 */
export function conv_forward_images_work_bytes(
  C: usize, H: usize, W: usize, HH: usize, WW: usize, stride: usize, pad: usize, Ho: usize, Wo: usize,
): usize {
  const K = C * HH * WW;
  const G = <usize>groupImages(<i32>(Ho * Wo));
  const copy = subsampled(HH, WW, stride, pad, Wo) ? (G * C * Ho * Wo) << SHIFT : pad ? (G * C * (H + 2 * pad) * (W + 2 * pad)) << SHIFT : 0;
  return ((copy + 15) & ~15) + (K << 5) + 128 + 64 + ((K << 2) + 15 & ~15);
}

/** Scratch bytes conv_forward needs: the packed weights, then conv_forward_images' work. */
export function conv_forward_work_bytes(
  F: usize, C: usize, H: usize, W: usize, HH: usize, WW: usize, stride: usize, pad: usize, Ho: usize, Wo: usize,
): usize {
  const packed = (conv_forward_packed_reals(F, C * HH * WW) << SHIFT) + 15 & ~15;
  return packed + conv_forward_images_work_bytes(C, H, W, HH, WW, stride, pad, Ho, Wo);
}

/**
 * out (N, F, Ho, Wo) = [relu](conv(x, w) + b) for x (N, C, H, W), w (F, C, HH, WW), b (F), zero
 * padding `pad`, `stride` >= 1, Ho and Wo from the formula at the top of this file. `work`: at
 * least conv_forward_work_bytes(F, C, H, W, HH, WW, stride, pad, Ho, Wo) bytes, 16-byte aligned.
 * out overlaps nothing.
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
  forwardImages(out, x, wp, b, 0, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, work, n0, n1, 0, I32.MAX_VALUE);
}

/**
 * Pixel blocks [j0, j1) of ONE image: block j is its outputs [j·PX, min(P, (j + 1)·PX)) in every
 * filter (PX = 8 float32, 4 float64; P = Ho·Wo), so ceil(P / PX) blocks in all. The split entry
 * point for a batch of one image, which image ranges cannot split: threads take block ranges,
 * each with its own work (conv_forward_images_work_bytes(...) bytes, 16-byte aligned), wp (packed
 * by conv_forward_pack) shared and only read. out (F, Ho, Wo) and x (C, H, W) are the image's;
 * bn: 0, or conv_forward_images_bn's table. Each output is summed as in conv_forward (the block it
 * falls in changes nothing), so any split gives the bits of one whole call.
 */
export function conv_forward_blocks(
  out: usize, x: usize, wp: usize, b: usize, bn: usize, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool, work: usize, j0: i32, j1: i32,
): void {
  if (j0 < 0 || j1 <= j0) return;
  const P = Ho * Wo;
  const q1 = <i64>j1 * PX < <i64>P ? j1 * PX : P;
  if (<i64>j0 * PX >= <i64>q1) return;
  forwardImages(out, x, wp, b, bn, 1, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, work, 0, 1, j0 * PX, q1);
}

/**
 * conv_forward_images followed by a batch norm in test mode (and the ReLU with `relu`) in the
 * tiles' epilogue: bn holds 4 reals per filter f, [m, inv, g, beta] at bn + 4f (the running mean,
 * 1 / sqrt(running variance + eps), the scale and the shift, as the batch-norm kernel computes
 * them), and each output is r = s + b[f], then g·((r - m)·inv) + beta (the batch norm's own
 * operations, in its order), then the ReLU: the bits of conv, batch norm and ReLU run one after
 * another, without their intermediate maps.
 */
export function conv_forward_images_bn(
  out: usize, x: usize, wp: usize, b: usize, bn: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool, work: usize, n0: i32, n1: i32,
): void {
  forwardImages(out, x, wp, b, bn, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, work, n0, n1, 0, I32.MAX_VALUE);
}

/**
 * The table of conv_forward_images_bn for a batch norm in test mode over F channels: per channel
 * [running mean, 1 / sqrt(running variance + eps), gamma, beta], computed as the batch-norm
 * kernel computes them (spatial_batchnorm_forward_test_range). table: 4·F reals.
 */
export function conv_bn_table(table: usize, gamma: usize, beta: usize, runningMean: usize, runningVar: usize, eps: real, F: usize): void {
  for (let f: usize = 0; f < F; f++) {
    const o = f << SHIFT;
    const e = table + ((4 * f) << SHIFT);
    store<real>(e, load<real>(runningMean + o));
    store<real>(e, <real>1.0 / sqrt<real>(load<real>(runningVar + o) + eps), sizeof<real>());
    store<real>(e, load<real>(gamma + o), 2 * sizeof<real>());
    store<real>(e, load<real>(beta + o), 3 * sizeof<real>());
  }
}

/**
 * Images [n0, n1), and of each group of images (pixels numbered across the group) the pixels
 * [q0, min(q1, the group's)), q0 a multiple of PX: conv_forward_blocks's one image passes its
 * block range, the others [0, I32.MAX_VALUE).
 */
function forwardImages(
  out: usize, x: usize, wp: usize, b: usize, bn: usize, N: i32, C: i32, H: i32, W: i32, F: i32, HH: i32, WW: i32,
  stride: i32, pad: i32, Ho: i32, Wo: i32, relu: bool, work: usize, n0: i32, n1: i32, q0: i32, q1: i32,
): void {
  if (n1 > N) n1 = N;
  if (n0 < 0 || n0 >= n1) return;
  const K = <usize>(C * HH * WW);
  const P = Ho * Wo;
  if (F <= 0 || P <= 0 || K == 0) return;
  // A strided or padded 1x1 conv runs as a pointwise one on its subsampled input (copied plane by
  // plane: sequential reads, where packing it straight from x would read a cache line of every
  // channel per block).
  const sub = subsampled(<usize>HH, <usize>WW, <usize>stride, <usize>pad, <usize>Wo);
  const copy = sub || pad > 0;
  const Hq = sub ? Ho : H + 2 * pad, Wq = sub ? Wo : W + 2 * pad;
  const step = sub ? 1 : stride;
  const G = copy ? groupImages(P) : n1 - n0; // uncopied images are read in place, all as one group
  const imgBytes = <usize>(C * Hq * Wq) << SHIFT;
  const xpad = work;
  const panel = xpad + ((copy ? <usize>G * imgBytes : 0) + 15 & ~15);
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
  if (pad && !sub) zeroReals(xpad, <usize>G * (imgBytes >> SHIFT)); // the borders stay zero
  const ldo = <usize>P << SHIFT;
  const imgOut = <usize>F * ldo;
  const xBytes = <usize>(C * H * W) << SHIFT;
  for (let g0 = n0; g0 < n1; g0 += G) {
    const g = min(G, n1 - g0);
    let src = x + <usize>g0 * xBytes;
    if (sub) {
      for (let i = 0; i < g; i++) {
        for (let c = 0; c < C; c++) {
          const plane = src + <usize>i * xBytes + (<usize>(c * H * W) << SHIFT);
          im2colRow(xpad + <usize>i * imgBytes + (<usize>(c * P) << SHIFT), plane, H, W, 0, 0, stride, pad, Ho, Wo);
        }
      }
      src = xpad;
    } else if (pad) {
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
    const total = min(g * P, q1);
    // Where the next pixel is: image, index in its map, row and column.
    let img = q0 / P, r = q0 % P;
    let oh = r / Wo, ow = r % Wo;
    for (let q = q0; q < total; q += PX) {
      const nv = min(PX, total - q);
      for (let j = 0; j < nv; j++) {
        store<u32>(lanes + (<usize>j << 2), <u32>(<usize>img * imgBytes + (<usize>((oh * Wq + ow) * step) << SHIFT)));
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
      packPanel(panel, src, limit, offs, K, step, lanes);
      const first = <usize>load<u32>(lanes, 32);
      const inPlace = nv == PX && <usize>load<u32>(lanes, 32 + 4 * (PX - 1)) == first + (<usize>(PX - 1) << SHIFT);
      // Full tiles store in place; the others (a last filter group short of 4, a block that is
      // not PX consecutive outputs) go through `edge`. ReLU is a compile-time choice of the tile.
      const full = inPlace ? F & ~3 : 0;
      if (nv <= NARROW) narrowTiles(on, ldo, wp, b, bn, panel, K, F, edge, nv, lanes + 32, relu);
      else if (relu) filterTiles(on + first, ldo, wp, b, bn, panel, K, F, full, edge, on, nv, lanes + 32, true);
      else filterTiles(on + first, ldo, wp, b, bn, panel, K, F, full, edge, on, nv, lanes + 32, false);
    }
  }
}

/**
 * The F filters' tiles over one pixel panel: the first `full` filters in place at o, the rest
 * through `edge`. bn: 0, or the batch-norm table of conv_forward_images_bn.
 */
@inline function filterTiles(
  o: usize, ldo: usize, wp: usize, b: usize, bn: usize, panel: usize, K: usize, F: i32, full: i32, edge: usize, on: usize, nv: i32, outOffs: usize, relu: bool,
): void {
  let ap = wp, bf = b, nf = bn;
  const step: usize = (K * 4) << SHIFT;
  const nstep: usize = bn ? 16 << SHIFT : 0;
  for (let f0 = 0; f0 < full; f0 += 4) {
    convTile(ap, panel, K, o, ldo, bf, nf, relu, TILE_STORE);
    if (bn) normalizeTile(o, ldo, nf, relu);
    ap += step;
    bf += 4 << SHIFT;
    nf += nstep;
    o += 4 * ldo;
  }
  for (let f0 = full; f0 < F; f0 += 4) {
    convTile(ap, panel, K, edge, 32, bf, 0, relu, TILE_RAW);
    scatterConvEdge(on, ldo, edge, f0, min(4, F - f0), nv, bf, nf, relu, outOffs);
    ap += step;
    bf += 4 << SHIFT;
    nf += nstep;
  }
}

/** Most valid pixels of a block that narrowTiles computes (the 4 x PX tile would waste over half its lanes). */
@inline const NARROW: i32 = PX / 2;

/**
 * A block of nv <= NARROW valid pixels (the last block of a map whose size is not a multiple of
 * PX, at batch 1 or for a group's tail): the filters' sums over its nv pixels by narrowSums, a
 * pass of LANES / pw groups of 4 filters at a time (pw = nv rounded up to 1, 2 or PX / 2, each
 * group's pw columns of the edge tile), then scatterConvEdge's epilogue for each group, as for an
 * edge tile. About nv / PX of the 4 x PX tiles' work, with 4 independent sums in flight.
 */
function narrowTiles(
  on: usize, ldo: usize, wp: usize, b: usize, bn: usize, panel: usize, K: usize, F: i32, edge: usize, nv: i32, outOffs: usize, relu: bool,
): void {
  const pw = nv == 1 ? 1 : nv == 2 ? 2 : NARROW;
  const perPass = <i32>LANES / pw;
  const groups = (F + 3) >> 2;
  const step: usize = (K * 4) << SHIFT;
  for (let g0 = 0; g0 < groups; g0 += perPass) {
    // A pass past the last group computes the last group again (not stored): wp holds `groups`.
    const a0 = wp + <usize>g0 * step;
    const a1 = wp + <usize>min(g0 + 1, groups - 1) * step;
    const a2 = wp + <usize>min(g0 + 2, groups - 1) * step;
    const a3 = wp + <usize>min(g0 + 3, groups - 1) * step;
    narrowSums(a0, a1, a2, a3, panel, K, edge, nv);
    for (let i = 0; i < perPass && g0 + i < groups; i++) {
      const f0 = (g0 + i) * 4;
      scatterConvEdge(on, ldo, edge + (<usize>(i * pw) << SHIFT), f0, min(4, F - f0), nv, b + (<usize>f0 << SHIFT), bn ? bn + (<usize>(4 * f0) << SHIFT) : 0, relu, outOffs);
    }
  }
}

/**
 * Raw sums over lanes [0, nv) of the panel bp (nv <= NARROW) for the groups of 4 filters whose
 * packed weights (K steps of 4 interleaved values) start at a0, a1, ... (as many as narrowTiles's
 * pass holds), vectorized over the filters: one (f32) or two (f64) vectors of weights per k times
 * the pixel's value broadcast. Each output's sum is convTile's: k ascending from 0, mul then add,
 * in one lane. Stored as convTile's TILE_RAW tile (filter r of a group in row r, PX reals a row),
 * group i's pixel j in column i·pw + j; other columns not written.
 */
function narrowSums(a0: usize, a1: usize, a2: usize, a3: usize, bp: usize, K: usize, tile: usize, nv: i32): void {
  let s0 = v128.splat<real>(0), s1 = s0, s2 = s0, s3 = s0;
  const end = bp + (K << 5);
  const o: usize = 4 << SHIFT; // bytes per k of a group's weights
  if (FLOAT32) {
    if (nv == 1) {
      // Four groups, one pixel: s_i = group i.
      for (let k: usize = 0; bp < end; bp += 32, k += o) {
        const x = v128.load_splat<real>(bp);
        s0 = v128.add<real>(s0, v128.mul<real>(v128.load(a0 + k), x));
        s1 = v128.add<real>(s1, v128.mul<real>(v128.load(a1 + k), x));
        s2 = v128.add<real>(s2, v128.mul<real>(v128.load(a2 + k), x));
        s3 = v128.add<real>(s3, v128.mul<real>(v128.load(a3 + k), x));
      }
      storeFilters(tile, 0, s0);
      storeFilters(tile, 1, s1);
      storeFilters(tile, 2, s2);
      storeFilters(tile, 3, s3);
    } else if (nv == 2) {
      // Two groups, two pixels: s0, s1 = group 0's pixels, s2, s3 = group 1's.
      for (let k: usize = 0; bp < end; bp += 32, k += o) {
        const x0 = v128.load_splat<real>(bp), x1 = v128.load_splat<real>(bp, 4);
        const w0 = v128.load(a0 + k), w1 = v128.load(a1 + k);
        s0 = v128.add<real>(s0, v128.mul<real>(w0, x0));
        s1 = v128.add<real>(s1, v128.mul<real>(w0, x1));
        s2 = v128.add<real>(s2, v128.mul<real>(w1, x0));
        s3 = v128.add<real>(s3, v128.mul<real>(w1, x1));
      }
      storeFilters(tile, 0, s0);
      storeFilters(tile, 1, s1);
      storeFilters(tile, 2, s2);
      storeFilters(tile, 3, s3);
    } else {
      // One group, up to four pixels: s_j = pixel j.
      for (let k: usize = 0; bp < end; bp += 32, k += o) {
        const w = v128.load(a0 + k);
        s0 = v128.add<real>(s0, v128.mul<real>(w, v128.load_splat<real>(bp)));
        s1 = v128.add<real>(s1, v128.mul<real>(w, v128.load_splat<real>(bp, 4)));
        s2 = v128.add<real>(s2, v128.mul<real>(w, v128.load_splat<real>(bp, 8)));
        s3 = v128.add<real>(s3, v128.mul<real>(w, v128.load_splat<real>(bp, 12)));
      }
      storeFilters(tile, 0, s0);
      storeFilters(tile, 1, s1);
      if (nv > 2) storeFilters(tile, 2, s2);
      if (nv > 3) storeFilters(tile, 3, s3);
    }
  } else {
    // A group's 4 filters are two vectors: filters 0-1 (rows 0-1) and 2-3 (rows 2-3).
    const low = tile, high = tile + (<usize>(2 * PX) << SHIFT);
    if (nv == 1) {
      // Two groups, one pixel: s0, s1 = group 0, s2, s3 = group 1.
      for (let k: usize = 0; bp < end; bp += 32, k += o) {
        const x = v128.load_splat<real>(bp);
        s0 = v128.add<real>(s0, v128.mul<real>(v128.load(a0 + k), x));
        s1 = v128.add<real>(s1, v128.mul<real>(v128.load(a0 + k, 16), x));
        s2 = v128.add<real>(s2, v128.mul<real>(v128.load(a1 + k), x));
        s3 = v128.add<real>(s3, v128.mul<real>(v128.load(a1 + k, 16), x));
      }
    } else {
      // One group, two pixels: s0, s1 = pixel 0, s2, s3 = pixel 1.
      for (let k: usize = 0; bp < end; bp += 32, k += o) {
        const wl = v128.load(a0 + k), wh = v128.load(a0 + k, 16);
        let x = v128.load_splat<real>(bp);
        s0 = v128.add<real>(s0, v128.mul<real>(wl, x));
        s1 = v128.add<real>(s1, v128.mul<real>(wh, x));
        x = v128.load_splat<real>(bp, 8);
        s2 = v128.add<real>(s2, v128.mul<real>(wl, x));
        s3 = v128.add<real>(s3, v128.mul<real>(wh, x));
      }
    }
    storeFilters(low, 0, s0);
    storeFilters(high, 0, s1);
    storeFilters(low, 1, s2);
    storeFilters(high, 1, s3);
  }
}

/** The LANES filters of v (lane i = filter i) into column j of a tile whose rows are PX reals. */
@inline function storeFilters(tile: usize, j: i32, v: v128): void {
  const o = tile + (<usize>j << SHIFT);
  if (FLOAT32) {
    store<f32>(o, f32x4.extract_lane(v, 0));
    store<f32>(o, f32x4.extract_lane(v, 1), PX << 2);
    store<f32>(o, f32x4.extract_lane(v, 2), 2 * PX << 2);
    store<f32>(o, f32x4.extract_lane(v, 3), 3 * PX << 2);
  } else {
    store<f64>(o, f64x2.extract_lane(v, 0));
    store<f64>(o, f64x2.extract_lane(v, 1), PX << 3);
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
@inline function convTile(ap: usize, bp: usize, K: usize, out: usize, ldo: usize, bias: usize, bn: usize, relu: bool, mode: i32): void {
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
    // With a batch norm the ReLU comes after it (normalizeTile).
    if (relu && !bn) {
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
 * A stored 4 x PX tile (rows ldo bytes apart, filter i's row i) through the batch norm of
 * conv_forward_images_bn (filter i's [m, inv, g, beta] at bn + 4i reals), g·((r - m)·inv) + beta
 * as its kernel computes it, then the ReLU. One copy (not inlined into every tile variant): the
 * tile is still in L1.
 */
function normalizeTile(o: usize, ldo: usize, bn: usize, relu: bool): void {
  const z = v128.splat<real>(0);
  for (let i = 0; i < 4; i++) {
    const e = bn + (<usize>(4 * i) << SHIFT);
    const m = v128.load_splat<real>(e, 0), inv = v128.load_splat<real>(e, sizeof<real>());
    const g = v128.load_splat<real>(e, 2 * sizeof<real>()), beta = v128.load_splat<real>(e, 3 * sizeof<real>());
    let lo = v128.add<real>(v128.mul<real>(g, v128.mul<real>(v128.sub<real>(v128.load(o, 0), m), inv)), beta);
    let hi = v128.add<real>(v128.mul<real>(g, v128.mul<real>(v128.sub<real>(v128.load(o, 16), m), inv)), beta);
    if (relu) {
      lo = v128.andnot(lo, v128.le<real>(lo, z));
      hi = v128.andnot(hi, v128.le<real>(hi, z));
    }
    v128.store(o, lo, 0);
    v128.store(o, hi, 16);
    o += ldo;
  }
}

/**
 * The valid rows x cols corner of a raw edge tile (rows 32 bytes apart): r = s + b[row], the
 * batch norm when bn is not 0 (its table from filter f0 on), ReLU, lane j to out row f0 + i at
 * on + outOffs[j] (u32 byte offsets).
 */
function scatterConvEdge(on: usize, ldo: usize, tile: usize, f0: i32, rows: i32, cols: i32, bias: usize, bn: usize, relu: bool, outOffs: usize): void {
  for (let i = 0; i < rows; i++) {
    const bi = load<real>(bias + (<usize>i << SHIFT));
    const row = on + <usize>(f0 + i) * ldo;
    const e = bn + (<usize>(4 * i) << SHIFT);
    for (let j = 0; j < cols; j++) {
      let r = load<real>(tile + (<usize>(i * PX + j) << SHIFT)) + bi;
      if (bn) r = load<real>(e, 2 * sizeof<real>()) * ((r - load<real>(e)) * load<real>(e, sizeof<real>())) + load<real>(e, 3 * sizeof<real>());
      if (relu && r <= 0) r = 0;
      store<real>(row + <usize>load<u32>(outOffs + (<usize>j << 2)), r);
    }
  }
}
