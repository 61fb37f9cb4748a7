import { conv3x3_winograd_dw, conv3x3_winograd_dw_band_rows, conv3x3_winograd_dw_chunks, conv3x3_winograd_dw_piece_images, conv3x3_winograd_dw_work_bytes } from "../winograd-dw";
import { conv_chunk_reals, sum_chunks, conv_backward, conv_backward_packed_reals, conv_backward_work_bytes } from "../conv";
import { conv3x3_winograd_dw__scalar } from "../reference/winograd-dw";
import { conv_backward__direct } from "../reference/conv";
import { FLOAT32, SHIFT } from "../real";
import { DTYPE, pattern, buffer, maxRelErr } from "./helpers";
import { GEOMETRIES as SHARED, LOOSE, same } from "./winograd-geometries";

// The F(2x2, 3x3) weight gradient against its scalar twin bit for bit (both dtypes), against the
// direct sums within rounding, and by chunk ranges plus sum_chunks against the one-thread call.
// Geometries: winograd-geometries.ts's, and one image per piece (16 channels on 40x40: 400
// tiles, the pieces hold 585 float32 or 292 float64 tiles, so float64 runs in bands). The shared
// [10, 63, 64, 1] map runs in bands of tile rows here too (1,024 tiles at 10 channels and 9
// filters, 744 per piece in float32); the small maps put several images in a piece.
const GEOMETRIES: i32[][] = SHARED.concat([[16, 40, 40, 1]]);

function label(g: i32[], F: i32, N: i32, G: i32): string {
  return DTYPE + " C=" + g[0].toString() + " H=" + g[1].toString() + " W=" + g[2].toString() + " pad=" + g[3].toString() +
    " F=" + F.toString() + " N=" + N.toString() + " G=" + G.toString();
}


/** 16-byte aligned scratch for the one-thread call (work bytes plus a chunk's slice). */
function scratch(C: i32, H: i32, W: i32, F: i32, pad: i32, G: i32): usize {
  return heap.alloc(conv3x3_winograd_dw_work_bytes(<usize>C, <usize>H, <usize>W, <usize>F, <usize>pad, <usize>G) + (conv_chunk_reals(<usize>F, <usize>(9 * C)) << SHIFT) + 16);
}

describe("conv3x3_winograd_dw, " + DTYPE, () => {
  it("the geometries take whole-image pieces, one image per piece and bands as the header says", () => {
    // [2, 28, 28, 1] at F = 9: several whole images per piece; [16, 40, 40, 1]: one (f32);
    // [10, 63, 64, 1]: bands.
    expect<i32>(conv3x3_winograd_dw_piece_images(2, 9, 14, 14)).toBeGreaterThan(1);
    expect<i32>(conv3x3_winograd_dw_piece_images(16, 9, 20, 20)).toBe(FLOAT32 ? 1 : 0);
    expect<i32>(conv3x3_winograd_dw_piece_images(10, 9, 32, 32)).toBe(0);
    expect<i32>(conv3x3_winograd_dw_band_rows(10, 9, 32, 32)).toBeLessThan(32);
  });

  it("bit for bit with the scalar twin: geometries x F in 1, 3, 4, 5, 9 x (N, G) in (1, 1), (3, 2), (5, 5)", () => {
    const FS: i32[] = [1, 3, 4, 5, 9];
    const NG: i32[][] = [[1, 1], [3, 2], [5, 5]];
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], pad = g[3];
      const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
      for (let fi = 0; fi < FS.length; fi++) {
        const F = FS[fi];
        if (C * H * W * F > 64 * 64 * 20 && fi < FS.length - 1) continue; // the large maps once, at F = 9
        for (let k = 0; k < NG.length; k++) {
          const N = NG[k][0], G = NG[k][1];
          const x = pattern(N * C * H * W, t + 11 * fi + k), dout = pattern(N * F * Ho * Wo, t + 13 * fi + k + 300);
          const work = scratch(C, H, W, F, pad, G);
          const n = F * C * 9;
          const a = buffer(n), b = buffer(n), da = buffer(F), db = buffer(F);
          conv3x3_winograd_dw(a, da, dout, x, N, C, H, W, F, pad, G, (work + 15) & ~15);
          conv3x3_winograd_dw__scalar(b, db, dout, x, N, C, H, W, F, pad, G);
          same("dw " + label(g, F, N, G), a, b, n);
          same("db " + label(g, F, N, G), da, db, F);
          heap.free(x); heap.free(dout); heap.free(work); heap.free(a); heap.free(b); heap.free(da); heap.free(db);
        }
      }
    }
  });

  it("near the exact sums: max |a-b|/(1+|b|) under 5x the direct kernel's error, or 1e-5 float32, 1e-13 float64", () => {
    // A long f32 sum (the 40x40 map: 4,800 terms per weight) strays from the exact one by about
    // 1e-5 in either algorithm, so the bound scales with the direct kernel's own error. The
    // transformed sums run larger than dw (Gᵀ · G cancels them back down), as in Winograd's
    // forward: measured 1.0-2.5x the direct error, 3.4x on the 63x64 map (2.6e-5 against 7.5e-6).
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], pad = g[3];
      const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
      const F = 3 + (t % 4), N = 3, G = 2, K = 9 * C;
      const x = pattern(N * C * H * W, t + 100), dout = pattern(N * F * Ho * Wo, t + 200), w = pattern(F * K, t + 250);
      const work = scratch(C, H, W, F, pad, G);
      const wt = heap.alloc(conv_backward_packed_reals(<usize>F, <usize>K) << SHIFT);
      const directWork = heap.alloc(conv_backward_work_bytes(<usize>F, <usize>C, <usize>H, <usize>W, 3, 3, 1, <usize>pad, <usize>Ho, <usize>Wo) + (conv_chunk_reals(<usize>F, <usize>K) << SHIFT) + 16);
      const n = F * K;
      const a = buffer(n), exact = buffer(n), direct = buffer(n), da = buffer(F), dbExact = buffer(F), dbDirect = buffer(F), dx = buffer(N * C * H * W);
      conv3x3_winograd_dw(a, da, dout, x, N, C, H, W, F, pad, G, (work + 15) & ~15);
      conv_backward__direct(dx, exact, dbExact, dout, x, w, N, C, H, W, F, 3, 3, 1, pad, Ho, Wo);
      conv_backward(0, direct, dbDirect, dout, x, wt, N, C, H, W, F, 3, 3, 1, pad, Ho, Wo, G, (directWork + 15) & ~15);
      const e = maxRelErr(a, exact, n), bound = max(LOOSE, 5 * maxRelErr(direct, exact, n));
      expect<bool>(e < bound).toBe(true, "winograd dw vs exact " + label(g, F, N, G) + " max rel err " + e.toString() + ", bound " + bound.toString());
      // db: conv_bias_backward's sums in both, so the direct kernel's bits
      same("db " + label(g, F, N, G), da, dbDirect, F);
      heap.free(x); heap.free(dout); heap.free(w); heap.free(work); heap.free(wt); heap.free(directWork);
      heap.free(a); heap.free(exact); heap.free(direct); heap.free(da); heap.free(dbExact); heap.free(dbDirect); heap.free(dx);
    }
  });

  it("chunk ranges then sum_chunks give the one-thread bits and write only their own slices", () => {
    for (let t = 0; t < GEOMETRIES.length; t++) {
      const g = GEOMETRIES[t];
      const C = g[0], H = g[1], W = g[2], pad = g[3];
      const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
      const F = 5, N = 5, G = 2, chunks = 3;
      const x = pattern(N * C * H * W, t + 400), dout = pattern(N * F * Ho * Wo, t + 500);
      const slice = <i32>conv_chunk_reals(<usize>F, <usize>(9 * C)), FK = F * C * 9;
      const work = scratch(C, H, W, F, pad, G), aligned = (work + 15) & ~15;
      const whole = buffer(FK), wholeB = buffer(F);
      conv3x3_winograd_dw(whole, wholeB, dout, x, N, C, H, W, F, pad, G, aligned);
      const partials = buffer(chunks * slice);
      memory.fill(partials, 0x7f, <usize>(chunks * slice) << SHIFT);
      conv3x3_winograd_dw_chunks(partials, dout, x, N, C, H, W, F, pad, G, 1, 2, aligned);
      expect<u32>(load<u32>(partials)).toBe(0x7f7f7f7f, "chunk 1 wrote into chunk 0's slice " + label(g, F, N, G));
      expect<u32>(load<u32>(partials + (<usize>(2 * slice) << SHIFT))).toBe(0x7f7f7f7f, "chunk 1 wrote into chunk 2's slice");
      conv3x3_winograd_dw_chunks(partials, dout, x, N, C, H, W, F, pad, G, 2, 3, aligned);
      conv3x3_winograd_dw_chunks(partials, dout, x, N, C, H, W, F, pad, G, 0, 1, aligned);
      const a = buffer(FK), ab = buffer(F);
      sum_chunks(a, partials, chunks, slice, 0, FK);
      sum_chunks(ab, partials + (<usize>FK << SHIFT), chunks, slice, 0, F);
      same("chunks dw " + label(g, F, N, G), a, whole, FK);
      same("chunks db " + label(g, F, N, G), ab, wholeB, F);
      heap.free(x); heap.free(dout); heap.free(work); heap.free(whole); heap.free(wholeB); heap.free(partials); heap.free(a); heap.free(ab);
    }
  });
});
