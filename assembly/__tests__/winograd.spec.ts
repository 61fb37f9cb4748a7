import {
  conv3x3_winograd, conv3x3_winograd_pack, conv3x3_winograd_pack_flipped, conv3x3_winograd_packed_reals, conv3x3_winograd_work_bytes,
} from "../winograd";
import { conv_bn_table } from "../conv";
import { conv3x3_winograd__scalar } from "../reference/winograd";
import { conv_backward__direct, conv_forward__direct } from "../reference/conv";
import { SHIFT } from "../real";
import { DTYPE, pattern, buffer, guardIntact, maxRelErr } from "./helpers";
import { GEOMETRIES, LOOSE, same } from "./winograd-geometries";

// The F(2x2, 3x3) forward against its scalar twin bit for bit (both dtypes), against the direct
// convolution within rounding, and split by images and by filters.
function label(g: i32[]): string {
  return DTYPE + " C=" + g[0].toString() + " H=" + g[1].toString() + " W=" + g[2].toString() + " pad=" + g[3].toString();
}



/** A batch-norm table (4 reals per filter: mean, 1/sqrt(var + eps), gamma, beta) from patterns. */
function bnTable(F: i32, salt: i32): usize {
  const gamma = pattern(F, salt), beta = pattern(F, salt + 1), mean = pattern(F, salt + 2), vr = pattern(F, salt + 3);
  for (let f = 0; f < F; f++) store<real>(vr + (<usize>f << SHIFT), abs(load<real>(vr + (<usize>f << SHIFT))) + 0.5);
  const table = heap.alloc(<usize>(4 * F) << SHIFT);
  conv_bn_table(table, gamma, beta, mean, vr, 1e-5, <usize>F);
  heap.free(gamma); heap.free(beta); heap.free(mean); heap.free(vr);
  return table;
}

describe("conv3x3_winograd vs scalar twin, " + DTYPE, () => {
  it("bit for bit: geometries x F in 1, 3, 4, 5, 9 x N in 1, 3 x relu x batch norm x bias or none", () => {
    const FS: i32[] = [1, 3, 4, 5, 9];
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], pad = g[3];
      const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
      for (let fi = 0; fi < FS.length; fi++) {
        const F = FS[fi];
        const w = pattern(F * C * 9, t + 500 + fi), bias = pattern(F, t + 600 + fi);
        const U = heap.alloc(conv3x3_winograd_packed_reals(<usize>F, <usize>C) << SHIFT);
        conv3x3_winograd_pack(U, w, F, C);
        const work = heap.alloc(conv3x3_winograd_work_bytes(<usize>C, <usize>H, <usize>W, <usize>F, <usize>pad) + 16);
        const table = bnTable(F, t + 700 + fi);
        for (let N = 1; N <= 3; N += 2) {
          const x = pattern(N * C * H * W, t + 7 * fi + N);
          const n = N * F * Ho * Wo;
          for (let mode = 0; mode < 8; mode++) {
            const relu = (mode & 1) != 0, bn = mode & 2 ? table : 0;
            const b0: usize = mode & 4 ? 0 : bias;
            const a = buffer(n), b = buffer(n);
            memory.fill(a, 0x7f, <usize>n << SHIFT);
            conv3x3_winograd(a, x, U, b0, bn, N, C, H, W, F, pad, relu, (work + 15) & ~15, 0, N, 0, F);
            conv3x3_winograd__scalar(b, x, w, b0, bn, N, C, H, W, F, pad, relu);
            same("winograd " + label(g) + " F=" + F.toString() + " N=" + N.toString() + (relu ? " relu" : "") + (bn ? " bn" : "") + (b0 ? "" : " no bias"), a, b, n);
            heap.free(a); heap.free(b);
          }
          heap.free(x);
        }
        heap.free(w); heap.free(bias); heap.free(U); heap.free(work); heap.free(table);
      }
    }
  });

  it("within rounding of the direct convolution (max |a-b|/(1+|b|) < 1e-5 float32, 1e-13 float64)", () => {
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], pad = g[3];
      const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
      const F = 3 + (t % 3), N = 2;
      const x = pattern(N * C * H * W, t + 100), w = pattern(F * C * 9, t + 200), bias = pattern(F, t + 300);
      const U = heap.alloc(conv3x3_winograd_packed_reals(<usize>F, <usize>C) << SHIFT);
      conv3x3_winograd_pack(U, w, F, C);
      const work = heap.alloc(conv3x3_winograd_work_bytes(<usize>C, <usize>H, <usize>W, <usize>F, <usize>pad) + 16);
      const n = N * F * Ho * Wo;
      const a = buffer(n), b = buffer(n);
      conv3x3_winograd(a, x, U, bias, 0, N, C, H, W, F, pad, false, (work + 15) & ~15, 0, N, 0, F);
      conv_forward__direct(b, x, w, bias, N, C, H, W, F, 3, 3, 1, pad, Ho, Wo);
      const e = maxRelErr(a, b, n);
      expect<bool>(e < LOOSE).toBe(true, "winograd vs direct " + label(g) + " max rel err " + e.toString());
      heap.free(x); heap.free(w); heap.free(bias); heap.free(U); heap.free(work); heap.free(a); heap.free(b);
    }
  });

  it("image ranges and filter ranges (multiples of 4) give the bits of one whole call and touch only their part", () => {
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], pad = g[3];
      const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
      const F = 9, N = 3, plane = F * Ho * Wo;
      const x = pattern(N * C * H * W, t + 800), w = pattern(F * C * 9, t + 900), bias = pattern(F, t + 1000);
      const U = heap.alloc(conv3x3_winograd_packed_reals(<usize>F, <usize>C) << SHIFT);
      conv3x3_winograd_pack(U, w, F, C);
      const work = (heap.alloc(conv3x3_winograd_work_bytes(<usize>C, <usize>H, <usize>W, <usize>F, <usize>pad) + 16) + 15) & ~15;
      const whole = buffer(N * plane), parts = buffer(N * plane);
      conv3x3_winograd(whole, x, U, bias, 0, N, C, H, W, F, pad, true, work, 0, N, 0, F);
      memory.fill(parts, 0x7f, <usize>(N * plane) << SHIFT);
      // images [0, 1) whole; image 1 by filters [0, 4), [4, 8), [8, 9); images [2, 3) whole; empty ranges
      conv3x3_winograd(parts, x, U, bias, 0, N, C, H, W, F, pad, true, work, 0, 1, 0, F);
      conv3x3_winograd(parts, x, U, bias, 0, N, C, H, W, F, pad, true, work, 1, 2, 0, 4);
      conv3x3_winograd(parts, x, U, bias, 0, N, C, H, W, F, pad, true, work, 1, 2, 8, 9);
      conv3x3_winograd(parts, x, U, bias, 0, N, C, H, W, F, pad, true, work, 1, 1, 0, F);
      conv3x3_winograd(parts, x, U, bias, 0, N, C, H, W, F, pad, true, work, 1, 2, 4, 4);
      // filters [4, 8) of image 1 not yet written: still the fill pattern
      const mid = parts + (<usize>(plane + 4 * Ho * Wo) << SHIFT);
      expect<u32>(load<u32>(mid)).toBe(0x7f7f7f7f, "a range touched another's outputs " + label(g));
      conv3x3_winograd(parts, x, U, bias, 0, N, C, H, W, F, pad, true, work, 1, 2, 4, 8);
      conv3x3_winograd(parts, x, U, bias, 0, N, C, H, W, F, pad, true, work, 2, 3, 0, F);
      same("winograd by ranges " + label(g), parts, whole, N * plane);
      heap.free(x); heap.free(w); heap.free(bias); heap.free(U); heap.free(whole); heap.free(parts);
    }
  });

  it("pack_flipped: the bits of conv3x3_winograd_pack on the weights turned by 180 degrees and transposed", () => {
    const SIZES: i32[][] = [[1, 1], [3, 5], [4, 8], [9, 2], [16, 16]];
    for (let t = 0; t < SIZES.length; t++) {
      const F = SIZES[t][0], C = SIZES[t][1];
      const w = pattern(F * C * 9, t + 1100);
      // w'[c, f, i, j] = w[f, c, 2 - i, 2 - j]: C filters over F channels
      const turned = heap.alloc(<usize>(F * C * 9) << SHIFT);
      for (let f = 0; f < F; f++) {
        for (let c = 0; c < C; c++) {
          for (let k = 0; k < 9; k++) {
            store<real>(turned + (<usize>((c * F + f) * 9 + k) << SHIFT), load<real>(w + (<usize>((f * C + c) * 9 + 8 - k) << SHIFT)));
          }
        }
      }
      const n = <i32>conv3x3_winograd_packed_reals(<usize>C, <usize>F);
      const a = buffer(n), b = buffer(n);
      conv3x3_winograd_pack_flipped(a, w, F, C);
      conv3x3_winograd_pack(b, turned, C, F);
      same(DTYPE + " pack_flipped F=" + F.toString() + " C=" + C.toString(), a, b, n);
      heap.free(w); heap.free(turned); heap.free(a); heap.free(b);
    }
  });

  it("dx of a stride-1 3x3 conv (pad 0, 1, 2) within rounding of the direct input gradient", () => {
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      // The forward conv: C channels -> F filters on an H x W map; its dx is a conv of dout (F
      // channels, Ho x Wo) back to C filters with pad 2 - pad.
      const C = g[0], H = g[1], W = g[2], pad = g[3];
      const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
      const F = 2 + (t % 4), N = 2;
      const x = pattern(N * C * H * W, t + 1200), w = pattern(F * C * 9, t + 1300), dout = pattern(N * F * Ho * Wo, t + 1400);
      const U = heap.alloc(conv3x3_winograd_packed_reals(<usize>C, <usize>F) << SHIFT);
      conv3x3_winograd_pack_flipped(U, w, F, C);
      const work = heap.alloc(conv3x3_winograd_work_bytes(<usize>F, <usize>Ho, <usize>Wo, <usize>C, <usize>(2 - pad)) + 16);
      const n = N * C * H * W;
      const a = buffer(n), b = buffer(n);
      const dw = heap.alloc(<usize>(F * C * 9) << SHIFT), db = heap.alloc(<usize>F << SHIFT);
      conv3x3_winograd(a, dout, U, 0, 0, N, F, Ho, Wo, C, 2 - pad, false, (work + 15) & ~15, 0, N, 0, C);
      conv_backward__direct(b, dw, db, dout, x, w, N, C, H, W, F, 3, 3, 1, pad, Ho, Wo);
      expect<bool>(guardIntact(a, n)).toBe(true, "dx wrote past the end " + label(g));
      const e = maxRelErr(a, b, n);
      expect<bool>(e < LOOSE).toBe(true, "winograd dx vs direct " + label(g) + " max rel err " + e.toString());
      heap.free(x); heap.free(w); heap.free(dout); heap.free(U); heap.free(work); heap.free(a); heap.free(b); heap.free(dw); heap.free(db);
    }
  });
});
