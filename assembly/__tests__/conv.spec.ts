import {
  im2col, col2im, conv_bias_backward, conv_forward, conv_forward_images, conv_forward_work_bytes, conv_forward_pack,
  conv_forward_packed_reals, conv_forward_images_work_bytes, conv_forward_images_bn, conv_bn_table, conv_forward_blocks,
  conv_chunk_reals, conv_backward_work_bytes, conv_backward, conv_backward_chunks, conv_backward_pack, conv_backward_packed_reals, sum_chunks,
} from "../conv";
import { gemm_nn, gemm_nt, gemm_tn, gemm_work_bytes } from "../gemm";
import { spatial_batchnorm_forward_test_range } from "../batchnorm";
import { relu as reluPass } from "../elementwise";
import {
  im2col__scalar, col2im__scalar, fill_rows__scalar, conv_bias_backward__scalar,
  conv_forward__direct, conv_backward__direct, conv_forward__scalar,
  sum_chunks__scalar, conv_bias_backward_chunks__scalar,
} from "../reference/conv";
import { FLOAT32, LANES, SHIFT } from "../real";
import { DTYPE, LENGTHS, pattern, buffer, firstDifference, guardIntact, copyReals, maxRelErr } from "./helpers";

// Both dtypes (real = f32, then f64: as-pect.f64.config.js). The kernels with a scalar twin in the
// same order must give its bits; the im2col + GEMM pipeline sums in another order than the direct
// convolution (which accumulates in f64), so that comparison allows rounding: LOOSE below.

// Geometries (C, H, W, HH, WW, stride, pad): 1x1 and 5x5 filters, stride 1/2/3, pad 0/1/2,
// non-square inputs and filters, widths below/at/above the 4- and 8-lane loops, odd widths with
// stride 2 (the shuffle path's last block), pad wider than the filter, windows as big as the
// padded input, Wo a multiple of 4 but not 8 (in place panels for f64, packed for f32).
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
  [2, 5, 12, 3, 3, 1, 1],
  [1, 4, 4, 1, 1, 1, 0],
  // The small ResNet's kinds: strided (and padded) 1x1 convs, which read a subsampled copy in the
  // forward; 3x3 stride 2; 7x7 maps (P = 49: forward blocks across images); 4x4 maps.
  [3, 14, 14, 1, 1, 2, 0],
  [2, 9, 7, 1, 1, 3, 2],
  [2, 31, 33, 1, 1, 2, 1],
  [4, 14, 14, 3, 3, 2, 1],
  [2, 7, 7, 3, 3, 1, 1],
  [2, 4, 4, 3, 3, 1, 1],
  // First layers (K = C·9 = 9, 18, 27: the backward's 9-tap tiles): P past a 256-pixel slice,
  // stride 2, no padding, maps narrower than a vector, and a pointwise conv with C = 9.
  [1, 17, 19, 3, 3, 1, 1],
  [1, 9, 10, 3, 3, 2, 1],
  [3, 7, 6, 3, 3, 1, 0],
  [1, 3, 3, 3, 3, 1, 1],
  [1, 2, 5, 3, 3, 1, 1],
  [9, 5, 6, 1, 1, 1, 0],
  // The backward reads unpadded images in place (strides 1 and 2, the last load inside the row)
  // or not (odd widths), and writes a 1x1 stride-2 conv's dx row by row.
  [3, 10, 16, 1, 1, 2, 0],
  [2, 9, 13, 1, 1, 2, 0],
  [2, 8, 12, 3, 3, 1, 0],
  [2, 7, 13, 2, 2, 2, 0],
  [2, 6, 9, 3, 3, 2, 0],
];

/** Within rounding of a differently ordered sum: max |a-b|/(1+|b|) below this. */
const LOOSE: f64 = FLOAT32 ? 1e-4 : 1e-12;

function outSize(size: i32, k: i32, stride: i32, pad: i32): i32 {
  return (size + 2 * pad - k) / stride + 1;
}

function label(g: i32[]): string {
  return DTYPE + " C=" + g[0].toString() + " H=" + g[1].toString() + " W=" + g[2].toString() + " HH=" + g[3].toString() +
    " WW=" + g[4].toString() + " stride=" + g[5].toString() + " pad=" + g[6].toString();
}

function same(name: string, a: usize, b: usize, n: i32): void {
  const at = firstDifference(a, b, n);
  expect<i32>(at).toBe(-1, name + " differs at " + at.toString());
}

function agree(name: string, n: i32, fast: usize, slow: usize): void {
  same(name, fast, slow, n);
  expect<bool>(guardIntact(fast, n)).toBe(true, name + " wrote past the end");
}

function fillWith(p: usize, n: i32, v: real): void {
  for (let i = 0; i < n; i++) store<real>(p + (<usize>i << SHIFT), v);
}


describe("im2col / col2im vs scalar twins, " + DTYPE, () => {
  it("im2col writes every element, bit for bit", () => {
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], HH = g[3], WW = g[4], s = g[5], pad = g[6];
      const Ho = outSize(H, HH, s, pad), Wo = outSize(W, WW, s, pad);
      const n = C * HH * WW * Ho * Wo;
      const x = pattern(C * H * W, t + 1);
      const a = buffer(n), b = buffer(n);
      memory.fill(a, 0x7f, <usize>n << SHIFT); // garbage: every element must be overwritten
      im2col(a, x, C, H, W, HH, WW, s, pad, Ho, Wo);
      im2col__scalar(b, x, C, H, W, HH, WW, s, pad, Ho, Wo);
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
      memory.fill(a, 0x7f, <usize>n << SHIFT);
      col2im(a, cols, C, H, W, HH, WW, s, pad, Ho, Wo);
      col2im__scalar(b, cols, C, H, W, HH, WW, s, pad, Ho, Wo);
      agree("col2im " + label(g), n, a, b);
    }
  });
});

describe("conv bias gradient vs its scalar twin, " + DTYPE, () => {
  it("conv_bias_backward (P in 0, 1, 3, 4, 5, 17, 1000)", () => {
    for (let i = 0; i < LENGTHS.length; i++) {
      const P = LENGTHS[i], N = 3, F = 5;
      const dout = pattern(N * F * P, 9);
      const a = buffer(F), b = buffer(F);
      conv_bias_backward(a, dout, N, F, P);
      conv_bias_backward__scalar(b, dout, N, F, P);
      agree(DTYPE + " conv_bias_backward P=" + P.toString(), F, a, b);
    }
  });
});

// The im2col + GEMM pipeline, per image, against a direct convolution in f64.
describe("im2col + GEMM convolution vs direct convolution, " + DTYPE, () => {
  it("forward and backward agree within rounding (max |a-b|/(1+|b|) < 1e-4 float32, 1e-12 float64)", () => {
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
        const on = out + (<usize>(n * F * P) << SHIFT);
        im2col(cols, x + (<usize>(n * CHW) << SHIFT), C, H, W, HH, WW, s, pad, Ho, Wo);
        fill_rows__scalar(on, bias, F, P);
        gemm_nn(on, w, cols, F, P, K, 0, true, work);
      }
      conv_forward__direct(ref, x, w, bias, N, C, H, W, F, HH, WW, s, pad, Ho, Wo);
      const fe = maxRelErr(out, ref, N * F * P);
      expect<bool>(fe < LOOSE).toBe(true, "forward " + label(g) + " max rel err " + fe.toString());

      const dx = buffer(N * CHW), dw = buffer(F * K), db = buffer(F);
      const rdx = buffer(N * CHW), rdw = buffer(F * K), rdb = buffer(F);
      for (let n = 0; n < N; n++) {
        const dn = dout + (<usize>(n * F * P) << SHIFT);
        im2col(cols, x + (<usize>(n * CHW) << SHIFT), C, H, W, HH, WW, s, pad, Ho, Wo);
        gemm_nt(dw, dn, cols, F, K, P, 0, n > 0, work);
        gemm_tn(cols, w, dn, K, P, F, 0, false, work);
        col2im(dx + (<usize>(n * CHW) << SHIFT), cols, C, H, W, HH, WW, s, pad, Ho, Wo);
      }
      conv_bias_backward(db, dout, N, F, P);
      conv_backward__direct(rdx, rdw, rdb, dout, x, w, N, C, H, W, F, HH, WW, s, pad, Ho, Wo);
      const ex = maxRelErr(dx, rdx, N * CHW), ew = maxRelErr(dw, rdw, F * K), eb = maxRelErr(db, rdb, F);
      expect<bool>(ex < LOOSE).toBe(true, "dx " + label(g) + " max rel err " + ex.toString());
      expect<bool>(ew < LOOSE).toBe(true, "dw " + label(g) + " max rel err " + ew.toString());
      expect<bool>(eb < LOOSE).toBe(true, "db " + label(g) + " max rel err " + eb.toString());
      expect<bool>(guardIntact(dx, N * CHW) && guardIntact(dw, F * K) && guardIntact(out, N * F * P)).toBe(true, "overrun " + label(g));
    }
  });
});

// The fused forward against its scalar twin, bit for bit: every geometry (stride 1 row panels with
// masked edges, in place panels when Wo is a multiple of the tile's 8 (f32) or 4 (f64) pixels,
// stride 2/3 and row-spanning panels through the checked gather, P not a multiple of the tile),
// filter counts around the 4-row tile, 1 and 3 images (the masked loads of the last rows must
// take the checked path), with and without ReLU.
describe("conv_forward vs scalar twin, " + DTYPE, () => {
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
          const work = heap.alloc(conv_forward_work_bytes(<usize>F, <usize>C, <usize>H, <usize>W, <usize>HH, <usize>WW, <usize>s, <usize>pad, <usize>Ho, <usize>Wo));
          for (let r = 0; r < 2; r++) {
            const relu = r == 1;
            const n = N * F * P;
            const a = buffer(n), b = buffer(n);
            memory.fill(a, 0x7f, <usize>n << SHIFT);
            conv_forward(a, x, w, bias, N, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, work);
            conv_forward__scalar(b, x, w, bias, N, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu);
            agree("conv_forward " + label(g) + " F=" + F.toString() + " N=" + N.toString() + (relu ? " relu" : ""), n, a, b);
            heap.free(a); heap.free(b);
          }
          heap.free(x); heap.free(w); heap.free(bias); heap.free(work);
        }
      }
    }
  });
  it("ReLU maps -0 to +0 and keeps NaN, like relu", () => {
    // 1x1 conv of a 1x8 image with w = 1, b = 0: out = relu(0 + 1·x + 0).
    const x = buffer(8);
    store<real>(x, -0.0); store<real>(x + (1 << SHIFT), NaN); store<real>(x + (2 << SHIFT), -2); store<real>(x + (3 << SHIFT), 3);
    const w = pattern(1, 1); store<real>(w, 1);
    const bias = buffer(1);
    const a = buffer(8), b = buffer(8);
    const work = heap.alloc(conv_forward_work_bytes(1, 1, 1, 8, 1, 1, 1, 0, 1, 8));
    conv_forward(a, x, w, bias, 1, 1, 1, 8, 1, 1, 1, 1, 0, 1, 8, true, work);
    conv_forward__scalar(b, x, w, bias, 1, 1, 1, 8, 1, 1, 1, 1, 0, 1, 8, true);
    agree(DTYPE + " relu edge values", 8, a, b);
    expect<bool>(1 / load<real>(a) > 0).toBe(true, "-0 -> +0");
    expect<bool>(isNaN(load<real>(a + (1 << SHIFT)))).toBe(true, "NaN kept");
  });
});

// ---------------------------------------------------------------------------------------------
// The split entry points that let one wasm call do one thread's share (issue 11): image ranges of
// the forward, chunks of the backward, element ranges of the chunk sum. A split into pieces
// (unaligned, one-element and empty pieces) must give the same bits as one call, and must not
// touch anything outside its piece.

// (N, C, H, W, F, HH, WW, stride, pad)
const CONV: i32[][] = [
  [5, 3, 7, 6, 4, 3, 3, 1, 1],
  [4, 2, 9, 5, 3, 3, 2, 2, 0],
  [3, 5, 4, 4, 6, 1, 1, 1, 0],
  [1, 1, 3, 4, 1, 2, 2, 1, 1],
  [3, 1, 9, 11, 5, 3, 3, 1, 1],
  // Images past the backward's group scratch (one image per group, chunks of 2 and 3 span
  // groups): 4-tap tiles with edge filters, and 9-tap tiles.
  [3, 8, 40, 40, 5, 3, 3, 1, 1],
  [2, 3, 90, 90, 6, 3, 3, 1, 1],
];

describe("conv forward by image ranges, " + DTYPE, () => {
  it("ranges [0, 1), [1, 2), [2, N) (and an empty one) give the bits of one whole call; a range touches only its images", () => {
    for (let t = 0; t < CONV.length; t++) {
      const g = CONV[t];
      const N = g[0], C = g[1], H = g[2], W = g[3], F = g[4], HH = g[5], WW = g[6], stride = g[7], pad = g[8];
      const Ho = (H + 2 * pad - HH) / stride + 1, Wo = (W + 2 * pad - WW) / stride + 1;
      const outN = N * F * Ho * Wo;
      const x = pattern(N * C * H * W, 40 + t), w = pattern(F * C * HH * WW, 50 + t), b = pattern(F, 60 + t);
      const work = heap.alloc(conv_forward_work_bytes(<usize>F, <usize>C, <usize>H, <usize>W, <usize>HH, <usize>WW, <usize>stride, <usize>pad, <usize>Ho, <usize>Wo) + 16);
      const K = C * HH * WW;
      const wp = heap.alloc(conv_forward_packed_reals(<usize>F, <usize>K) << SHIFT);
      conv_forward_pack(wp, w, F, K);
      const iwork = heap.alloc(conv_forward_images_work_bytes(<usize>C, <usize>H, <usize>W, <usize>HH, <usize>WW, <usize>stride, <usize>pad, <usize>Ho, <usize>Wo));
      const ref = buffer(outN), got = buffer(outN);
      for (let relu = 0; relu < 2; relu++) {
        const tag = " " + DTYPE + " case " + t.toString() + (relu ? " relu" : "");
        conv_forward(ref, x, w, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu == 1, work);
        fillWith(got, outN, 99);
        const cutsN: i32[] = [0, min(1, N), min(2, N), min(2, N), N];
        for (let r = 0; r + 1 < cutsN.length; r++) {
          conv_forward_images(got, x, wp, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu == 1, iwork, cutsN[r], cutsN[r + 1]);
        }
        same("image ranges" + tag, got, ref, outN);
        expect<bool>(guardIntact(got, outN)).toBe(true, "wrote past out" + tag);
        // Image 1 alone: the others keep their sentinel.
        if (N >= 3) {
          fillWith(got, outN, 99);
          conv_forward_images(got, x, wp, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu == 1, iwork, 1, 2);
          const per = F * Ho * Wo;
          let outside = true;
          for (let i = 0; i < outN; i++) if ((i < per || i >= 2 * per) && load<real>(got + (<usize>i << SHIFT)) != 99) outside = false;
          expect<bool>(outside).toBe(true, "a range wrote outside its images" + tag);
        }
      }
      heap.free(x); heap.free(w); heap.free(b); heap.free(work); heap.free(wp); heap.free(iwork); heap.free(ref); heap.free(got);
    }
  });
});

// One image split by pixel blocks (conv_forward_blocks, threads at batch 1): block j is outputs
// [j·PX, (j + 1)·PX) of every filter (PX = 2·LANES). Any split of the blocks, with and without
// the batch norm epilogue, gives the bits of one whole call (conv_forward_images /
// conv_forward_images_bn over the image); a range writes only its own blocks' outputs; ranges past
// the end or empty write nothing.
describe("conv forward of one image by pixel blocks, " + DTYPE, () => {
  it("any block ranges (single blocks, unaligned cuts, empty and past-the-end ones) give the whole call's bits, every geometry, F in 1, 5, 9", () => {
    const FS: i32[] = [1, 5, 9];
    const PX = 2 * <i32>LANES;
    const eps: real = <real>1e-5;
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], HH = g[3], WW = g[4], s = g[5], pad = g[6];
      const Ho = outSize(H, HH, s, pad), Wo = outSize(W, WW, s, pad);
      const K = C * HH * WW, P = Ho * Wo;
      const blocks = (P + PX - 1) / PX;
      for (let fi = 0; fi < FS.length; fi++) {
        const F = FS[fi];
        const n = F * P;
        const x = pattern(C * H * W, t + 3 * fi + 1100);
        const w = pattern(F * K, t + 1200 + fi), bias = pattern(F, t + 1300 + fi);
        const gamma = pattern(F, t + 1400 + fi), beta = pattern(F, t + 1500 + fi), mean = pattern(F, t + 1600 + fi), vr = pattern(F, t + 1700 + fi);
        for (let f = 0; f < F; f++) store<real>(vr + (<usize>f << SHIFT), abs<real>(load<real>(vr + (<usize>f << SHIFT))) + <real>0.25);
        const table = buffer(4 * F);
        conv_bn_table(table, gamma, beta, mean, vr, eps, <usize>F);
        const wp = heap.alloc(conv_forward_packed_reals(<usize>F, <usize>K) << SHIFT);
        conv_forward_pack(wp, w, F, K);
        const iwork = heap.alloc(conv_forward_images_work_bytes(<usize>C, <usize>H, <usize>W, <usize>HH, <usize>WW, <usize>s, <usize>pad, <usize>Ho, <usize>Wo));
        const want = buffer(n), got = buffer(n);
        for (let mode = 0; mode < 4; mode++) {
          const relu = (mode & 1) == 1, bn = mode >= 2 ? table : 0;
          const tag = " " + label(g) + " F=" + F.toString() + (relu ? " relu" : "") + (bn ? " bn" : "");
          if (bn) conv_forward_images_bn(want, x, wp, bias, bn, 1, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, iwork, 0, 1);
          else conv_forward_images(want, x, wp, bias, 1, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, iwork, 0, 1);
          // Block by block, then cuts at 1 and (blocks + 1) / 2, with an empty range and one past the end.
          fillWith(got, n, 99);
          for (let j = 0; j < blocks; j++) conv_forward_blocks(got, x, wp, bias, bn, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, iwork, j, j + 1);
          agree("conv_forward_blocks one by one" + tag, n, got, want);
          fillWith(got, n, 99);
          const mid = (blocks + 1) / 2;
          const cuts: i32[] = [0, min(1, blocks), mid, mid, blocks];
          for (let r = 0; r + 1 < cuts.length; r++) conv_forward_blocks(got, x, wp, bias, bn, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, iwork, cuts[r], cuts[r + 1]);
          conv_forward_blocks(got, x, wp, bias, bn, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, iwork, blocks, blocks + 3);
          agree("conv_forward_blocks in ranges" + tag, n, got, want);
          // The last block alone: every other output keeps its sentinel.
          fillWith(got, n, 99);
          conv_forward_blocks(got, x, wp, bias, bn, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, iwork, blocks - 1, blocks);
          let outside = true;
          for (let f = 0; f < F; f++) {
            for (let p = 0; p < P; p++) {
              const v = load<real>(got + (<usize>(f * P + p) << SHIFT));
              const mine = p >= (blocks - 1) * PX;
              if (mine ? v != load<real>(want + (<usize>(f * P + p) << SHIFT)) : v != 99) outside = false;
            }
          }
          expect<bool>(outside).toBe(true, "the last block's range wrote outside it, or not all of it" + tag);
        }
        heap.free(x); heap.free(w); heap.free(bias); heap.free(gamma); heap.free(beta); heap.free(mean); heap.free(vr); heap.free(table);
        heap.free(wp); heap.free(iwork); heap.free(want); heap.free(got);
      }
    }
  });
});

// Inference's conv + batch norm (running statistics) + ReLU in the tile epilogue: the bits of the
// three kernels run one after another (conv_forward, spatial_batchnorm_forward_test_range, relu),
// in every geometry, with filter counts around the 4-row tile (edge tiles take the scalar
// epilogue), 1 and 3 images, with and without the ReLU, over image ranges.
describe("conv_forward_images_bn vs conv, batch norm and relu, " + DTYPE, () => {
  it("bit for bit: geometries x F in 1, 4, 5, 9 x N in 1, 3 x relu, whole and by image ranges", () => {
    const FS: i32[] = [1, 4, 5, 9];
    const eps: real = <real>1e-5;
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], HH = g[3], WW = g[4], s = g[5], pad = g[6];
      const Ho = outSize(H, HH, s, pad), Wo = outSize(W, WW, s, pad);
      const K = C * HH * WW, P = Ho * Wo;
      for (let fi = 0; fi < FS.length; fi++) {
        const F = FS[fi];
        const gamma = pattern(F, t + 700 + fi), beta = pattern(F, t + 800 + fi), mean = pattern(F, t + 900 + fi), vr = pattern(F, t + 1000 + fi);
        for (let f = 0; f < F; f++) store<real>(vr + (<usize>f << SHIFT), abs<real>(load<real>(vr + (<usize>f << SHIFT))) + <real>0.25);
        const table = buffer(4 * F);
        conv_bn_table(table, gamma, beta, mean, vr, eps, <usize>F);
        const w = pattern(F * K, t + 500 + fi), bias = pattern(F, t + 600 + fi);
        const wp = heap.alloc(conv_forward_packed_reals(<usize>F, <usize>K) << SHIFT);
        conv_forward_pack(wp, w, F, K);
        const work = heap.alloc(conv_forward_work_bytes(<usize>F, <usize>C, <usize>H, <usize>W, <usize>HH, <usize>WW, <usize>s, <usize>pad, <usize>Ho, <usize>Wo));
        const iwork = heap.alloc(conv_forward_images_work_bytes(<usize>C, <usize>H, <usize>W, <usize>HH, <usize>WW, <usize>s, <usize>pad, <usize>Ho, <usize>Wo));
        for (let N = 1; N <= 3; N += 2) {
          const x = pattern(N * C * H * W, t + 7 * fi + N);
          const n = N * F * P;
          const conv = buffer(n), normed = buffer(n), want = buffer(n), got = buffer(n);
          const m = buffer(F), inv = buffer(F);
          conv_forward(conv, x, w, bias, N, C, H, W, F, HH, WW, s, pad, Ho, Wo, false, work);
          spatial_batchnorm_forward_test_range(normed, m, inv, conv, gamma, beta, mean, vr, <usize>N, <usize>F, <usize>P, eps, 0, <usize>F);
          for (let r = 0; r < 2; r++) {
            const relu = r == 1;
            const tag = " " + label(g) + " F=" + F.toString() + " N=" + N.toString() + (relu ? " relu" : "");
            if (relu) reluPass(want, normed, <usize>n);
            else copyReals(want, normed, n);
            fillWith(got, n, 99);
            conv_forward_images_bn(got, x, wp, bias, table, N, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, iwork, 0, N);
            agree("conv_forward_images_bn" + tag, n, got, want);
            fillWith(got, n, 99);
            for (let i = 0; i < N; i++) conv_forward_images_bn(got, x, wp, bias, table, N, C, H, W, F, HH, WW, s, pad, Ho, Wo, relu, iwork, i, i + 1);
            agree("conv_forward_images_bn by images" + tag, n, got, want);
          }
          heap.free(x); heap.free(conv); heap.free(normed); heap.free(want); heap.free(got); heap.free(m); heap.free(inv);
        }
        heap.free(gamma); heap.free(beta); heap.free(mean); heap.free(vr); heap.free(table); heap.free(w); heap.free(bias);
        heap.free(wp); heap.free(work); heap.free(iwork);
      }
    }
  });
});

describe("conv backward in chunks, " + DTYPE, () => {
  it("dw within rounding of the direct twin, db bit for bit with the chunked twin, dx bit for bit with the per-image path; any chunk ranges agree", () => {
    for (let t = 0; t < CONV.length; t++) {
      const g = CONV[t];
      const N = g[0], C = g[1], H = g[2], W = g[3], F = g[4], HH = g[5], WW = g[6], stride = g[7], pad = g[8];
      const Ho = (H + 2 * pad - HH) / stride + 1, Wo = (W + 2 * pad - WW) / stride + 1;
      const K = C * HH * WW, P = Ho * Wo;
      const pointwise = HH == 1 && WW == 1 && stride == 1 && pad == 0;
      const x = pattern(N * C * H * W, 10 + t), w = pattern(F * K, 20 + t), dout = pattern(N * F * P, 30 + t);
      const work = heap.alloc(conv_backward_work_bytes(F, C, H, W, HH, WW, stride, pad, Ho, Wo) + 16);
      const wt = heap.alloc(conv_backward_packed_reals(F, K) << SHIFT);
      conv_backward_pack(wt, w, F, K);
      const slice = <i32>conv_chunk_reals(F, K);
      // The per-image path of the first release: dcols = wᵀ · dout[n], col2im.
      const dxOld = buffer(N * C * H * W);
      const cols = heap.alloc(<usize>(K * P) << SHIFT);
      const gw = heap.alloc(gemm_work_bytes(K, P, F));
      for (let n = 0; n < N; n++) {
        const gn = dout + (<usize>(n * F * P) << SHIFT), dxn = dxOld + (<usize>(n * C * H * W) << SHIFT);
        if (pointwise) gemm_tn(dxn, w, gn, K, P, F, 0, false, gw);
        else {
          gemm_tn(cols, w, gn, K, P, F, 0, false, gw);
          col2im(dxn, cols, C, H, W, HH, WW, stride, pad, Ho, Wo);
        }
      }
      const rdx = buffer(N * C * H * W), rdw = buffer(F * K), rdb = buffer(F);
      conv_backward__direct(rdx, rdw, rdb, dout, x, w, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo);
      for (let G = 1; G <= N; G++) {
        const chunks = (N + G - 1) / G;
        const tag = " " + DTYPE + " case " + t.toString() + " G=" + G.toString();
        const partials = buffer(chunks * slice);
        const dx1 = buffer(N * C * H * W), dw1 = buffer(F * K), db1 = buffer(F);
        conv_backward_chunks(dx1, partials, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, 0, chunks, work);
        expect<bool>(guardIntact(partials, chunks * slice)).toBe(true, "partials overrun" + tag);
        sum_chunks(dw1, partials, chunks, slice, 0, F * K);
        sum_chunks(db1, partials + (<usize>(F * K) << SHIFT), chunks, slice, 0, F);
        // The same chunks in pieces (one chunk, an empty range, the rest), dx skipped in one pass.
        const partials2 = buffer(chunks * slice);
        const dx2 = buffer(N * C * H * W), dw2 = buffer(F * K), db2 = buffer(F);
        const cut = min(1, chunks);
        conv_backward_chunks(dx2, partials2, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, 0, cut, work);
        conv_backward_chunks(dx2, partials2, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, cut, cut, work);
        conv_backward_chunks(dx2, partials2, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, cut, chunks, work);
        sum_chunks(dw2, partials2, chunks, slice, 0, 3 < F * K ? 3 : F * K);
        sum_chunks(dw2, partials2, chunks, slice, 3 < F * K ? 3 : F * K, F * K);
        sum_chunks(db2, partials2 + (<usize>(F * K) << SHIFT), chunks, slice, 0, F);
        same("dw pieces" + tag, dw2, dw1, F * K);
        same("db pieces" + tag, db2, db1, F);
        same("dx pieces" + tag, dx2, dx1, N * C * H * W);
        same("dx vs per-image path" + tag, dx1, dxOld, N * C * H * W);
        const dbTwin = buffer(F);
        conv_bias_backward_chunks__scalar(dbTwin, dout, N, F, P, G);
        same("db vs chunked twin" + tag, db1, dbTwin, F);
        expect<bool>(maxRelErr(dw1, rdw, F * K) < LOOSE).toBe(true, "dw vs direct" + tag);
        expect<bool>(maxRelErr(dx1, rdx, N * C * H * W) < LOOSE).toBe(true, "dx vs direct" + tag);
        // One thread: the chunks in order, each partial added as it is done (conv_backward).
        const dx4 = buffer(N * C * H * W), dw4 = buffer(F * K), db4 = buffer(F);
        const work4 = heap.alloc(conv_backward_work_bytes(F, C, H, W, HH, WW, stride, pad, Ho, Wo) + (<usize>slice << SHIFT));
        conv_backward(dx4, dw4, db4, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, work4);
        same("whole dw" + tag, dw4, dw1, F * K);
        same("whole db" + tag, db4, db1, F);
        same("whole dx" + tag, dx4, dx1, N * C * H * W);
        expect<bool>(guardIntact(dw4, F * K) && guardIntact(db4, F)).toBe(true, "whole overrun" + tag);
        heap.free(work4);
        // dx = 0 skips dx and leaves the partials the same.
        const partials3 = buffer(chunks * slice);
        conv_backward_chunks(0, partials3, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, 0, chunks, work);
        same("partials without dx" + tag, partials3, partials, chunks * slice);
      }
    }
  });

  it("bit for bit with the first release's im2col + GEMM pipeline: every geometry, F around the tiles, P and F past a GEMM slice", () => {
    // (the dw tiles replace im2col + gemm_nt per image, the dcols tiles gemm_tn: same sums, same bits)
    const FS: i32[] = [1, 3, 4, 5, 8, 9, 17];
    for (let t = 0; t < GEOMETRIES.length + 2; t++) {
      // two extra cases: P = 289 > 256 (dw sums in two slices), F = 260 > 256 (dcols in two)
      const g: i32[] = t < GEOMETRIES.length ? GEOMETRIES[t] : t == GEOMETRIES.length ? [2, 17, 17, 3, 3, 1, 1] : [2, 5, 4, 3, 3, 1, 1];
      const C = g[0], H = g[1], W = g[2], HH = g[3], WW = g[4], stride = g[5], pad = g[6];
      const Ho = outSize(H, HH, stride, pad), Wo = outSize(W, WW, stride, pad);
      const K = C * HH * WW, P = Ho * Wo;
      const pointwise = HH == 1 && WW == 1 && stride == 1 && pad == 0;
      const nf = t < GEOMETRIES.length ? FS.length : 1;
      for (let fi = 0; fi < nf; fi++) {
        const F = t < GEOMETRIES.length ? FS[fi] : t == GEOMETRIES.length ? 5 : 260;
        const N = 3, G = 2, chunks = 2;
        const tag = " " + label(g) + " F=" + F.toString();
        const x = pattern(N * C * H * W, 70 + t), w = pattern(F * K, 80 + fi), dout = pattern(N * F * P, 90 + t + fi);
        const work = heap.alloc(conv_backward_work_bytes(F, C, H, W, HH, WW, stride, pad, Ho, Wo));
        const wt = heap.alloc(conv_backward_packed_reals(F, K) << SHIFT);
        conv_backward_pack(wt, w, F, K);
        const slice = <i32>conv_chunk_reals(F, K);
        const partials = buffer(chunks * slice), dx = buffer(N * C * H * W);
        memory.fill(partials, 0x7f, <usize>(chunks * slice) << SHIFT);
        memory.fill(dx, 0x7f, <usize>(N * C * H * W) << SHIFT);
        conv_backward_chunks(dx, partials, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, 0, chunks, work);
        // The first release: per image, im2col, dw (+)= dout[n] · colsᵀ, dcols = wᵀ · dout[n], col2im.
        const cols = buffer(K * P), ref = buffer(chunks * slice), rdx = buffer(N * C * H * W);
        const gw = heap.alloc(max(gemm_work_bytes(F, K, P), gemm_work_bytes(K, P, F)));
        for (let n = 0; n < N; n++) {
          const q = n / G;
          const dwq = ref + (<usize>(q * slice) << SHIFT);
          const gn = dout + (<usize>(n * F * P) << SHIFT), xn = x + (<usize>(n * C * H * W) << SHIFT), dxn = rdx + (<usize>(n * C * H * W) << SHIFT);
          im2col(cols, xn, C, H, W, HH, WW, stride, pad, Ho, Wo);
          gemm_nt(dwq, gn, cols, F, K, P, 0, n % G != 0, gw);
          if (pointwise) gemm_tn(dxn, w, gn, K, P, F, 0, false, gw);
          else {
            gemm_tn(cols, w, gn, K, P, F, 0, false, gw);
            col2im(dxn, cols, C, H, W, HH, WW, stride, pad, Ho, Wo);
          }
        }
        for (let q = 0; q < chunks; q++) {
          const o = <usize>(q * slice) << SHIFT;
          same("dw partial " + q.toString() + tag, partials + o, ref + o, F * K);
        }
        same("dx" + tag, dx, rdx, N * C * H * W);
        expect<bool>(guardIntact(partials, chunks * slice) && guardIntact(dx, N * C * H * W)).toBe(true, "overrun" + tag);
        heap.free(x); heap.free(w); heap.free(dout); heap.free(work); heap.free(wt); heap.free(partials); heap.free(dx);
        heap.free(cols); heap.free(ref); heap.free(rdx); heap.free(gw);
      }
    }
  });

  it("sum_chunks vs its twin: lengths 0, 1, 3, 4, 5, 17, 1000, chunks 1, 2, 5, any element range", () => {
    for (let l = 0; l < LENGTHS.length; l++) {
      const len = LENGTHS[l];
      for (let chunks = 1; chunks <= 5; chunks += chunks < 2 ? 1 : 3) {
        const stride = len + 3;
        const src = pattern(chunks * stride, 40 + chunks);
        const a = buffer(len), b = buffer(len);
        const cut = min(5, len);
        sum_chunks(a, src, chunks, stride, 0, cut);
        sum_chunks(a, src, chunks, stride, cut, len);
        sum_chunks__scalar(b, src, chunks, stride, 0, len);
        same(DTYPE + " sum_chunks len=" + len.toString() + " chunks=" + chunks.toString(), a, b, len);
        expect<bool>(guardIntact(a, len)).toBe(true, "sum_chunks wrote past the end");
      }
    }
  });
});
