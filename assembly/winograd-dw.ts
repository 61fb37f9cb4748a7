// The weight gradient of a stride-1 3x3 convolution by Winograd's F(2x2, 3x3), the forward's
// algorithm (winograd.ts) run backwards: the forward computes M[f, t] = Σ_c U[f, c] ⊙ V[c, t] and
// y = Aᵀ M A, so with D[f, t] = A dY Aᵀ (dY the 2x2 tile t of dout[f], 0 past (Ho, Wo))
//   dU[f, c] = Σ_{images, t} D[f, t] ⊙ V[c, t]  and  dw[f, c] = Gᵀ dU[f, c] G,
// 16 products per tile, filter and channel where the direct sums take 36 (Lavin and Gray 2016).
// The matrices are winograd.ts's: A = [1 0; 1 1; 1 -1; 0 -1], Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1].
//
// The batch is cut into chunks as the direct backward's (conv.ts, "Backward in chunks"): chunk q
// of G images (G fixed by the sizes) writes its dw and db partial sums to its own slice
// (conv_chunk_reals(F, 9 C) reals: dw (F, C, 3, 3), then db (F)), the host adds the slices in
// chunk order (sum_chunks), and one thread runs the same chunks adding each partial as it is done
// (conv3x3_winograd_dw): the same bits for any thread count.
//
// Order of every operation (sizes only; the scalar twin, assembly/reference/winograd-dw.ts,
// spells it out):
//   V: the forward's input transform (winograd.ts).
//   D: rows first, r_0 = y_0, r_1 = y_0 + y_1, r_2 = y_0 - y_1, r_3 = -y_1 (y_a row a of the tile,
//     for each column), then over the two columns (e_0, e_1) of each r_i:
//     D[4i + j] = (e_0, e_0 + e_1, e_0 - e_1, -e_1)[j].
//   A chunk's tiles run in pieces (pieceImages, bandRows): as many whole images as PIECE_BYTES of
//   V and D hold, or when one image does not fit, bands of its tile rows. Within a piece the tiles
//   are numbered from 0 (image by image, row by row). dU of a chunk starts at 0; each piece adds
//   (dU = dU + s) s = hsum of LANES lane sums, lane l summing D·V over the piece's tiles t with
//   t % LANES == l in ascending t (from 0, mul then add); hsum = (l_0 + l_1) + (l_2 + l_3) in f32,
//   l_0 + l_1 in f64.
//   dw: over the rows of dU for each column j, p = dU_1j + dU_2j, s_0 = dU_0j + p·½,
//     s_1 = (dU_1j - dU_2j)·½, s_2 = p·½ + dU_3j; then the same over the 4 columns of each s_k.
//   db: conv_bias_backward's sums over the chunk's images, as the direct chunks.
//
// Scratch of a task: x's padded copy (winograd.ts's layout), dout's padded copy (F planes of 2 TH
// rows of WQ = 2·TW rounded up to LANES·2 reals, zero past (Ho, Wo)), V (16 x C rows of TV
// tiles), D (16 x F4 rows of TV tiles; rows past F stay 0) and dU (16 x F4 x C).
import { FLOAT32, LANES, SHIFT } from "./real";
import { addReals, conv_bias_backward, conv_chunk_reals, copyReals, zeroReals } from "./conv";
import { paddedWidth, tileRow, tilesAlong, transformInput } from "./winograd";

/**
 * Bytes of V and D one piece may take: the products read one ξ's slice of each (1/16), which
 * then stays in L2, with a few hundred tiles per piece to sum over.
 */
const PIECE_BYTES: usize = 1 << 20;

/** Tiles a piece may hold (at least one tile row). */
@inline function pieceTiles(C: i32, F: i32, TW: i32): i32 {
  const perTile = <usize>(16 * (C + ((F + 3) & ~3))) << SHIFT;
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

@inline function align16(bytes: usize): usize {
  return (bytes + 15) & ~15;
}

/** Row length of dout's padded copy: the 2·LANES columns the last vector of tiles reads. */
@inline function gradientWidth(TW: i32): i32 {
  return 2 * ((TW + <i32>LANES - 1) & ~(<i32>LANES - 1));
}

/**
 * Scratch bytes of one task of conv3x3_winograd_dw_chunks (chunks of G images); the one-thread
 * conv3x3_winograd_dw takes conv_chunk_reals(F, 9 C) reals more.
 */
export function conv3x3_winograd_dw_work_bytes(C: usize, H: usize, W: usize, F: usize, pad: usize, G: usize): usize {
  const TH = tilesAlong(<i32>H, <i32>pad), TW = tilesAlong(<i32>W, <i32>pad);
  const F4 = (F + 3) & ~3;
  const TV = <usize>tileRow(largestPiece(<i32>C, <i32>F, TH, TW, <i32>G));
  return align16((C * <usize>(2 * TH + 2) * <usize>paddedWidth(TW)) << SHIFT) + align16((F * <usize>(2 * TH * gradientWidth(TW))) << SHIFT) +
    align16((16 * C * TV) << SHIFT) + align16((16 * F4 * TV) << SHIFT) + align16((16 * F4 * C) << SHIFT);
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
  clearScratch(C, H, W, F, pad, G, work);
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
  const partial = work + conv3x3_winograd_dw_work_bytes(<usize>C, <usize>H, <usize>W, <usize>F, <usize>pad, <usize>G);
  clearScratch(C, H, W, F, pad, G, work);
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

/** Zeroes the scratch: the padded copies' borders and D's rows past F stay 0 from here on. */
function clearScratch(C: i32, H: i32, W: i32, F: i32, pad: i32, G: i32, work: usize): void {
  zeroReals(work, conv3x3_winograd_dw_work_bytes(<usize>C, <usize>H, <usize>W, <usize>F, <usize>pad, <usize>G) >> SHIFT);
}

/** Chunk q: dwq (F, C, 3, 3) and dbq (F) overwritten with the sums over its images. */
function chunk(
  dwq: usize, dbq: usize, dout: usize, x: usize, N: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, G: i32, q: i32, work: usize,
): void {
  const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  const TH = tilesAlong(H, pad), TW = tilesAlong(W, pad), Ti = TH * TW;
  const HQ = 2 * TH + 2, WP = paddedWidth(TW), WQ = gradientWidth(TW);
  const F4 = (F + 3) & ~3;
  const TV = tileRow(largestPiece(C, F, TH, TW, G));
  const px = work;
  const py = px + align16(<usize>(C * HQ * WP) << SHIFT);
  const V = py + align16(<usize>(F * 2 * TH * WQ) << SHIFT);
  const D = V + align16(<usize>(16 * C * TV) << SHIFT);
  const dU = D + align16(<usize>(16 * F4 * TV) << SHIFT);
  const imageBytes = <usize>(C * H * W) << SHIFT, doutBytes = <usize>(F * Ho * Wo) << SHIFT;
  const n0 = q * G, n1 = min(N, n0 + G);
  conv_bias_backward(dbq, dout + <usize>n0 * doutBytes, <usize>(n1 - n0), <usize>F, <usize>(Ho * Wo));
  zeroReals(dU, <usize>(16 * F4 * C));
  const images = conv3x3_winograd_dw_piece_images(C, F, TH, TW);
  if (images > 0) {
    for (let p0 = n0; p0 < n1; p0 += images) {
      const p1 = min(n1, p0 + images);
      for (let n = p0; n < p1; n++) {
        const o = <usize>((n - p0) * Ti) << SHIFT;
        padImages(px, py, x + <usize>n * imageBytes, dout + <usize>n * doutBytes, C, H, W, F, pad, Ho, Wo, HQ, WP, TH, WQ);
        transformInput(V + o, px, C, 0, TH, TW, HQ, WP, TV);
        transformGradient(D + o, py, F, F4, 0, TH, TW, TH, WQ, TV);
      }
      accumulate(dU, D, V, C, F, F4, TV, (p1 - p0) * Ti);
    }
  } else {
    const R = conv3x3_winograd_dw_band_rows(C, F, TH, TW);
    for (let n = n0; n < n1; n++) {
      padImages(px, py, x + <usize>n * imageBytes, dout + <usize>n * doutBytes, C, H, W, F, pad, Ho, Wo, HQ, WP, TH, WQ);
      for (let th0 = 0; th0 < TH; th0 += R) {
        const th1 = min(TH, th0 + R);
        transformInput(V, px, C, th0, th1, TW, HQ, WP, TV);
        transformGradient(D, py, F, F4, th0, th1, TW, TH, WQ, TV);
        accumulate(dU, D, V, C, F, F4, TV, (th1 - th0) * TW);
      }
    }
  }
  transformBack(dwq, dU, F, C, F4);
}

/** The interiors of image x's padded copy (pad rows and columns of zeros before) and of its dout's. */
function padImages(
  px: usize, py: usize, x: usize, g: usize, C: i32, H: i32, W: i32, F: i32, pad: i32, Ho: i32, Wo: i32, HQ: i32, WP: i32, TH: i32, WQ: i32,
): void {
  for (let row = 0; row < C * H; row++) {
    const c = row / H;
    copyReals(px + (<usize>((c * HQ + row % H + pad) * WP + pad) << SHIFT), x + (<usize>(row * W) << SHIFT), <usize>W);
  }
  for (let row = 0; row < F * Ho; row++) {
    const f = row / Ho;
    copyReals(py + (<usize>((f * 2 * TH + row % Ho) * WQ) << SHIFT), g + (<usize>(row * Wo) << SHIFT), <usize>Wo);
  }
}

/**
 * D[ξ][f][t] for the filters' tiles of tile rows [th0, th1) (t = (th - th0)·TW + tw; whole vectors
 * of LANES tiles, so a row's last vector writes past it, into the next row's first tiles, which
 * that row then overwrites, or into the slack of TV: those tiles read only the copy's zeros, so
 * they are 0). py: F planes of 2 TH rows of WQ reals.
 */
function transformGradient(D: usize, py: usize, F: i32, F4: i32, th0: i32, th1: i32, TW: i32, TH: i32, WQ: i32, TV: i32): void {
  const ld = <usize>WQ << SHIFT;
  const stride = <usize>(F4 * TV) << SHIFT; // bytes per ξ
  for (let f = 0; f < F; f++) {
    const plane = py + <usize>(f * 2 * TH) * ld;
    const df = D + (<usize>(f * TV) << SHIFT);
    for (let th = th0; th < th1; th++) {
      const r0 = plane + <usize>(2 * th) * ld, r1 = r0 + ld;
      const dt = df + (<usize>((th - th0) * TW) << SHIFT);
      for (let tw = 0; tw < TW; tw += <i32>LANES) {
        const o = <usize>(2 * tw) << SHIFT;
        const a0 = v128.load(r0 + o), b0 = v128.load(r0 + o, 16), a1 = v128.load(r1 + o), b1 = v128.load(r1 + o, 16);
        // y_ab for LANES tiles: even columns are b = 0, odd b = 1
        let y00: v128, y01: v128, y10: v128, y11: v128;
        if (FLOAT32) {
          y00 = v128.shuffle<f32>(a0, b0, 0, 2, 4, 6);
          y01 = v128.shuffle<f32>(a0, b0, 1, 3, 5, 7);
          y10 = v128.shuffle<f32>(a1, b1, 0, 2, 4, 6);
          y11 = v128.shuffle<f32>(a1, b1, 1, 3, 5, 7);
        } else {
          y00 = v128.shuffle<f64>(a0, b0, 0, 2);
          y01 = v128.shuffle<f64>(a0, b0, 1, 3);
          y10 = v128.shuffle<f64>(a1, b1, 0, 2);
          y11 = v128.shuffle<f64>(a1, b1, 1, 3);
        }
        const d = dt + (<usize>tw << SHIFT);
        columnsOfD(d, stride, y00, y01);
        columnsOfD(d + 4 * stride, stride, v128.add<real>(y00, y10), v128.add<real>(y01, y11));
        columnsOfD(d + 8 * stride, stride, v128.sub<real>(y00, y10), v128.sub<real>(y01, y11));
        columnsOfD(d + 12 * stride, stride, v128.neg<real>(y10), v128.neg<real>(y11));
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
 * dU[ξ][f][c] += Σ_t D[ξ][f][t]·V[ξ][c][t] over a piece's T tiles (the header's lane sums), 4
 * filters x 2 channels a block. The tiles from T to the next multiple of LANES are zeroed first
 * in V and D (a row's last vector may have written there, or a larger piece before).
 */
function accumulate(dU: usize, D: usize, V: usize, C: i32, F: i32, F4: i32, TV: i32, T: i32): void {
  const TL = (T + <i32>LANES - 1) & ~(<i32>LANES - 1);
  for (let r = 0; r < 16 * C; r++) for (let t = T; t < TL; t++) store<real>(V + (<usize>(r * TV + t) << SHIFT), 0);
  for (let r = 0; r < 16 * F4; r++) for (let t = T; t < TL; t++) store<real>(D + (<usize>(r * TV + t) << SHIFT), 0);
  const ld = <usize>TV << SHIFT;
  const end = <usize>TL << SHIFT;
  for (let xi = 0; xi < 16; xi++) {
    const dx = D + <usize>(xi * F4) * ld, vx = V + <usize>(xi * C) * ld;
    const ux = dU + (<usize>(xi * F4 * C) << SHIFT);
    for (let f = 0; f < F; f += 4) {
      const d0 = dx + <usize>f * ld;
      let c = 0;
      for (; c + 2 <= C; c += 2) dotBlock(ux + (<usize>(f * C + c) << SHIFT), <usize>C << SHIFT, d0, vx + <usize>c * ld, ld, end);
      if (c < C) dotColumn(ux + (<usize>(f * C + c) << SHIFT), <usize>C << SHIFT, d0, vx + <usize>c * ld, ld, end);
    }
  }
}

/** u[i·ldu + j] += lane sums of Σ_t d_i[t]·v_j[t] for rows d_0..d_3 (ld apart) and v_0, v_1. */
function dotBlock(u: usize, ldu: usize, d: usize, v: usize, ld: usize, end: usize): void {
  let s00 = v128.splat<real>(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
  for (let o: usize = 0; o < end; o += 16) {
    const v0 = v128.load(v + o), v1 = v128.load(v + ld + o);
    const d0 = v128.load(d + o), d1 = v128.load(d + ld + o), d2 = v128.load(d + 2 * ld + o), d3 = v128.load(d + 3 * ld + o);
    s00 = v128.add<real>(s00, v128.mul<real>(d0, v0));
    s01 = v128.add<real>(s01, v128.mul<real>(d0, v1));
    s10 = v128.add<real>(s10, v128.mul<real>(d1, v0));
    s11 = v128.add<real>(s11, v128.mul<real>(d1, v1));
    s20 = v128.add<real>(s20, v128.mul<real>(d2, v0));
    s21 = v128.add<real>(s21, v128.mul<real>(d2, v1));
    s30 = v128.add<real>(s30, v128.mul<real>(d3, v0));
    s31 = v128.add<real>(s31, v128.mul<real>(d3, v1));
  }
  addSum(u, s00);
  addSum(u + (1 << SHIFT), s01);
  addSum(u + ldu, s10);
  addSum(u + ldu + (1 << SHIFT), s11);
  addSum(u + 2 * ldu, s20);
  addSum(u + 2 * ldu + (1 << SHIFT), s21);
  addSum(u + 3 * ldu, s30);
  addSum(u + 3 * ldu + (1 << SHIFT), s31);
}

/** dotBlock for one channel (the last of an odd C). */
function dotColumn(u: usize, ldu: usize, d: usize, v: usize, ld: usize, end: usize): void {
  let s0 = v128.splat<real>(0), s1 = s0, s2 = s0, s3 = s0;
  for (let o: usize = 0; o < end; o += 16) {
    const v0 = v128.load(v + o);
    s0 = v128.add<real>(s0, v128.mul<real>(v128.load(d + o), v0));
    s1 = v128.add<real>(s1, v128.mul<real>(v128.load(d + ld + o), v0));
    s2 = v128.add<real>(s2, v128.mul<real>(v128.load(d + 2 * ld + o), v0));
    s3 = v128.add<real>(s3, v128.mul<real>(v128.load(d + 3 * ld + o), v0));
  }
  addSum(u, s0);
  addSum(u + ldu, s1);
  addSum(u + 2 * ldu, s2);
  addSum(u + 3 * ldu, s3);
}

/** *u = *u + hsum(s). */
@inline function addSum(u: usize, s: v128): void {
  const h: real = FLOAT32
    ? <real>((f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3)))
    : <real>(f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1));
  store<real>(u, load<real>(u) + h);
}

/** dw[f, c] (3x3) = Gᵀ dU[f, c] G for f < F, c < C (dU: 16 x F4 x C). */
function transformBack(dw: usize, dU: usize, F: i32, C: i32, F4: i32): void {
  const half: real = 0.5;
  const plane = <usize>(F4 * C) << SHIFT; // bytes per ξ
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      const u = dU + (<usize>(f * C + c) << SHIFT);
      const g = dw + (<usize>((f * C + c) * 9) << SHIFT);
      for (let k = 0; k < 3; k++) {
        // row k of s = Gᵀ dU, then row k of s G
        const e0 = rowOfGt(u, plane, k, 0), e1 = rowOfGt(u, plane, k, 1), e2 = rowOfGt(u, plane, k, 2), e3 = rowOfGt(u, plane, k, 3);
        const p = e1 + e2;
        store<real>(g + (<usize>(3 * k) << SHIFT), e0 + p * half);
        store<real>(g + (<usize>(3 * k + 1) << SHIFT), (e1 - e2) * half);
        store<real>(g + (<usize>(3 * k + 2) << SHIFT), p * half + e3);
      }
    }
  }
}

/** s_k at column j, s = Gᵀ dU: dU's ξ = 4i + j at u + ξ·plane. */
@inline function rowOfGt(u: usize, plane: usize, k: i32, j: i32): real {
  const half: real = 0.5;
  const u1 = load<real>(u + <usize>(4 + j) * plane), u2 = load<real>(u + <usize>(8 + j) * plane);
  if (k == 1) return (u1 - u2) * half;
  const p = u1 + u2;
  if (k == 0) return load<real>(u + <usize>j * plane) + p * half;
  return p * half + load<real>(u + <usize>(12 + j) * plane);
}
