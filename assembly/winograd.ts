// 3x3 convolution forward, stride 1, by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray
// 2016, "Fast algorithms for convolutional neural networks"), over `real` (f32 or f64): 16
// products per 2x2 outputs and input channel where im2col + GEMM takes 36. For one image x
// (C, H, W), weights w (F, C, 3, 3) and zero padding `pad`:
//   Ho = H + 2 pad - 2, Wo = W + 2 pad - 2, tiles of 2x2 outputs: TH = ceil(Ho / 2) rows of
//   TW = ceil(Wo / 2), T = TH·TW, tile t = th·TW + tw covers outputs (2th + a, 2tw + b), a, b < 2
//   and reads the 4x4 window d of the padded input at rows 2th .. 2th + 3, columns 2tw .. 2tw + 3.
//   U[f, c] = G g Gᵀ (g = w[f, c], 3x3), V[c, t] = Bᵀ d B, M[f, t] = Σ_c U[f, c] ⊙ V[c, t] (the 16
//   positions ξ = 4i + j element by element), y = Aᵀ M A (2x2), with
//     G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],  Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//     Aᵀ = [1 1 1 0; 0 1 -1 -1].
//   out[f, 2th + a, 2tw + b] = [relu]([bn](y[a, b] + b[f])) where it lies inside (Ho, Wo).
// The same kernel gives a stride-1 3x3 conv's input gradient: dx = conv3x3(dout, w', pad 2 - pad)
// with w'[c, f] = w[f, c] turned by 180 degrees (conv3x3_winograd_pack_flipped) and no bias.
//
// The rounding differs from the direct sums (conv.ts), by a few units in the last place for the
// maps of a small network; the order of every operation depends on the sizes only, so the bits
// are the same in every runtime, for any split, and equal to the scalar twin's
// (assembly/reference/winograd.ts), which spells the order out:
//   U (conv3x3_winograd_pack): t_0 = g_0, t_1 = ((g_0 + g_1) + g_2)·½, t_2 = ((g_0 - g_1) + g_2)·½,
//     t_3 = g_2 over the rows of g (for each column), then the same over the columns of t.
//   V: rows first, u_0 = d_0 - d_2, u_1 = d_1 + d_2, u_2 = d_2 - d_1, u_3 = d_1 - d_3 (d_i row i of
//     the window, for each column), then the same over the columns of each u_i: V[4i + j].
//   M[ξ] = Σ_{c ascending} U[ξ]·V[ξ] (from 0, mul then add).
//   y: p_j = (M_0j + M_1j) + M_2j, q_j = (M_1j - M_2j) - M_3j for each column j, then
//     y00 = (p_0 + p_1) + p_2, y01 = (p_1 - p_2) - p_3, y10 = (q_0 + q_1) + q_2, y11 = (q_1 - q_2) - q_3;
//   r = y + b[f] (y when there is no bias), with bn g·((r - m)·inv) + beta
//   (conv_forward_images_bn's table), relu keeps lanes where !(r <= 0) (so NaN stays, -0 becomes
//   +0), as the direct kernels.
//
// Layout of one image's scratch: the padded copy (C planes of HQ rows of WP reals), then for a band
// of R tile rows (bandRows) V (16 x C rows of TV tiles) and M (16 x F4 rows of TV tiles, F4 = F
// rounded up to 4), TV = R·TW rounded up to PX plus PX (transforms write whole vectors of tiles;
// the products run over blocks of PX tiles). The products are the conv tiles' loop (4 filters
// broadcast x PX tiles, K = C).
import { FLOAT32, LANES, SHIFT } from "./real";
import { align16, copyReals, dcolsTile, zeroReals } from "./conv";
import { storeInterleaved } from "./window";

/** Tiles per product block: two v128 (8 f32, 4 f64). */
@inline const PX: i32 = 2 * <i32>LANES;

/** Reals of the transformed weights: 16 x (F rounded up to 4) x C. */
export function conv3x3_winograd_packed_reals(F: usize, C: usize): usize {
  return 16 * ((F + 3) & ~3) * C;
}

/**
 * U (16, ceil(F/4), C, 4) = G w[f, c] Gᵀ for w (F, C, 3, 3): U[ξ][g][c][r] = the ξ-th value of
 * filter 4g + r's transform for channel c (0 past F). Computed once per weights.
 */
export function conv3x3_winograd_pack(U: usize, w: usize, F: i32, C: i32): void {
  packTransforms(U, w, F, C, false);
}

/**
 * U for the convolution that gives a stride-1 3x3 conv's input gradient, dx = conv3x3(dout, w',
 * pad 2 - pad): C filters over F channels, w'[c, f] = w[f, c] turned by 180 degrees, for w (F, C,
 * 3, 3). conv3x3_winograd_packed_reals(C, F) reals; the bits of conv3x3_winograd_pack on w'
 * written out (only the order the values are read in differs).
 */
export function conv3x3_winograd_pack_flipped(U: usize, w: usize, F: i32, C: i32): void {
  packTransforms(U, w, C, F, true);
}

/**
 * U for a convolution of F filters over C channels (see conv3x3_winograd_pack); filter f's channel
 * c is w[f, c] (w: F x C x 9), or when `flipped` w[c, f] turned by 180 degrees (w: C x F x 9).
 */
function packTransforms(U: usize, w: usize, F: i32, C: i32, flipped: bool): void {
  const F4 = (F + 3) & ~3;
  const plane = <usize>(F4 * C) << SHIFT; // bytes per ξ
  const half: real = 0.5;
  // Turned by 180 degrees, element k of g is element 8 - k of w's 3x3: read from its end backwards.
  const step: isize = flipped ? -(1 << SHIFT) : 1 << SHIFT;
  for (let f = 0; f < F4; f++) {
    for (let c = 0; c < C; c++) {
      const g = w + (flipped ? <usize>((c * F + f) * 9 + 8) << SHIFT : <usize>((f * C + c) * 9) << SHIFT);
      const d = U + (<usize>(((f >> 2) * C + c) * 4 + (f & 3)) << SHIFT);
      for (let i = 0; i < 4; i++) {
        // row i of t = G g (0 past F), then row i of u = t Gᵀ
        const t0: real = f < F ? rowOfG(g, step, i, 0) : 0, t1: real = f < F ? rowOfG(g, step, i, 1) : 0, t2: real = f < F ? rowOfG(g, step, i, 2) : 0;
        store<real>(d + <usize>(4 * i) * plane, t0);
        store<real>(d + <usize>(4 * i + 1) * plane, (t0 + t1 + t2) * half);
        store<real>(d + <usize>(4 * i + 2) * plane, (t0 - t1 + t2) * half);
        store<real>(d + <usize>(4 * i + 3) * plane, t2);
      }
    }
  }
}

/** (G g)[i, j]: row i of G applied to column j of the 3x3 g (row-major; element k at g + k·step). */
@inline function rowOfG(g: usize, step: isize, i: i32, j: i32): real {
  const g0 = load<real>(g + <usize>(<isize>j * step)), g1 = load<real>(g + <usize>(<isize>(3 + j) * step)), g2 = load<real>(g + <usize>(<isize>(6 + j) * step));
  const half: real = 0.5;
  if (i == 0) return g0;
  if (i == 1) return (g0 + g1 + g2) * half;
  if (i == 2) return (g0 - g1 + g2) * half;
  return g2;
}

/** Tiles of a map: Ho = H + 2 pad - 2 rows of outputs in 2-row tiles. */
@inline export function tilesAlong(size: i32, pad: i32): i32 {
  return (size + 2 * pad - 1) >> 1;
}

/**
 * Row length of the padded copy: the columns the last vector of tiles reads (three vectors from
 * column 2·(roundup(TW, LANES) - LANES)), which covers the padded image (2 TW + 2 >= W + 2 pad).
 */
@inline export function paddedWidth(TW: i32): i32 {
  const L = <i32>LANES;
  return (2 * ((TW + L - 1) & ~(L - 1)) + 3 + L - 1) & ~(L - 1);
}

/**
 * Bytes of V and M a band of tile rows may take: a large map runs in bands of tile rows (each
 * band transformed, multiplied and transformed back before the next), so its scratch stays near
 * the L2 size instead of growing with the map (a 224x224 map at 64 channels would take 100 MB).
 * Every tile's values are the same in any band.
 */
const BAND_BYTES: usize = 256 << 10;

/** Tile rows per band: as many as BAND_BYTES holds (at least 1, at most TH), from the sizes only. */
@inline function bandRows(C: i32, F: i32, TH: i32, TW: i32): i32 {
  const perRow = <usize>(16 * (C + ((F + 3) & ~3)) * TW) << SHIFT;
  return <i32>min<usize>(<usize>TH, max<usize>(1, BAND_BYTES / perRow));
}

/** Tiles per row of V and M: T rounded up to PX, plus PX. */
@inline export function tileRow(T: i32): i32 {
  return ((T + PX - 1) & ~(PX - 1)) + PX;
}

/**
 * Scratch bytes conv3x3_winograd needs (one task): an image's padded copy (C x (2 TH + 2) x WP),
 * V (16 x C x TV) and M (16 x F4 x TV) for a band of tile rows, and PX reals for a row's last
 * outputs, 16-byte aligned pieces.
 */
export function conv3x3_winograd_work_bytes(C: usize, H: usize, W: usize, F: usize, pad: usize): usize {
  const TH = tilesAlong(<i32>H, <i32>pad), TW = tilesAlong(<i32>W, <i32>pad);
  const WP = <usize>paddedWidth(TW), TV = <usize>tileRow(bandRows(<i32>C, <i32>F, TH, TW) * TW);
  const padded = C * <usize>(2 * TH + 2) * WP;
  return align16(padded << SHIFT) + align16((16 * C * TV) << SHIFT) + align16((16 * ((F + 3) & ~3) * TV) << SHIFT) + 32;
}

/**
 * out (N, F, Ho, Wo) for images [n0, n1) and filters [f0, f1) (f0 a multiple of 4): the 3x3,
 * stride-1 convolution of x (N, C, H, W) with zero padding `pad` (Ho = H + 2 pad - 2 >= 1, Wo
 * likewise), by U (conv3x3_winograd_pack), plus b (F; b = 0: no bias), then with bn != 0 the
 * batch norm of conv_forward_images_bn's table, then ReLU when `relu`. work:
 * conv3x3_winograd_work_bytes(...) bytes, 16-byte aligned, the task's own. Any split of images or
 * filters gives the same bits.
 */
export function conv3x3_winograd(
  out: usize, x: usize, U: usize, b: usize, bn: usize, N: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, relu: bool,
  work: usize, n0: i32, n1: i32, f0: i32, f1: i32,
): void {
  if (n1 > N) n1 = N;
  if (f1 > F) f1 = F;
  const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  if (n0 < 0 || n0 >= n1 || f0 < 0 || f0 >= f1 || C <= 0 || Ho <= 0 || Wo <= 0) return;
  const TH = tilesAlong(H, pad), TW = tilesAlong(W, pad);
  const R = bandRows(C, F, TH, TW);
  const HQ = 2 * TH + 2, WP = paddedWidth(TW), TV = tileRow(R * TW);
  const F4 = (F + 3) & ~3;
  const padded = work;
  const V = padded + align16(<usize>(C * HQ * WP) << SHIFT);
  const M = V + align16(<usize>(16 * C * TV) << SHIFT);
  const edge = M + align16(<usize>(16 * F4 * TV) << SHIFT);
  const imageBytes = <usize>(C * H * W) << SHIFT;
  const outBytes = <usize>(F * Ho * Wo) << SHIFT;
  zeroReals(padded, <usize>(C * HQ * WP)); // the borders stay zero; the interior is copied per image
  for (let n = n0; n < n1; n++) {
    const xn = x + <usize>n * imageBytes;
    for (let row = 0; row < C * H; row++) {
      const c = row / H;
      copyReals(padded + (<usize>((c * HQ + row % H + pad) * WP + pad) << SHIFT), xn + (<usize>(row * W) << SHIFT), <usize>W);
    }
    for (let th0 = 0; th0 < TH; th0 += R) {
      const th1 = min(TH, th0 + R);
      transformInput(V, padded, C, C, th0, th1, TW, HQ, WP, TV);
      products(M, V, U, C, F4, TV, (th1 - th0) * TW, f0 & ~3, f1);
      transformOutput(out + <usize>n * outBytes, M, b, bn, relu, F4, TV, th0, th1, TW, Ho, Wo, f0 & ~3, f1, edge);
    }
  }
}

/**
 * V[ξ][c][t] for every channel and the tiles of tile rows [th0, th1) (t = (th - th0)·TW + tw;
 * whole vectors of LANES tiles, so a tile row's last vector writes past the row into the next
 * one's first tiles, which that row then overwrites, or into the slack of TV), V holding `rows`
 * (>= C) rows of TV tiles per ξ: for LANES tiles, the rows of their 4 input rows combined
 * over the 2·LANES + 3 columns they read (three vectors, in registers: going through memory made
 * every shifted load wait for the stores before it), then each combined row's columns.
 */
export function transformInput(V: usize, padded: usize, C: i32, rows: i32, th0: i32, th1: i32, TW: i32, HQ: i32, WP: i32, TV: i32): void {
  const ld = <usize>WP << SHIFT;
  const vStride = <usize>(rows * TV) << SHIFT; // bytes per ξ
  for (let c = 0; c < C; c++) {
    const plane = padded + <usize>(c * HQ) * ld;
    const vc = V + (<usize>(c * TV) << SHIFT);
    for (let th = th0; th < th1; th++) {
      const d0 = plane + <usize>(2 * th) * ld;
      const vt = vc + (<usize>((th - th0) * TW) << SHIFT);
      for (let tw = 0; tw < TW; tw += <i32>LANES) {
        const o = <usize>(2 * tw) << SHIFT;
        const vo = vt + (<usize>tw << SHIFT);
        // the 4 input rows at columns 2tw .. 2tw + 3·LANES - 1, as three vectors each
        const r0 = d0 + o, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
        const a0 = v128.load(r0), a1 = v128.load(r1), a2 = v128.load(r2), a3 = v128.load(r3);
        const b0 = v128.load(r0, 16), b1 = v128.load(r1, 16), b2 = v128.load(r2, 16), b3 = v128.load(r3, 16);
        const c0 = v128.load(r0, 32), c1 = v128.load(r1, 32), c2 = v128.load(r2, 32), c3 = v128.load(r3, 32);
        rowOfV(vo, vStride, v128.sub<real>(a0, a2), v128.sub<real>(b0, b2), v128.sub<real>(c0, c2));
        rowOfV(vo + 4 * vStride, vStride, v128.add<real>(a1, a2), v128.add<real>(b1, b2), v128.add<real>(c1, c2));
        rowOfV(vo + 8 * vStride, vStride, v128.sub<real>(a2, a1), v128.sub<real>(b2, b1), v128.sub<real>(c2, c1));
        rowOfV(vo + 12 * vStride, vStride, v128.sub<real>(a1, a3), v128.sub<real>(b1, b3), v128.sub<real>(c1, c3));
      }
    }
  }
}

/**
 * One combined row u (its columns 2tw .. as the vectors a, b, c) of LANES tiles: e_k = u[2tw' + k]
 * for each tile tw' (k = 0 .. 3), then V[4i + j] for j = 0 .. 3 at o, o + stride, ... (e0 - e2,
 * e1 + e2, e2 - e1, e1 - e3).
 */
@inline function rowOfV(o: usize, stride: usize, a: v128, b: v128, c: v128): void {
  let e0: v128, e1: v128, e2: v128, e3: v128;
  if (FLOAT32) {
    e0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
    e1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
    e2 = v128.shuffle<f32>(e0, c, 1, 2, 3, 4);
    e3 = v128.shuffle<f32>(e1, c, 1, 2, 3, 5);
  } else {
    e0 = v128.shuffle<f64>(a, b, 0, 2);
    e1 = v128.shuffle<f64>(a, b, 1, 3);
    e2 = v128.shuffle<f64>(b, c, 0, 2);
    e3 = v128.shuffle<f64>(b, c, 1, 3);
  }
  v128.store(o, v128.sub<real>(e0, e2));
  v128.store(o + stride, v128.add<real>(e1, e2));
  v128.store(o + 2 * stride, v128.sub<real>(e2, e1));
  v128.store(o + 3 * stride, v128.sub<real>(e1, e3));
}

/**
 * M[ξ][f][t] = Σ_c U[ξ][f][c]·V[ξ][c][t] for filters [f0, f1) (f0 a multiple of 4) and tiles in
 * blocks of PX up to T, a last block of at most LANES tiles as a narrow one (a 4x4 map has 4
 * tiles: a PX block would compute twice its work): 4 filters x PX (or LANES) tiles a tile, c
 * ascending, the conv tiles' loop (conv.ts's dcolsTile, over C instead of filters); every
 * value's sum is the same in both kinds of block.
 */
function products(M: usize, V: usize, U: usize, C: i32, F4: i32, TV: i32, T: i32, f0: i32, f1: i32): void {
  const ldv = <usize>TV << SHIFT;
  const uStride = <usize>(F4 * C) << SHIFT, vStride = <usize>C * ldv, mStride = <usize>F4 * ldv;
  const full = T - T % PX;
  const narrow = T > full && T - full <= <i32>LANES;
  for (let xi = 0; xi < 16; xi++) {
    for (let f = f0; f < f1; f += 4) {
      const ap = U + <usize>xi * uStride + (<usize>(f * C) << SHIFT);
      const mo = M + <usize>xi * mStride + <usize>f * ldv;
      const vo = V + <usize>xi * vStride;
      for (let t = 0; t < T; t += PX) {
        const o = <usize>t << SHIFT;
        if (narrow && t == full) productTileNarrow(ap, vo + o, ldv, <usize>C, mo + o);
        else dcolsTile(ap, vo + o, ldv, <usize>C, mo + o, ldv, false);
      }
    }
  }
}

/** dcolsTile over LANES tiles (one v128 of each filter's sums). */
function productTileNarrow(ap: usize, bp: usize, ldv: usize, C: usize, out: usize): void {
  let c0 = v128.splat<real>(0), c1 = v128.splat<real>(0), c2 = v128.splat<real>(0), c3 = v128.splat<real>(0);
  const end = ap + (C << (SHIFT + 2));
  while (ap < end) {
    const bl = v128.load(bp);
    c0 = v128.add<real>(c0, v128.mul<real>(v128.load_splat<real>(ap, 0), bl));
    c1 = v128.add<real>(c1, v128.mul<real>(v128.load_splat<real>(ap, sizeof<real>()), bl));
    c2 = v128.add<real>(c2, v128.mul<real>(v128.load_splat<real>(ap, 2 * sizeof<real>()), bl));
    c3 = v128.add<real>(c3, v128.mul<real>(v128.load_splat<real>(ap, 3 * sizeof<real>()), bl));
    ap += 4 << SHIFT;
    bp += ldv;
  }
  v128.store(out, c0);
  v128.store(out + ldv, c1);
  v128.store(out + 2 * ldv, c2);
  v128.store(out + 3 * ldv, c3);
}

/**
 * out (F, Ho, Wo) of filters [f0, f1) and tile rows [th0, th1) from M (as transformInput numbers
 * the band's tiles): LANES tiles of one tile row at a time, y = Aᵀ M A
 * with the epilogue; the two output rows of the tiles interleaved (y00 y01 y00 y01 ...) into
 * whole vectors where the tiles' outputs all lie inside the map, else value by value.
 */
function transformOutput(
  out: usize, M: usize, b: usize, bn: usize, relu: bool, F4: i32, TV: i32, th0: i32, th1: i32, TW: i32, Ho: i32, Wo: i32, f0: i32, f1: i32, edge: usize,
): void {
  const ldv = <usize>TV << SHIFT;
  const mStride = <usize>F4 * ldv;
  const ldo = <usize>Wo << SHIFT;
  const z = v128.splat<real>(0);
  for (let f = f0; f < f1; f++) {
    const mf = M + <usize>f * ldv;
    const outF = out + <usize>(f * Ho) * ldo;
    const bias = b ? v128.load_splat<real>(b + (<usize>f << SHIFT)) : z;
    const e = bn + (<usize>(4 * f) << SHIFT);
    const m = bn ? v128.load_splat<real>(e) : z, inv = bn ? v128.load_splat<real>(e, sizeof<real>()) : z;
    const g = bn ? v128.load_splat<real>(e, 2 * sizeof<real>()) : z, beta = bn ? v128.load_splat<real>(e, 3 * sizeof<real>()) : z;
    for (let th = th0; th < th1; th++) {
      const row0 = outF + <usize>(2 * th) * ldo;
      const second = 2 * th + 1 < Ho;
      for (let tw = 0; tw < TW; tw += <i32>LANES) {
        const p = mf + (<usize>((th - th0) * TW + tw) << SHIFT);
        // p_j, q_j over the rows i of M, then the columns
        const p0 = column(p, mStride, 0, true), p1 = column(p, mStride, 1, true), p2 = column(p, mStride, 2, true), p3 = column(p, mStride, 3, true);
        const q0 = column(p, mStride, 0, false), q1 = column(p, mStride, 1, false), q2 = column(p, mStride, 2, false), q3 = column(p, mStride, 3, false);
        let y00 = v128.add<real>(v128.add<real>(p0, p1), p2), y01 = v128.sub<real>(v128.sub<real>(p1, p2), p3);
        let y10 = v128.add<real>(v128.add<real>(q0, q1), q2), y11 = v128.sub<real>(v128.sub<real>(q1, q2), q3);
        y00 = finish(y00, b, bias, bn, m, inv, g, beta, relu);
        y01 = finish(y01, b, bias, bn, m, inv, g, beta, relu);
        y10 = finish(y10, b, bias, bn, m, inv, g, beta, relu);
        y11 = finish(y11, b, bias, bn, m, inv, g, beta, relu);
        const col = 2 * tw;
        if (col + PX <= Wo) {
          storeInterleaved(row0 + (<usize>col << SHIFT), y00, y01);
          if (second) storeInterleaved(row0 + ldo + (<usize>col << SHIFT), y10, y11);
        } else {
          const n = Wo - col; // valid outputs of the row, < PX
          storeSome(row0 + (<usize>col << SHIFT), y00, y01, n, edge);
          if (second) storeSome(row0 + ldo + (<usize>col << SHIFT), y10, y11, n, edge);
        }
      }
    }
  }
}

/** p_j = (M_0j + M_1j) + M_2j (sum) or q_j = (M_1j - M_2j) - M_3j, for LANES tiles at p (ξ planes stride bytes apart). */
@inline function column(p: usize, stride: usize, j: i32, sum: bool): v128 {
  const m0 = v128.load(p + <usize>j * stride), m1 = v128.load(p + <usize>(4 + j) * stride);
  const m2 = v128.load(p + <usize>(8 + j) * stride), m3 = v128.load(p + <usize>(12 + j) * stride);
  return sum ? v128.add<real>(v128.add<real>(m0, m1), m2) : v128.sub<real>(v128.sub<real>(m1, m2), m3);
}

/** r = y + bias (when b != 0), then the batch norm when bn != 0, then the ReLU. */
@inline function finish(y: v128, b: usize, bias: v128, bn: usize, m: v128, inv: v128, g: v128, beta: v128, relu: bool): v128 {
  let r = b ? v128.add<real>(y, bias) : y;
  if (bn) r = v128.add<real>(v128.mul<real>(g, v128.mul<real>(v128.sub<real>(r, m), inv)), beta);
  if (relu) r = v128.andnot(r, v128.le<real>(r, v128.splat<real>(0)));
  return r;
}

/** The first n (< PX) reals of storeInterleaved's run at o, through `edge` (PX reals). */
@inline function storeSome(o: usize, a: v128, c: v128, n: i32, edge: usize): void {
  storeInterleaved(edge, a, c);
  for (let k: usize = 0; k < <usize>n; k++) store<real>(o + (k << SHIFT), load<real>(edge + (k << SHIFT)));
}
