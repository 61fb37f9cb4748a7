import { f32_im2col, f32_col2im, f32_conv_bias_backward, f32_conv_forward, f32_conv_forward_work_bytes } from "../conv";
import { gemm_nn, gemm_nt, gemm_tn, gemm_work_bytes } from "../gemm";
import {
  f32_im2col__scalar, f32_col2im__scalar, f32_fill_rows__scalar, f32_conv_bias_backward__scalar,
  f32_conv_forward__direct, f32_conv_backward__direct, f32_conv_forward__scalar,
} from "../reference/conv";
import { LENGTHS, pattern, buffer, firstDifference, guardIntact } from "./helpers";

// Geometries (C, H, W, HH, WW, stride, pad): 1x1 and 5x5 filters, stride 1/2/3, pad 0/1/2,
// non-square inputs and filters, widths below/at/above the 4- and 8-lane loops, odd widths with
// stride 2 (the shuffle path's last block), pad wider than the filter, windows as big as the
// padded input.
const GEOMETRIES: i32[][] = [
  [1, 1, 1, 1, 1, 1, 0],
  [3, 5, 7, 3, 3, 1, 1],
  [2, 7, 5, 2, 3, 1, 0],
  [5, 9, 11, 5, 5, 1, 2],
  [3, 8, 8, 1, 1, 1, 0],
  [2, 9, 17, 3, 3, 2, 1],
  [1, 10, 19, 2, 2, 2, 0],
  [3, 11, 23, 3, 1, 2, 2],
  [2, 13, 12, 3, 4, 3, 1],
  [1, 6, 20, 5, 5, 3, 2],
  [2, 4, 3, 1, 1, 2, 0],
  [1, 3, 4, 2, 2, 1, 3],
  [1, 4, 6, 6, 8, 1, 1],
  [3, 32, 33, 3, 3, 1, 1],
  [3, 9, 16, 3, 3, 1, 1],
  [2, 6, 14, 3, 3, 1, 2],
  [4, 7, 9, 2, 2, 1, 0],
];

function outSize(size: i32, k: i32, stride: i32, pad: i32): i32 {
  return (size + 2 * pad - k) / stride + 1;
}

function label(g: i32[]): string {
  return "C=" + g[0].toString() + " H=" + g[1].toString() + " W=" + g[2].toString() + " HH=" + g[3].toString() +
    " WW=" + g[4].toString() + " stride=" + g[5].toString() + " pad=" + g[6].toString();
}

function agree(name: string, n: i32, fast: usize, slow: usize): void {
  const at = firstDifference(fast, slow, n);
  expect<i32>(at).toBe(-1, name + " differs at " + at.toString());
  expect<bool>(guardIntact(fast, n)).toBe(true, name + " wrote past the end");
}

/** Largest |a - b| / (1 + |b|). */
function maxRelErr(a: usize, b: usize, n: i32): f64 {
  let m: f64 = 0;
  for (let i = 0; i < n; i++) {
    const x = <f64>load<f32>(a + (<usize>i << 2)), y = <f64>load<f32>(b + (<usize>i << 2));
    m = Math.max(m, Math.abs(x - y) / (1 + Math.abs(y)));
  }
  return m;
}

describe("im2col / col2im vs scalar twins", () => {
  it("im2col writes every element, bit for bit", () => {
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], HH = g[3], WW = g[4], s = g[5], pad = g[6];
      const Ho = outSize(H, HH, s, pad), Wo = outSize(W, WW, s, pad);
      const n = C * HH * WW * Ho * Wo;
      const x = pattern(C * H * W, t + 1);
      const a = buffer(n), b = buffer(n);
      memory.fill(a, 0x7f, <usize>n << 2); // garbage: every element must be overwritten
      f32_im2col(a, x, C, H, W, HH, WW, s, pad, Ho, Wo);
      f32_im2col__scalar(b, x, C, H, W, HH, WW, s, pad, Ho, Wo);
      agree("im2col " + label(g), n, a, b);
    }
  });
  it("col2im accumulates overlaps, bit for bit", () => {
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], HH = g[3], WW = g[4], s = g[5], pad = g[6];
      const Ho = outSize(H, HH, s, pad), Wo = outSize(W, WW, s, pad);
      const cols = pattern(C * HH * WW * Ho * Wo, t + 31);
      const n = C * H * W;
      const a = buffer(n), b = buffer(n);
      memory.fill(a, 0x7f, <usize>n << 2);
      f32_col2im(a, cols, C, H, W, HH, WW, s, pad, Ho, Wo);
      f32_col2im__scalar(b, cols, C, H, W, HH, WW, s, pad, Ho, Wo);
      agree("col2im " + label(g), n, a, b);
    }
  });
});

describe("conv bias gradient vs its scalar twin", () => {
  it("f32_conv_bias_backward (P in 0, 1, 3, 4, 5, 17, 1000)", () => {
    for (let i = 0; i < LENGTHS.length; i++) {
      const P = LENGTHS[i], N = 3, F = 5;
      const dout = pattern(N * F * P, 9);
      const a = buffer(F), b = buffer(F);
      f32_conv_bias_backward(a, dout, N, F, P);
      f32_conv_bias_backward__scalar(b, dout, N, F, P);
      agree("conv_bias_backward P=" + P.toString(), F, a, b);
    }
  });
});

// The im2col + GEMM pipeline the host runs, per image, against a direct convolution in f64.
describe("im2col + GEMM convolution vs direct convolution", () => {
  it("forward and backward agree within float32 rounding (max |a-b|/(1+|b|) < 1e-4)", () => {
    const N = 2;
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], HH = g[3], WW = g[4], s = g[5], pad = g[6];
      const F = 3 + (t % 3); // 3, 4, 5 filters
      const Ho = outSize(H, HH, s, pad), Wo = outSize(W, WW, s, pad);
      const K = C * HH * WW, P = Ho * Wo, CHW = C * H * W;
      const x = pattern(N * CHW, t + 100), w = pattern(F * K, t + 200), bias = pattern(F, t + 300);
      const dout = pattern(N * F * P, t + 400);
      const cols = buffer(K * P);
      const work = heap.alloc(max<usize>(
        max(gemm_work_bytes(F, P, K), gemm_work_bytes(F, K, P)), max(gemm_work_bytes(K, P, F), 16)));

      const out = buffer(N * F * P), ref = buffer(N * F * P);
      for (let n = 0; n < N; n++) {
        const on = out + (<usize>(n * F * P) << 2);
        f32_im2col(cols, x + (<usize>(n * CHW) << 2), C, H, W, HH, WW, s, pad, Ho, Wo);
        f32_fill_rows__scalar(on, bias, F, P);
        gemm_nn(on, w, cols, F, P, K, 0, true, work);
      }
      f32_conv_forward__direct(ref, x, w, bias, N, C, H, W, F, HH, WW, s, pad, Ho, Wo);
      const fe = maxRelErr(out, ref, N * F * P);
      expect<bool>(fe < 1e-4).toBe(true, "forward " + label(g) + " max rel err " + fe.toString());

      const dx = buffer(N * CHW), dw = buffer(F * K), db = buffer(F);
      const rdx = buffer(N * CHW), rdw = buffer(F * K), rdb = buffer(F);
      for (let n = 0; n < N; n++) {
        const dn = dout + (<usize>(n * F * P) << 2);
        f32_im2col(cols, x + (<usize>(n * CHW) << 2), C, H, W, HH, WW, s, pad, Ho, Wo);
        gemm_nt(dw, dn, cols, F, K, P, 0, n > 0, work);
        gemm_tn(cols, w, dn, K, P, F, 0, false, work);
        f32_col2im(dx + (<usize>(n * CHW) << 2), cols, C, H, W, HH, WW, s, pad, Ho, Wo);
      }
      f32_conv_bias_backward(db, dout, N, F, P);
      f32_conv_backward__direct(rdx, rdw, rdb, dout, x, w, N, C, H, W, F, HH, WW, s, pad, Ho, Wo);
      const ex = maxRelErr(dx, rdx, N * CHW), ew = maxRelErr(dw, rdw, F * K), eb = maxRelErr(db, rdb, F);
      expect<bool>(ex < 1e-4).toBe(true, "dx " + label(g) + " max rel err " + ex.toString());
      expect<bool>(ew < 1e-4).toBe(true, "dw " + label(g) + " max rel err " + ew.toString());
      expect<bool>(eb < 1e-4).toBe(true, "db " + label(g) + " max rel err " + eb.toString());
      expect<bool>(guardIntact(dx, N * CHW) && guardIntact(dw, F * K) && guardIntact(out, N * F * P)).toBe(true, "overrun " + label(g));
    }
  });
});

// The fused forward against its scalar twin, bit for bit: every geometry (stride 1 row panels with
// masked edges, stride 2/3 and row-spanning panels through the checked gather, P not a multiple
// of 8), filter counts around the 4-row tile, 1 and 3 images (the masked loads of the last
// rows must take the checked path), with and without ReLU.
describe("f32_conv_forward vs scalar twin", () => {
  it("bit for bit: geometries x F in 1, 3, 4, 5, 9 x N in 1, 3 x relu", () => {
    const FS: i32[] = [1, 3, 4, 5, 9];
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], HH = g[3], WW = g[4], s = g[5], pad = g[6];
      const Ho = outSize(H, HH, s, pad), Wo = outSize(W, WW, s, pad);
      const K = C * HH * WW, P = Ho * Wo;
      for (let fi = 0; fi < FS.length; fi++) {
        const F = FS[fi];
        for (let N = 1; N <= 3; N += 2) {
          const x = pattern(N * C * H * W, t + 7 * fi + N);
          const w = pattern(F * K, t + 500 + fi), bias = pattern(F, t + 600 + fi);
          const work = heap.alloc(f32_conv_forward_work_bytes(<usize>F, <usize>C, <usize>H, <usize>W, <usize>HH, <usize>WW, <usize>pad));
          for (let r = 0; r < 2; r++) {
            const relu = r == 1;
            const n = N * F * P;
            const a = buffer(n), b = buffer(n);
            memory.fill(a, 0x7f, <usize>n << 2);
            f32_conv_forward(a, x, w, bias, N, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, work);
            f32_conv_forward__scalar(b, x, w, bias, N, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu);
            agree("conv_forward " + label(g) + " F=" + F.toString() + " N=" + N.toString() + (relu ? " relu" : ""), n, a, b);
          }
        }
      }
    }
  });
  it("ReLU maps -0 to +0 and keeps NaN, like f32_relu", () => {
    // 1x1 conv of a 1x8 image with w = 1, b = 0: out = relu(0 + 1·x + 0).
    const x = buffer(8);
    store<f32>(x, -0.0); store<f32>(x, NaN, 4); store<f32>(x, -2, 8); store<f32>(x, 3, 12);
    const w = pattern(1, 1); store<f32>(w, 1);
    const bias = buffer(1);
    const a = buffer(8), b = buffer(8);
    const work = heap.alloc(f32_conv_forward_work_bytes(1, 1, 1, 8, 1, 1, 0));
    f32_conv_forward(a, x, w, bias, 1, 1, 1, 8, 1, 1, 1, 1, 0, 1, 8, true, work);
    f32_conv_forward__scalar(b, x, w, bias, 1, 1, 1, 8, 1, 1, 1, 1, 0, 1, 8, true);
    agree("relu edge values", 8, a, b);
    expect<u32>(load<u32>(a)).toBe(0, "-0 -> +0");
    expect<bool>(isNaN(load<f32>(a, 4))).toBe(true, "NaN kept");
  });
});
