// Scalar twin of winograd-dw.ts: the F(2x2, 3x3) weight gradient one tile, one filter and one
// channel at a time, every operation in the order winograd-dw.ts's header spells out, so the SIMD
// kernels must give its bits. The pieces come from the kernel's own partition functions (they
// define the order). Test-only.
import { SHIFT } from "../real";
import { conv_bias_backward } from "../conv";
import { SLICE_TILES, conv3x3_winograd_dw_band_rows, conv3x3_winograd_dw_piece_images } from "../winograd-dw";
import { transformInput } from "./winograd";

/** dout value at (f, oh, ow) of one image, or 0 past (Ho, Wo). */
@inline function gradientAt(g: usize, f: i32, oh: i32, ow: i32, Ho: i32, Wo: i32): real {
  if (oh >= Ho || ow >= Wo) return 0;
  return load<real>(g + (<usize>((f * Ho + oh) * Wo + ow) << SHIFT));
}

/** d (16 reals) = A dY Aᵀ for the 2x2 tile of filter f at rows r0, r0 + 1, columns c0, c0 + 1. */
function transformGradient(d: StaticArray<real>, g: usize, f: i32, r0: i32, c0: i32, Ho: i32, Wo: i32): void {
  const r = new StaticArray<real>(8); // r_i's two columns
  for (let j = 0; j < 2; j++) {
    const y0 = gradientAt(g, f, r0, c0 + j, Ho, Wo), y1 = gradientAt(g, f, r0 + 1, c0 + j, Ho, Wo);
    r[j] = y0;
    r[2 + j] = y0 + y1;
    r[4 + j] = y0 - y1;
    r[6 + j] = -y1;
  }
  for (let i = 0; i < 4; i++) {
    const e0 = r[2 * i], e1 = r[2 * i + 1];
    d[4 * i] = e0;
    d[4 * i + 1] = e0 + e1;
    d[4 * i + 2] = e0 - e1;
    d[4 * i + 3] = -e1;
  }
}

/** The sums of one piece (tiles of images [n0, n1), tile rows [th0, th1) of each) added to dU (16 x F x C) slice by slice. */
function addPiece(
  dU: StaticArray<real>, dout: usize, x: usize, n0: i32, n1: i32, th0: i32, th1: i32, C: i32, H: i32, W: i32, F: i32, pad: i32,
): void {
  const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2, TW = (Wo + 1) >> 1;
  const sums = new StaticArray<real>(16 * F * C);
  const v = new StaticArray<real>(16 * C), d = new StaticArray<real>(16 * F), one = new StaticArray<real>(16);
  let t = 0;
  for (let n = n0; n < n1; n++) {
    const xn = x + (<usize>(n * C * H * W) << SHIFT), gn = dout + (<usize>(n * F * Ho * Wo) << SHIFT);
    for (let th = th0; th < th1; th++) {
      for (let tw = 0; tw < TW; tw++, t++) {
        for (let c = 0; c < C; c++) {
          transformInput(one, xn, c, 2 * th - pad, 2 * tw - pad, H, W);
          for (let k = 0; k < 16; k++) v[16 * c + k] = one[k];
        }
        for (let f = 0; f < F; f++) {
          transformGradient(one, gn, f, 2 * th, 2 * tw, Ho, Wo);
          for (let k = 0; k < 16; k++) d[16 * f + k] = one[k];
        }
        if (t > 0 && t % SLICE_TILES == 0) {
          // a slice ends: its sums go to dU
          for (let i = 0; i < 16 * F * C; i++) {
            dU[i] = dU[i] + sums[i];
            sums[i] = 0;
          }
        }
        for (let k = 0; k < 16; k++) {
          for (let f = 0; f < F; f++) {
            for (let c = 0; c < C; c++) {
              const i = (k * F + f) * C + c;
              sums[i] = sums[i] + d[16 * f + k] * v[16 * c + k];
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < 16 * F * C; i++) dU[i] = dU[i] + sums[i];
}

/** dw[f, c] = Gᵀ dU[f, c] G written at dw (F, C, 3, 3). */
function transformBack(dw: usize, dU: StaticArray<real>, F: i32, C: i32): void {
  const half: real = 0.5;
  const s = new StaticArray<real>(12);
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      for (let j = 0; j < 4; j++) {
        const u0 = dU[(j * F + f) * C + c], u1 = dU[((4 + j) * F + f) * C + c];
        const u2 = dU[((8 + j) * F + f) * C + c], u3 = dU[((12 + j) * F + f) * C + c];
        s[j] = u0 + (u1 + u2) * half;
        s[4 + j] = (u1 - u2) * half;
        s[8 + j] = (u1 + u2) * half + u3;
      }
      for (let k = 0; k < 3; k++) {
        const e0 = s[4 * k], e1 = s[4 * k + 1], e2 = s[4 * k + 2], e3 = s[4 * k + 3];
        const o = dw + (<usize>((f * C + c) * 9 + 3 * k) << SHIFT);
        store<real>(o, e0 + (e1 + e2) * half);
        store<real>(o + (1 << SHIFT), (e1 - e2) * half);
        store<real>(o + (2 << SHIFT), (e1 + e2) * half + e3);
      }
    }
  }
}

/**
 * dw (F, C, 3, 3) and db (F) of a stride-1 3x3 conv by F(2x2, 3x3) as conv3x3_winograd_dw: chunks
 * of G images, each chunk's partial added in order (db by conv_bias_backward, as the kernel).
 */
export function conv3x3_winograd_dw__scalar(
  dw: usize, db: usize, dout: usize, x: usize, N: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, G: i32,
): void {
  const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2, TH = (Ho + 1) >> 1, TW = (Wo + 1) >> 1;
  const FK = F * C * 9;
  const dwq = heap.alloc(<usize>FK << SHIFT), dbq = heap.alloc(<usize>F << SHIFT);
  const images = conv3x3_winograd_dw_piece_images(C, F, TH, TW), R = conv3x3_winograd_dw_band_rows(C, F, TH, TW);
  for (let q = 0; q * G < N; q++) {
    const n0 = q * G, n1 = min(N, n0 + G);
    const dU = new StaticArray<real>(16 * F * C);
    if (images > 0) {
      for (let p0 = n0; p0 < n1; p0 += images) addPiece(dU, dout, x, p0, min(n1, p0 + images), 0, TH, C, H, W, F, pad);
    } else {
      for (let n = n0; n < n1; n++) {
        for (let th0 = 0; th0 < TH; th0 += R) addPiece(dU, dout, x, n, n + 1, th0, min(TH, th0 + R), C, H, W, F, pad);
      }
    }
    transformBack(q == 0 ? dw : dwq, dU, F, C);
    conv_bias_backward(q == 0 ? db : dbq, dout + (<usize>(n0 * F * Ho * Wo) << SHIFT), <usize>(n1 - n0), <usize>F, <usize>(Ho * Wo));
    if (q == 0) continue;
    for (let i = 0; i < FK; i++) store<real>(dw + (<usize>i << SHIFT), load<real>(dw + (<usize>i << SHIFT)) + load<real>(dwq + (<usize>i << SHIFT)));
    for (let f = 0; f < F; f++) store<real>(db + (<usize>f << SHIFT), load<real>(db + (<usize>f << SHIFT)) + load<real>(dbq + (<usize>f << SHIFT)));
  }
  heap.free(dwq);
  heap.free(dbq);
}
