// Scalar twin of winograd.ts: the F(2x2, 3x3) convolution one tile, one filter and one value at a
// time from the raw weights, every operation in the order winograd.ts's header spells out (so the
// SIMD kernels must give its bits). Test-only.
import { SHIFT } from "../real";

/** Input value at (c, ih, iw) of image x, or 0 in the padding. */
@inline function at(x: usize, c: i32, ih: i32, iw: i32, H: i32, W: i32): real {
  if (ih < 0 || ih >= H || iw < 0 || iw >= W) return 0;
  return load<real>(x + (<usize>((c * H + ih) * W + iw) << SHIFT));
}

/** u (16 reals) = G g Gᵀ for the 3x3 g at w (row-major). */
function transformWeights(u: StaticArray<real>, w: usize): void {
  const half: real = 0.5;
  for (let i = 0; i < 4; i++) {
    const t = new StaticArray<real>(3);
    for (let j = 0; j < 3; j++) {
      const g0 = load<real>(w + (<usize>j << SHIFT)), g1 = load<real>(w + (<usize>(3 + j) << SHIFT)), g2 = load<real>(w + (<usize>(6 + j) << SHIFT));
      t[j] = i == 0 ? g0 : i == 1 ? ((g0 + g1) + g2) * half : i == 2 ? ((g0 - g1) + g2) * half : g2;
    }
    u[4 * i] = t[0];
    u[4 * i + 1] = ((t[0] + t[1]) + t[2]) * half;
    u[4 * i + 2] = ((t[0] - t[1]) + t[2]) * half;
    u[4 * i + 3] = t[2];
  }
}

/** v (16 reals) = Bᵀ d B for the 4x4 window of channel c at rows r0.., columns c0.. (padding 0). */
export function transformInput(v: StaticArray<real>, x: usize, c: i32, r0: i32, c0: i32, H: i32, W: i32): void {
  const u = new StaticArray<real>(16);
  for (let j = 0; j < 4; j++) {
    const d0 = at(x, c, r0, c0 + j, H, W), d1 = at(x, c, r0 + 1, c0 + j, H, W);
    const d2 = at(x, c, r0 + 2, c0 + j, H, W), d3 = at(x, c, r0 + 3, c0 + j, H, W);
    u[j] = d0 - d2;
    u[4 + j] = d1 + d2;
    u[8 + j] = d2 - d1;
    u[12 + j] = d1 - d3;
  }
  for (let i = 0; i < 4; i++) {
    const e0 = u[4 * i], e1 = u[4 * i + 1], e2 = u[4 * i + 2], e3 = u[4 * i + 3];
    v[4 * i] = e0 - e2;
    v[4 * i + 1] = e1 + e2;
    v[4 * i + 2] = e2 - e1;
    v[4 * i + 3] = e1 - e3;
  }
}

/** out (N, F, Ho, Wo) = [relu]([bn](conv3x3(x, w, pad) + b)) by F(2x2, 3x3), as conv3x3_winograd (b = 0: no bias). */
export function conv3x3_winograd__scalar(
  out: usize, x: usize, w: usize, b: usize, bn: usize, N: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, relu: bool,
): void {
  const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  const TH = (Ho + 1) >> 1, TW = (Wo + 1) >> 1;
  const u = new StaticArray<real>(16), v = new StaticArray<real>(16), m = new StaticArray<real>(16);
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * C * H * W) << SHIFT);
    for (let f = 0; f < F; f++) {
      const outF = out + (<usize>((n * F + f) * Ho * Wo) << SHIFT);
      for (let th = 0; th < TH; th++) {
        for (let tw = 0; tw < TW; tw++) {
          for (let k = 0; k < 16; k++) m[k] = 0;
          for (let c = 0; c < C; c++) {
            transformWeights(u, w + (<usize>((f * C + c) * 9) << SHIFT));
            transformInput(v, xn, c, 2 * th - pad, 2 * tw - pad, H, W);
            for (let k = 0; k < 16; k++) m[k] = m[k] + u[k] * v[k];
          }
          const p = new StaticArray<real>(4), q = new StaticArray<real>(4);
          for (let j = 0; j < 4; j++) {
            p[j] = (m[j] + m[4 + j]) + m[8 + j];
            q[j] = (m[4 + j] - m[8 + j]) - m[12 + j];
          }
          const y = new StaticArray<real>(4);
          y[0] = (p[0] + p[1]) + p[2];
          y[1] = (p[1] - p[2]) - p[3];
          y[2] = (q[0] + q[1]) + q[2];
          y[3] = (q[1] - q[2]) - q[3];
          for (let a = 0; a < 2; a++) {
            for (let bb = 0; bb < 2; bb++) {
              const oh = 2 * th + a, ow = 2 * tw + bb;
              if (oh >= Ho || ow >= Wo) continue;
              let r = b ? y[2 * a + bb] + load<real>(b + (<usize>f << SHIFT)) : y[2 * a + bb];
              if (bn) {
                const e = bn + (<usize>(4 * f) << SHIFT);
                r = load<real>(e, 2 * sizeof<real>()) * ((r - load<real>(e)) * load<real>(e, sizeof<real>())) + load<real>(e, 3 * sizeof<real>());
              }
              if (relu && r <= 0) r = 0;
              store<real>(outF + (<usize>(oh * Wo + ow) << SHIFT), r);
            }
          }
        }
      }
    }
  }
}
