// The weight gradient of a stride-1 3x3 convolution by Winograd's F(2x2, 3x3), the forward's
// algorithm (winograd.ts) run backwards: the forward computes M[f, t] = Σ_c U[f, c] ⊙ V[c, t] and
// y = Aᵀ M A, so with D[f, t] = A dY Aᵀ (dY the 2x2 tile t of dout[f], 0 past (Ho, Wo))
//   dU[f, c] = Σ_{images, t} D[f, t] ⊙ V[c, t]  and  dw[f, c] = Gᵀ dU[f, c] G,
// 16 products per tile, filter and channel where the direct sums take 36 (Lavin and Gray 2016).
// The matrices are winograd.ts's: A = [1 0; 1 1; 1 -1; 0 -1], Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1].
//
// The batch is cut into chunks as in the direct backward (conv.ts, "Backward in chunks"): chunk q
// of G images (G fixed by the sizes: the host's winogradChunkImages, at least 64 tiles a chunk,
// so that the transform back is paid for enough products) writes its dw and db partial sums to
// its own slice (conv_chunk_reals(F, 9 C) reals: dw (F, C, 3, 3), then db (F)), the host adds
// the slices in chunk order (sum_chunks), and one thread runs the same chunks adding each partial
// as it is done (conv3x3_winograd_dw): the same bits for any thread count.
//
// Order of every operation (sizes only; the scalar twin, assembly/reference/winograd-dw.ts,
// spells it out):
//   V: the forward's input transform (winograd.ts).
//   D: rows first, r_0 = y_0, r_1 = y_0 + y_1, r_2 = y_0 - y_1, r_3 = -y_1 (y_a row a of the tile,
//     for each column), then over the two columns (e_0, e_1) of each r_i:
//     D[4i + j] = (e_0, e_0 + e_1, e_0 - e_1, -e_1)[j].
//   A chunk's tiles run in pieces (pieceImages, bandRows): as many whole images as PIECE_BYTES of
//   V and D hold, or when one image does not fit, bands of its tile rows; a piece's tiles are
//   numbered image by image, row by row, and cut into slices of SLICE_TILES. dU of a chunk
//   starts at 0; each slice adds (dU = dU + s) s = Σ V·D over its tiles in order (from 0, mul
//   then add). The slices keep f32's rounding near the direct sums' (gemm.ts's KC slices).
//   dw: over the rows of dU for each column j, p = dU_1j + dU_2j, s_0 = dU_0j + p·½,
//     s_1 = (dU_1j - dU_2j)·½, s_2 = p·½ + dU_3j; then the same over the 4 columns of each s_k.
//   db: conv_bias_backward's sums over the chunk's images, as the direct chunks.
//
// Scratch of a task: x's padded copy (winograd.ts's layout), dout's padded copy channels last
// (2 TH rows of 2 TW pixels of FP = F rounded up to PX reals, zero past (Ho, Wo) and F), V (16 x
// C4 rows of TV tiles, C4 = C rounded up to 4; rows past C stay 0), D (16 x the piece's tiles x
// FP, tiles by rows) and dU (C4 / 4 blocks of 16 x 4 x FP). The products are the conv tiles' loop
// (4 channels broadcast x PX filters, summing over the tiles), so no sum is split into lanes.
import { FLOAT32, LANES, SHIFT } from "./real";
import { addReals, align16, conv_bias_backward, conv_chunk_reals, copyReals, zeroReals } from "./conv";
import { paddedWidth, tileRow, tilesAlong, transformInput } from "./winograd";

/** Filters per product tile: two v128 (8 f32, 4 f64). */
@inline const PX: i32 = 2 * <i32>LANES;

/**
 * Bytes of V and D one piece may take: the products read one ξ's slice of each (1/16), which
 * then stays in L2, with a few hundred tiles per piece to sum over.
 */
const PIECE_BYTES: usize = 1 << 20;

/** Tiles per slice of the sums (gemm.ts's KC): the twin must use the same. */
export const SLICE_TILES: i32 = 256;

@inline function roundUp(n: i32, m: i32): i32 {
  return (n + m - 1) & ~(m - 1);
}

/** Tiles a piece may hold (at least one tile row). */
@inline function pieceTiles(C: i32, F: i32, TW: i32): i32 {
  const perTile = <usize>(16 * (roundUp(C, 4) + roundUp(F, PX))) << SHIFT;
  return max(TW, <i32>(PIECE_BYTES / perTile));
}

/** Whole images per piece (from the sizes only), or 0 when one image's tiles do not fit: bands. */
export function conv3x3_winograd_dw_piece_images(C: i32, F: i32, TH: i32, TW: i32): i32 {
  return pieceTiles(C, F, TW) / (TH * TW);
}

/** Tile rows per band when an image runs in bands (conv3x3_winograd_dw_piece_images == 0). */
export function conv3x3_winograd_dw_band_rows(C: i32, F: i32, TH: i32, TW: i32): i32 {
  return min(TH, pieceTiles(C, F, TW) / TW);
}

/** Tiles in the largest piece. */
function largestPiece(C: i32, F: i32, TH: i32, TW: i32, G: i32): i32 {
  const images = conv3x3_winograd_dw_piece_images(C, F, TH, TW);
  return images > 0 ? min(images, G) * TH * TW : conv3x3_winograd_dw_band_rows(C, F, TH, TW) * TW;
}

// The scratch's layout for the sizes of the call at hand, set by layout(): module globals, which
// each thread's instance has its own of (a kernel allocates nothing: the heap is the host's).
let lTH = 0, lTW = 0, lHQ = 0, lWP = 0, lC4 = 0, lFP = 0, lTV = 0, lTP = 0;
/** Byte offsets from work of dout's copy, V, D and dU. */
let lPy: usize = 0, lV: usize = 0, lD: usize = 0, lU: usize = 0;

/** Sets the layout globals for these sizes; returns the scratch bytes. */
function layout(C: i32, H: i32, W: i32, F: i32, pad: i32, G: i32): usize {
  lTH = tilesAlong(H, pad);
  lTW = tilesAlong(W, pad);
  lHQ = 2 * lTH + 2;
  lWP = paddedWidth(lTW);
  lC4 = roundUp(C, 4);
  lFP = roundUp(F, PX);
  lTP = largestPiece(C, F, lTH, lTW, G);
  lTV = tileRow(lTP);
  lPy = align16(<usize>(C * lHQ * lWP) << SHIFT);
  lV = lPy + align16(<usize>(4 * lTH * lTW * lFP) << SHIFT);
  lD = lV + align16(<usize>(16 * lC4 * lTV) << SHIFT);
  lU = lD + align16(<usize>(16 * lTP * lFP) << SHIFT);
  return lU + align16(<usize>(16 * lC4 * lFP) << SHIFT);
}

/**
 * Scratch bytes of one task of conv3x3_winograd_dw_chunks (chunks of G images); the one-thread
 * conv3x3_winograd_dw takes conv_chunk_reals(F, 9 C) reals more.
 */
export function conv3x3_winograd_dw_work_bytes(C: usize, H: usize, W: usize, F: usize, pad: usize, G: usize): usize {
  return layout(<i32>C, <i32>H, <i32>W, <i32>F, <i32>pad, <i32>G);
}

/**
 * Chunks [c0, c1) of dw and db for a stride-1 3x3 conv (see the header): partials: chunks x
 * conv_chunk_reals(F, 9 C) reals (slices c0 .. c1 overwritten); dout (N, F, Ho, Wo); x (N, C, H,
 * W); chunk q holds images [q·G, min(N, (q+1)·G)). work: conv3x3_winograd_dw_work_bytes(...) bytes,
 * 16-byte aligned, the task's own.
 */
export function conv3x3_winograd_dw_chunks(
  partials: usize, dout: usize, x: usize, N: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, G: i32, c0: i32, c1: i32, work: usize,
): void {
  const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  if (c0 >= c1 || C <= 0 || F <= 0 || Ho <= 0 || Wo <= 0 || G <= 0) return;
  const FK = <usize>(F * C * 9) << SHIFT;
  const slice = conv_chunk_reals(<usize>F, <usize>(9 * C)) << SHIFT;
  zeroReals(work, layout(C, H, W, F, pad, G) >> SHIFT); // the copies' borders and V's rows past C stay 0 from here on
  for (let q = c0; q < c1; q++) chunk(partials + <usize>q * slice, partials + <usize>q * slice + FK, dout, x, N, C, H, W, F, pad, G, q, work);
}

/**
 * dw (F, C, 3, 3) and db (F) overwritten with the sums over the batch on one thread: the chunks
 * in order, each partial added as it is done (the bits of conv3x3_winograd_dw_chunks and then
 * sum_chunks). work: conv3x3_winograd_dw_work_bytes(...) bytes, 16-byte aligned, then
 * conv_chunk_reals(F, 9 C) reals.
 */
export function conv3x3_winograd_dw(
  dw: usize, db: usize, dout: usize, x: usize, N: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, G: i32, work: usize,
): void {
  const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  if (N <= 0 || C <= 0 || F <= 0 || Ho <= 0 || Wo <= 0 || G <= 0) return;
  const FK = <usize>(F * C * 9);
  const bytes = layout(C, H, W, F, pad, G);
  const partial = work + bytes;
  zeroReals(work, bytes >> SHIFT);
  const chunks = (N + G - 1) / G;
  for (let q = 0; q < chunks; q++) {
    if (q == 0) {
      chunk(dw, db, dout, x, N, C, H, W, F, pad, G, q, work);
      continue;
    }
    chunk(partial, partial + (FK << SHIFT), dout, x, N, C, H, W, F, pad, G, q, work);
    addReals(dw, partial, FK);
    addReals(db, partial + (FK << SHIFT), <usize>F);
  }
}

/**
 * Chunk q: dwq (F, C, 3, 3) and dbq (F) overwritten with the sums over its images. A chunk that is
 * one piece (the small maps of deep layers, where dU is largest: 1 MB at 128 x 128) runs channel
 * block by channel block, each block's dU zeroed, summed and transformed back while in L1.
 */
function chunk(
  dwq: usize, dbq: usize, dout: usize, x: usize, N: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, G: i32, q: i32, work: usize,
): void {
  const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  const TH = lTH, TW = lTW, Ti = TH * TW;
  const px = work, py = work + lPy, V = work + lV, D = work + lD, dU = work + lU;
  const imageBytes = <usize>(C * H * W) << SHIFT, doutBytes = <usize>(F * Ho * Wo) << SHIFT;
  const n0 = q * G, n1 = min(N, n0 + G);
  const blocks = lC4 >> 2;
  conv_bias_backward(dbq, dout + <usize>n0 * doutBytes, <usize>(n1 - n0), <usize>F, <usize>(Ho * Wo));
  const images = conv3x3_winograd_dw_piece_images(C, F, TH, TW);
  if (images >= n1 - n0) {
    for (let n = n0; n < n1; n++) transformImage(V, D, px, py, x, dout, n, n0, C, H, W, F, pad, Ho, Wo, imageBytes, doutBytes);
    const block = <usize>(64 * lFP); // reals of one channel block's dU: 16 x 4 x FP
    for (let b = 0; b < blocks; b++) {
      zeroReals(dU + ((<usize>b * block) << SHIFT), block);
      accumulate(dU, D, V, (n1 - n0) * Ti, b, b + 1);
      transformBack(dwq, dU, F, C, b, b + 1);
    }
    return;
  }
  zeroReals(dU, <usize>(16 * lC4 * lFP));
  if (images > 0) {
    for (let p0 = n0; p0 < n1; p0 += images) {
      const p1 = min(n1, p0 + images);
      for (let n = p0; n < p1; n++) transformImage(V, D, px, py, x, dout, n, p0, C, H, W, F, pad, Ho, Wo, imageBytes, doutBytes);
      accumulate(dU, D, V, (p1 - p0) * Ti, 0, blocks);
    }
  } else {
    const R = conv3x3_winograd_dw_band_rows(C, F, TH, TW);
    for (let n = n0; n < n1; n++) {
      padImages(px, py, x + <usize>n * imageBytes, dout + <usize>n * doutBytes, C, H, W, F, pad, Ho, Wo);
      for (let th0 = 0; th0 < TH; th0 += R) {
        const th1 = min(TH, th0 + R);
        transformInput(V, px, C, lC4, th0, th1, TW, lHQ, lWP, lTV);
        transformGradient(D, py, 0, th0, th1);
        accumulate(dU, D, V, (th1 - th0) * TW, 0, blocks);
      }
    }
  }
  transformBack(dwq, dU, F, C, 0, blocks);
}

/** Image n's V and D, at tile (n - p0)·TH·TW of the piece that starts at image p0. */
function transformImage(
  V: usize, D: usize, px: usize, py: usize, x: usize, dout: usize, n: i32, p0: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, Ho: i32, Wo: i32,
  imageBytes: usize, doutBytes: usize,
): void {
  const t0 = (n - p0) * lTH * lTW;
  padImages(px, py, x + <usize>n * imageBytes, dout + <usize>n * doutBytes, C, H, W, F, pad, Ho, Wo);
  transformInput(V + (<usize>t0 << SHIFT), px, C, lC4, 0, lTH, lTW, lHQ, lWP, lTV);
  transformGradient(D, py, t0, 0, lTH);
}

/**
 * The interiors of image x's padded copy (pad rows and columns of zeros before) and of its dout's
 * channels-last copy (py[(oh·2 TW + ow)·FP + f] = dout[f, oh, ow]).
 */
function padImages(px: usize, py: usize, x: usize, g: usize, C: i32, H: i32, W: i32, F: i32, pad: i32, Ho: i32, Wo: i32): void {
  for (let row = 0; row < C * H; row++) {
    const c = row / H;
    copyReals(px + (<usize>((c * lHQ + row % H + pad) * lWP + pad) << SHIFT), x + (<usize>(row * W) << SHIFT), <usize>W);
  }
  const pixel = <usize>lFP << SHIFT, ld = <usize>(2 * lTW) * pixel;
  for (let f = 0; f < F; f++) {
    const src = g + (<usize>(f * Ho * Wo) << SHIFT);
    for (let oh = 0; oh < Ho; oh++) {
      let d = py + <usize>oh * ld + (<usize>f << SHIFT);
      const s = src + (<usize>(oh * Wo) << SHIFT);
      for (let ow = 0; ow < Wo; ow++, d += pixel) store<real>(d, load<real>(s + (<usize>ow << SHIFT)));
    }
  }
}

/**
 * D[ξ][t][f] for the tiles of tile rows [th0, th1) of one image, numbered from t0 (t = t0 + (th -
 * th0)·TW + tw), LANES filters at a time from the channels-last copy py.
 */
function transformGradient(D: usize, py: usize, t0: i32, th0: i32, th1: i32): void {
  const pixel = <usize>lFP << SHIFT, ld = <usize>(2 * lTW) * pixel;
  const stride = <usize>(lTP * lFP) << SHIFT; // bytes per ξ
  for (let th = th0; th < th1; th++) {
    for (let tw = 0; tw < lTW; tw++) {
      const r0 = py + <usize>(2 * th) * ld + <usize>(2 * tw) * pixel, r1 = r0 + ld;
      const d = D + <usize>(t0 + (th - th0) * lTW + tw) * pixel;
      for (let o: usize = 0; o < pixel; o += 16) {
        const y00 = v128.load(r0 + o), y01 = v128.load(r0 + pixel + o), y10 = v128.load(r1 + o), y11 = v128.load(r1 + pixel + o);
        columnsOfD(d + o, stride, y00, y01);
        columnsOfD(d + o + 4 * stride, stride, v128.add<real>(y00, y10), v128.add<real>(y01, y11));
        columnsOfD(d + o + 8 * stride, stride, v128.sub<real>(y00, y10), v128.sub<real>(y01, y11));
        columnsOfD(d + o + 12 * stride, stride, v128.neg<real>(y10), v128.neg<real>(y11));
      }
    }
  }
}

/** D[4i + j] for j = 0 .. 3 of one row r_i = (e0, e1) at o, o + stride, ... */
@inline function columnsOfD(o: usize, stride: usize, e0: v128, e1: v128): void {
  v128.store(o, e0);
  v128.store(o + stride, v128.add<real>(e0, e1));
  v128.store(o + 2 * stride, v128.sub<real>(e0, e1));
  v128.store(o + 3 * stride, v128.neg<real>(e1));
}

/**
 * dU[c][f] += Σ_t V[ξ][c][t]·D[ξ][t][f] over a piece's T tiles by slices, for the channels of
 * blocks [b0, b1): 4 channels x PX filters a tile. dU by channel blocks: block b's ξ holds its 4
 * channels' rows of FP reals at dU + ((16 b + ξ)·4 + r)·FP.
 */
function accumulate(dU: usize, D: usize, V: usize, T: i32, b0: i32, b1: i32): void {
  const ldv = <usize>lTV << SHIFT, ldd = <usize>lFP << SHIFT;
  for (let b = b0; b < b1; b++) {
    for (let xi = 0; xi < 16; xi++) {
      const vx = V + <usize>(xi * lC4 + 4 * b) * ldv, dx = D + <usize>(xi * lTP) * ldd, ux = dU + <usize>((16 * b + xi) * 4) * ldd;
      for (let f = 0; f < lFP; f += PX) {
        for (let t0 = 0; t0 < T; t0 += SLICE_TILES) {
          const d = dx + <usize>t0 * ldd + (<usize>f << SHIFT);
          productTile(ux + (<usize>f << SHIFT), ldd, vx + (<usize>t0 << SHIFT), ldv, d, min(SLICE_TILES, T - t0));
        }
      }
    }
  }
}

/** u[i][0 .. PX) += Σ_t v_i[t]·d[t][0 .. PX) for 4 rows v_i (ldv apart) and the rows of d (ld apart). */
function productTile(u: usize, ld: usize, v: usize, ldv: usize, d: usize, T: i32): void {
  let s00 = v128.splat<real>(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
  const end = v + (<usize>T << SHIFT);
  for (; v < end; v += sizeof<real>(), d += ld) {
    const b0 = v128.load(d), b1 = v128.load(d, 16);
    const a0 = v128.load_splat<real>(v), a1 = v128.load_splat<real>(v + ldv), a2 = v128.load_splat<real>(v + 2 * ldv), a3 = v128.load_splat<real>(v + 3 * ldv);
    s00 = v128.add<real>(s00, v128.mul<real>(a0, b0));
    s01 = v128.add<real>(s01, v128.mul<real>(a0, b1));
    s10 = v128.add<real>(s10, v128.mul<real>(a1, b0));
    s11 = v128.add<real>(s11, v128.mul<real>(a1, b1));
    s20 = v128.add<real>(s20, v128.mul<real>(a2, b0));
    s21 = v128.add<real>(s21, v128.mul<real>(a2, b1));
    s30 = v128.add<real>(s30, v128.mul<real>(a3, b0));
    s31 = v128.add<real>(s31, v128.mul<real>(a3, b1));
  }
  addTo(u, s00, s01);
  addTo(u + ld, s10, s11);
  addTo(u + 2 * ld, s20, s21);
  addTo(u + 3 * ld, s30, s31);
}

/** The PX reals at u += (a, b). */
@inline function addTo(u: usize, a: v128, b: v128): void {
  v128.store(u, v128.add<real>(v128.load(u), a));
  v128.store(u, v128.add<real>(v128.load(u, 16), b), 16);
}

/** dw[f, c] (3x3) = Gᵀ dU[c, f] G for f < F and the channels c < C of blocks [b0, b1), LANES filters at a time. */
function transformBack(dw: usize, dU: usize, F: i32, C: i32, b0: i32, b1: i32): void {
  const half = v128.splat<real>(0.5);
  const plane = <usize>(4 * lFP) << SHIFT; // bytes per ξ
  for (let c = 4 * b0; c < min(C, 4 * b1); c++) {
    for (let f = 0; f < F; f += <i32>LANES) {
      const u = dU + (<usize>((64 * (c >> 2) + (c & 3)) * lFP + f) << SHIFT);
      const g = dw + (<usize>((f * C + c) * 9) << SHIFT);
      const lanes = min(<i32>LANES, F - f);
      for (let k = 0; k < 3; k++) {
        // row k of s = Gᵀ dU, then row k of s G
        const e0 = rowOfGt(u, plane, k, 0, half), e1 = rowOfGt(u, plane, k, 1, half), e2 = rowOfGt(u, plane, k, 2, half), e3 = rowOfGt(u, plane, k, 3, half);
        const p = v128.add<real>(e1, e2);
        const o = g + (<usize>(3 * k) << SHIFT);
        storeLanes(o, v128.add<real>(e0, v128.mul<real>(p, half)), lanes, C);
        storeLanes(o + (1 << SHIFT), v128.mul<real>(v128.sub<real>(e1, e2), half), lanes, C);
        storeLanes(o + (2 << SHIFT), v128.add<real>(v128.mul<real>(p, half), e3), lanes, C);
      }
    }
  }
}

/** s_k at column j, s = Gᵀ dU, for LANES filters: dU's ξ = 4i + j at u + ξ·plane. */
function rowOfGt(u: usize, plane: usize, k: i32, j: i32, half: v128): v128 {
  const u1 = v128.load(u + <usize>(4 + j) * plane), u2 = v128.load(u + <usize>(8 + j) * plane);
  if (k == 1) return v128.mul<real>(v128.sub<real>(u1, u2), half);
  const p = v128.mul<real>(v128.add<real>(u1, u2), half);
  if (k == 0) return v128.add<real>(v128.load(u + <usize>j * plane), p);
  return v128.add<real>(p, v128.load(u + <usize>(12 + j) * plane));
}

/** Lane i of v to o + i·9·C reals (filter f + i's weight), for the first `lanes` lanes. */
function storeLanes(o: usize, v: v128, lanes: i32, C: i32): void {
  const step = <usize>(9 * C) << SHIFT;
  if (FLOAT32) {
    store<real>(o, <real>f32x4.extract_lane(v, 0));
    if (lanes > 1) store<real>(o + step, <real>f32x4.extract_lane(v, 1));
    if (lanes > 2) store<real>(o + 2 * step, <real>f32x4.extract_lane(v, 2));
    if (lanes > 3) store<real>(o + 3 * step, <real>f32x4.extract_lane(v, 3));
  } else {
    store<real>(o, <real>f64x2.extract_lane(v, 0));
    if (lanes > 1) store<real>(o + step, <real>f64x2.extract_lane(v, 1));
  }
}
