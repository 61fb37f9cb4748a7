// The range and chunk entry points that let one wasm call do one thread's share (issue 11); batch
// norm's are in batchnorm.spec.ts (over `real`, so they run in both dtypes).
// Each is checked against its scalar twin and against one call over the whole range: a split into
// pieces (unaligned boundaries, one-element and empty pieces) must give the same bits as one
// call, and must not touch anything outside its piece.
import {
  f32_gemm_work_bytes, f32_gemm_nn, f32_gemm_tn, f32_gemm_nt, f32_gemm_nn_range, f32_gemm_tn_range, f32_gemm_nt_range,
  f32_gemm_packed_b_bytes, f32_gemm_pack_b, f32_gemm_pack_b_blocks, f32_gemm_nn_rows_packed, f32_gemm_tn_rows_packed,
} from "../gemm";
import { f32_gemm_nn__scalar, f32_gemm_tn__scalar, f32_gemm_nt__scalar } from "../reference/gemm";
import {
  f32_conv_forward, f32_conv_forward_images, f32_conv_forward_work_bytes,
  f32_im2col, f32_col2im, f32_conv_chunk_floats, f32_conv_backward_work_bytes, f32_conv_backward_chunks, f32_sum_chunks,
} from "../conv";
import { f32_conv_backward__direct, f32_sum_chunks__scalar, f32_conv_bias_backward_chunks__scalar } from "../reference/conv";
import { sum_rows_range, f64_mean, f64_sum, sum_squares, sum_abs, sum_squares_chunks, sum_abs_chunks } from "../reduce";
import { sum_rows__scalar, f64_mean__scalar, sum_squares__scalar, sum_abs__scalar } from "../reference/reduce";
import { softmax_loss_rows, svm_loss_rows } from "../loss";
import { softmax_loss, svm_loss } from "./whole";
import { rand_uniform, rand_normal, dropout_mask, i32_rand_below } from "../random";
import { LENGTHS, pattern, buffer, firstDifference, guardIntact } from "./helpers";

function same(name: string, a: usize, b: usize, n: i32): void {
  const at = firstDifference(a, b, n);
  expect<i32>(at).toBe(-1, name + " differs at " + at.toString());
}

function fillWith(p: usize, n: i32, v: f32): void {
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), v);
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

/** Cut points of [0, n): 0, 1, a point not on a multiple of 4, n (duplicates give empty pieces). */
function cuts(n: i32): i32[] {
  return [0, min(1, n), min(1, n), min(7, n), n];
}

// ---------------------------------------------------------------------------------------------

const GEMM_SHAPES: i32[][] = [[1, 1, 1], [5, 13, 7], [13, 21, 300], [9, 3, 4], [4, 8, 0], [17, 9, 33]];

function whole(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, acc: bool, work: usize): void {
  if (variant == 0) f32_gemm_nn(c, a, b, m, n, k, bias, acc, work);
  else if (variant == 1) f32_gemm_tn(c, a, b, m, n, k, bias, acc, work);
  else f32_gemm_nt(c, a, b, m, n, k, bias, acc, work);
}

function block(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, acc: bool, work: usize, i0: i32, i1: i32, j0: i32, j1: i32): void {
  if (variant == 0) f32_gemm_nn_range(c, a, b, m, n, k, bias, acc, work, i0, i1, j0, j1);
  else if (variant == 1) f32_gemm_tn_range(c, a, b, m, n, k, bias, acc, work, i0, i1, j0, j1);
  else f32_gemm_nt_range(c, a, b, m, n, k, bias, acc, work, i0, i1, j0, j1);
}

function naive(variant: i32, c: usize, a: usize, b: usize, m: i32, n: i32, k: i32, bias: usize, acc: bool): void {
  if (variant == 0) f32_gemm_nn__scalar(c, a, b, m, n, k, bias, acc);
  else if (variant == 1) f32_gemm_tn__scalar(c, a, b, m, n, k, bias, acc);
  else f32_gemm_nt__scalar(c, a, b, m, n, k, bias, acc);
}

describe("GEMM range entry points", () => {
  it("row cuts x column cuts (unaligned, one-element, empty blocks) give the bits of one whole call; blocks touch only themselves", () => {
    for (let variant = 0; variant < 3; variant++) {
      for (let t = 0; t < GEMM_SHAPES.length; t++) {
        const m = GEMM_SHAPES[t][0], n = GEMM_SHAPES[t][1], k = GEMM_SHAPES[t][2];
        for (let mode = 0; mode < 2; mode++) {
          const withBias = mode == 0, acc = mode == 1;
          const tag = " variant " + variant.toString() + " m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() + (acc ? " accumulate" : " bias");
          const a = pattern(m * k, 1), b = pattern(k * n, 2), bias = withBias ? pattern(n, 3) : 0, c0 = pattern(m * n, 4);
          const work = heap.alloc(f32_gemm_work_bytes(m, n, k) + 16);
          const ref = buffer(m * n), got = buffer(m * n), slow = buffer(m * n);
          memory.copy(ref, c0, <usize>(m * n) << 2);
          memory.copy(got, c0, <usize>(m * n) << 2);
          memory.copy(slow, c0, <usize>(m * n) << 2);
          whole(variant, ref, a, b, m, n, k, bias, acc, work);
          naive(variant, slow, a, b, m, n, k, bias, acc);
          const rc = cuts(m), cc = cuts(n);
          for (let r = 0; r + 1 < rc.length; r++) {
            for (let q = 0; q + 1 < cc.length; q++) {
              block(variant, got, a, b, m, n, k, bias, acc, work, rc[r], rc[r + 1], cc[q], cc[q + 1]);
            }
          }
          same("stitched blocks" + tag, got, ref, m * n);
          expect<bool>(guardIntact(got, m * n)).toBe(true, "wrote past C" + tag);
          expect<bool>(maxRelErr(got, slow, m * n) < 1e-4).toBe(true, "vs the naive twin" + tag);
          // One interior block alone: everything outside it keeps its sentinel.
          if (m >= 3 && n >= 3) {
            const lone = buffer(m * n);
            fillWith(lone, m * n, 99);
            block(variant, lone, a, b, m, n, k, bias, false, work, 1, m - 1, 1, n - 1);
            let outside = true;
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                const inside = i >= 1 && i < m - 1 && j >= 1 && j < n - 1;
                if (!inside && load<f32>(lone + (<usize>(i * n + j) << 2)) != 99) outside = false;
              }
            }
            expect<bool>(outside).toBe(true, "a block wrote outside itself" + tag);
          }
        }
      }
    }
  });
});

// Prepacked B: shapes with several k slices (KC = 256) and column blocks (NC = 1024), n not a
// multiple of 8, m not a multiple of 4.
const PACKED_SHAPES: i32[][] = [[1, 1, 1], [13, 21, 300], [9, 3, 4], [4, 8, 0], [6, 1030, 513], [17, 9, 33]];

describe("GEMM rows over a prepacked B", () => {
  it("packing in any block ranges, then row cuts (unaligned, one-row, empty), give the bits of one whole call; nothing written outside", () => {
    for (let variant = 0; variant < 2; variant++) {
      for (let t = 0; t < PACKED_SHAPES.length; t++) {
        const m = PACKED_SHAPES[t][0], n = PACKED_SHAPES[t][1], k = PACKED_SHAPES[t][2];
        for (let mode = 0; mode < 2; mode++) {
          const withBias = mode == 0, acc = mode == 1;
          const tag = (variant == 0 ? " nn" : " tn") + " m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() + (acc ? " accumulate" : " bias");
          const a = pattern(m * k, 5), b = pattern(k * n, 6), bias = withBias ? pattern(n, 7) : 0, c0 = pattern(m * n, 8);
          const work = heap.alloc(f32_gemm_work_bytes(m, n, k) + 16);
          const packedFloats = <i32>(f32_gemm_packed_b_bytes(n, k) >> 2);
          const packed = buffer(packedFloats);
          memory.fill(packed, 0xff, <usize>packedFloats << 2); // stale bytes must all be overwritten (or unused)
          // Pack in uneven block ranges: [0, 1), [1, blocks - 1), [blocks - 1, blocks).
          const blocks = <i32>f32_gemm_pack_b_blocks(n, k);
          const p1 = min(1, blocks), p2 = max(p1, blocks - 1);
          f32_gemm_pack_b(packed, b, n, k, false, 0, p1);
          f32_gemm_pack_b(packed, b, n, k, false, p1, p2);
          f32_gemm_pack_b(packed, b, n, k, false, p2, blocks);
          expect<bool>(guardIntact(packed, packedFloats)).toBe(true, "packing wrote past its buffer" + tag);
          const ref = buffer(m * n), got = buffer(m * n), slow = buffer(m * n);
          memory.copy(ref, c0, <usize>(m * n) << 2);
          memory.copy(got, c0, <usize>(m * n) << 2);
          memory.copy(slow, c0, <usize>(m * n) << 2);
          whole(variant, ref, a, b, m, n, k, bias, acc, work);
          naive(variant, slow, a, b, m, n, k, bias, acc);
          const rc = cuts(m);
          for (let r = 0; r + 1 < rc.length; r++) {
            if (variant == 0) f32_gemm_nn_rows_packed(got, a, packed, m, n, k, bias, acc, work, rc[r], rc[r + 1]);
            else f32_gemm_tn_rows_packed(got, a, packed, m, n, k, bias, acc, work, rc[r], rc[r + 1]);
          }
          same("rows over packed B" + tag, got, ref, m * n);
          expect<bool>(guardIntact(got, m * n)).toBe(true, "wrote past C" + tag);
          expect<bool>(maxRelErr(got, slow, m * n) < 1e-4).toBe(true, "vs the naive twin" + tag);
          // Rows [1, m - 1) alone: the other rows keep their sentinel.
          if (m >= 3) {
            const lone = buffer(m * n);
            fillWith(lone, m * n, 99);
            if (variant == 0) f32_gemm_nn_rows_packed(lone, a, packed, m, n, k, bias, false, work, 1, m - 1);
            else f32_gemm_tn_rows_packed(lone, a, packed, m, n, k, bias, false, work, 1, m - 1);
            let outside = true;
            for (let j = 0; j < n; j++) {
              if (load<f32>(lone + (<usize>j << 2)) != 99 || load<f32>(lone + (<usize>((m - 1) * n + j) << 2)) != 99) outside = false;
            }
            expect<bool>(outside).toBe(true, "a row block wrote outside itself" + tag);
            heap.free(lone);
          }
          heap.free(a); heap.free(b); heap.free(c0); heap.free(work); heap.free(packed);
          heap.free(ref); heap.free(got); heap.free(slow);
          if (withBias) heap.free(bias);
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------

// (N, C, H, W, F, HH, WW, stride, pad)
const CONV: i32[][] = [
  [5, 3, 7, 6, 4, 3, 3, 1, 1],
  [4, 2, 9, 5, 3, 3, 2, 2, 0],
  [3, 5, 4, 4, 6, 1, 1, 1, 0],
  [1, 1, 3, 4, 1, 2, 2, 1, 1],
];

describe("conv forward by image ranges", () => {
  it("ranges [0, 1), [1, 2), [2, N) (and an empty one) give the bits of one whole call; a range touches only its images", () => {
    for (let t = 0; t < CONV.length; t++) {
      const g = CONV[t];
      const N = g[0], C = g[1], H = g[2], W = g[3], F = g[4], HH = g[5], WW = g[6], stride = g[7], pad = g[8];
      const Ho = (H + 2 * pad - HH) / stride + 1, Wo = (W + 2 * pad - WW) / stride + 1;
      const outN = N * F * Ho * Wo;
      const x = pattern(N * C * H * W, 40 + t), w = pattern(F * C * HH * WW, 50 + t), b = pattern(F, 60 + t);
      const work = heap.alloc(f32_conv_forward_work_bytes(<usize>F, <usize>C, <usize>H, <usize>W, <usize>HH, <usize>WW, <usize>pad) + 16);
      const ref = buffer(outN), got = buffer(outN);
      for (let relu = 0; relu < 2; relu++) {
        const tag = " case " + t.toString() + (relu ? " relu" : "");
        f32_conv_forward(ref, x, w, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu == 1, work);
        fillWith(got, outN, 99);
        const cutsN: i32[] = [0, min(1, N), min(2, N), min(2, N), N];
        for (let r = 0; r + 1 < cutsN.length; r++) {
          f32_conv_forward_images(got, x, w, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu == 1, work, cutsN[r], cutsN[r + 1]);
        }
        same("image ranges" + tag, got, ref, outN);
        expect<bool>(guardIntact(got, outN)).toBe(true, "wrote past out" + tag);
        // Image 1 alone: the others keep their sentinel.
        if (N >= 3) {
          fillWith(got, outN, 99);
          f32_conv_forward_images(got, x, w, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu == 1, work, 1, 2);
          const per = F * Ho * Wo;
          let outside = true;
          for (let i = 0; i < outN; i++) if ((i < per || i >= 2 * per) && load<f32>(got + (<usize>i << 2)) != 99) outside = false;
          expect<bool>(outside).toBe(true, "a range wrote outside its images" + tag);
        }
      }
      heap.free(x); heap.free(w); heap.free(b); heap.free(work); heap.free(ref); heap.free(got);
    }
  });
});

describe("conv backward in chunks", () => {
  it("dw within rounding of the direct twin, db bit for bit with the chunked twin, dx bit for bit with the per-image path; any chunk ranges agree", () => {
    for (let t = 0; t < CONV.length; t++) {
      const g = CONV[t];
      const N = g[0], C = g[1], H = g[2], W = g[3], F = g[4], HH = g[5], WW = g[6], stride = g[7], pad = g[8];
      const Ho = (H + 2 * pad - HH) / stride + 1, Wo = (W + 2 * pad - WW) / stride + 1;
      const K = C * HH * WW, P = Ho * Wo;
      const pointwise = HH == 1 && WW == 1 && stride == 1 && pad == 0;
      const x = pattern(N * C * H * W, 10 + t), w = pattern(F * K, 20 + t), dout = pattern(N * F * P, 30 + t);
      const work = heap.alloc(f32_conv_backward_work_bytes(F, K, P, pointwise) + 16);
      const slice = <i32>f32_conv_chunk_floats(F, K);
      // The per-image path of the first release: dcols = wᵀ · dout[n], col2im.
      const dxOld = buffer(N * C * H * W);
      const cols = heap.alloc(<usize>(K * P) << 2);
      const gw = heap.alloc(f32_gemm_work_bytes(K, P, F));
      for (let n = 0; n < N; n++) {
        const gn = dout + (<usize>(n * F * P) << 2), dxn = dxOld + (<usize>(n * C * H * W) << 2);
        if (pointwise) f32_gemm_tn(dxn, w, gn, K, P, F, 0, false, gw);
        else {
          f32_gemm_tn(cols, w, gn, K, P, F, 0, false, gw);
          f32_col2im(dxn, cols, C, H, W, HH, WW, stride, pad, Ho, Wo);
        }
      }
      const rdx = buffer(N * C * H * W), rdw = buffer(F * K), rdb = buffer(F);
      f32_conv_backward__direct(rdx, rdw, rdb, dout, x, w, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo);
      for (let G = 1; G <= N; G++) {
        const chunks = (N + G - 1) / G;
        const tag = " case " + t.toString() + " G=" + G.toString();
        const partials = buffer(chunks * slice);
        const dx1 = buffer(N * C * H * W), dw1 = buffer(F * K), db1 = buffer(F);
        f32_conv_backward_chunks(dx1, partials, dout, x, w, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, 0, chunks, work);
        expect<bool>(guardIntact(partials, chunks * slice)).toBe(true, "partials overrun" + tag);
        f32_sum_chunks(dw1, partials, chunks, slice, 0, F * K);
        f32_sum_chunks(db1, partials + (<usize>(F * K) << 2), chunks, slice, 0, F);
        // The same chunks in pieces (one chunk, an empty range, the rest), dx skipped in one pass.
        const partials2 = buffer(chunks * slice);
        const dx2 = buffer(N * C * H * W), dw2 = buffer(F * K), db2 = buffer(F);
        const cut = min(1, chunks);
        f32_conv_backward_chunks(dx2, partials2, dout, x, w, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, 0, cut, work);
        f32_conv_backward_chunks(dx2, partials2, dout, x, w, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, cut, cut, work);
        f32_conv_backward_chunks(dx2, partials2, dout, x, w, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, cut, chunks, work);
        f32_sum_chunks(dw2, partials2, chunks, slice, 0, 3 < F * K ? 3 : F * K);
        f32_sum_chunks(dw2, partials2, chunks, slice, 3 < F * K ? 3 : F * K, F * K);
        f32_sum_chunks(db2, partials2 + (<usize>(F * K) << 2), chunks, slice, 0, F);
        same("dw pieces" + tag, dw2, dw1, F * K);
        same("db pieces" + tag, db2, db1, F);
        same("dx pieces" + tag, dx2, dx1, N * C * H * W);
        same("dx vs per-image path" + tag, dx1, dxOld, N * C * H * W);
        const dbTwin = buffer(F);
        f32_conv_bias_backward_chunks__scalar(dbTwin, dout, N, F, P, G);
        same("db vs chunked twin" + tag, db1, dbTwin, F);
        expect<bool>(maxRelErr(dw1, rdw, F * K) < 1e-4).toBe(true, "dw vs direct" + tag);
        expect<bool>(maxRelErr(dx1, rdx, N * C * H * W) < 1e-4).toBe(true, "dx vs direct" + tag);
        // dx = 0 skips dx and leaves the partials the same.
        const partials3 = buffer(chunks * slice);
        f32_conv_backward_chunks(0, partials3, dout, x, w, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, 0, chunks, work);
        same("partials without dx" + tag, partials3, partials, chunks * slice);
      }
    }
  });

  it("f32_sum_chunks vs its twin: lengths 0, 1, 3, 4, 5, 17, 1000, chunks 1, 2, 5, any element range", () => {
    for (let l = 0; l < LENGTHS.length; l++) {
      const len = LENGTHS[l];
      for (let chunks = 1; chunks <= 5; chunks += chunks < 2 ? 1 : 3) {
        const stride = len + 3;
        const src = pattern(chunks * stride, 40 + chunks);
        const a = buffer(len), b = buffer(len);
        const cut = min(5, len);
        f32_sum_chunks(a, src, chunks, stride, 0, cut);
        f32_sum_chunks(a, src, chunks, stride, cut, len);
        f32_sum_chunks__scalar(b, src, chunks, stride, 0, len);
        same("sum_chunks len=" + len.toString() + " chunks=" + chunks.toString(), a, b, len);
        expect<bool>(guardIntact(a, len)).toBe(true, "sum_chunks wrote past the end");
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("column sums and losses by ranges", () => {
  it("sum_rows_range: column ranges give the twin's bits (rows 0, 1, 5; cols in LENGTHS)", () => {
    for (let r = 0; r <= 5; r += r < 1 ? 1 : 4) {
      for (let l = 0; l < LENGTHS.length; l++) {
        const cols = LENGTHS[l];
        const x = pattern(r * cols, 70), y0 = pattern(cols, 71);
        const a = buffer(cols), b = buffer(cols);
        memory.copy(a, y0, <usize>cols << 2);
        memory.copy(b, y0, <usize>cols << 2);
        const c = cuts(cols);
        for (let k = 0; k + 1 < c.length; k++) sum_rows_range(a, x, r, cols, true, c[k], c[k + 1]);
        sum_rows__scalar(b, x, r, cols, true);
        same("sum_rows accumulate rows=" + r.toString() + " cols=" + cols.toString(), a, b, cols);
        for (let k = 0; k + 1 < c.length; k++) sum_rows_range(a, x, r, cols, false, c[k], c[k + 1]);
        sum_rows__scalar(b, x, r, cols, false);
        same("sum_rows rows=" + r.toString() + " cols=" + cols.toString(), a, b, cols);
        expect<bool>(guardIntact(a, cols)).toBe(true, "sum_rows_range wrote past the end");
      }
    }
  });

  it("softmax and SVM loss by row ranges + f64_mean give the whole kernel's loss and dscores bit for bit", () => {
    for (let n = 1; n <= 17; n += 8) {
      for (let c = 1; c <= 10; c += 3) {
        const tag = " n=" + n.toString() + " c=" + c.toString();
        const scores = pattern(n * c, 80 + c);
        const y = heap.alloc(<usize>n << 2);
        for (let i = 0; i < n; i++) store<i32>(y + (<usize>i << 2), (i * 7 + 3) % c);
        const rows = heap.alloc(<usize>n << 3);
        const r = cuts(n);
        for (let kind = 0; kind < 2; kind++) {
          const d1 = buffer(n * c), d2 = buffer(n * c);
          const want = kind == 0 ? softmax_loss(d1, scores, y, n, c) : svm_loss(d1, scores, y, n, c);
          for (let k = 0; k + 1 < r.length; k++) {
            if (kind == 0) softmax_loss_rows(rows, d2, scores, y, n, c, r[k], r[k + 1]);
            else svm_loss_rows(rows, d2, scores, y, n, c, r[k], r[k + 1]);
          }
          const got = f64_mean(rows, n);
          expect<f64>(got).toBe(want, (kind == 0 ? "softmax" : "svm") + " loss" + tag);
          expect<f64>(f64_mean__scalar(rows, n)).toBe(got, "f64_mean vs twin" + tag);
          same((kind == 0 ? "softmax" : "svm") + " dscores" + tag, d2, d1, n * c);
        }
      }
    }
  });
});

describe("counter-based random kernels by ranges", () => {
  it("elements [i0, i1) drawn at offset + i0 equal the same elements of one call (uniform, normal, dropout mask, below)", () => {
    const n = 1001;
    const c = cuts(n);
    for (let kind = 0; kind < 4; kind++) {
      const a = buffer(n), b = buffer(n);
      for (let part = -1; part + 1 < c.length; part++) {
        // part -1: one call over everything into a; then the pieces into b.
        const i0 = part < 0 ? 0 : c[part], i1 = part < 0 ? n : c[part + 1];
        const dst = (part < 0 ? a : b) + (<usize>i0 << 2);
        const offset = <f64>(12345 + i0);
        if (kind == 0) rand_uniform(dst, i1 - i0, 77, offset, 0, 1);
        else if (kind == 1) rand_normal(dst, i1 - i0, 77, offset, 0.5, 2);
        else if (kind == 2) dropout_mask(dst, i1 - i0, 0.3, 77, offset);
        else i32_rand_below(dst, i1 - i0, 1000, 77, offset);
      }
      same("random kind " + kind.toString(), b, a, n);
      expect<bool>(guardIntact(b, n)).toBe(true, "random kind " + kind.toString() + " wrote past the end");
    }
  });
});

describe("sums of squares and absolute values in chunks", () => {
  it("each chunk equals the whole-array kernel on its slice; one chunk equals it on everything; totals near the exact-term twin; any chunk ranges agree", () => {
    const n = 1003;
    const x = pattern(n, 90);
    for (let chunk = 1; chunk <= 2000; chunk = chunk * 7 + 2) {
      const chunks = (n + chunk - 1) / chunk;
      const a = heap.alloc(<usize>chunks << 3), b = heap.alloc(<usize>chunks << 3);
      for (let kind = 0; kind < 2; kind++) {
        if (kind == 0) sum_squares_chunks(a, x, n, chunk, 0, chunks);
        else sum_abs_chunks(a, x, n, chunk, 0, chunks);
        const cut = min(1, chunks);
        for (let k = 0; k < 3; k++) {
          const q0 = k == 0 ? 0 : k == 1 ? cut : cut, q1 = k == 0 ? cut : k == 1 ? cut : chunks;
          if (kind == 0) sum_squares_chunks(b, x, n, chunk, q0, q1);
          else sum_abs_chunks(b, x, n, chunk, q0, q1);
        }
        const tag = (kind == 0 ? " squares" : " abs") + " chunk=" + chunk.toString();
        for (let q = 0; q < chunks; q++) {
          const i0 = q * chunk, len = min(n, i0 + chunk) - i0;
          const want = kind == 0 ? sum_squares(x + (<usize>i0 << 2), len) : sum_abs(x + (<usize>i0 << 2), len);
          expect<f64>(load<f64>(a + (<usize>q << 3))).toBe(want, "chunk " + q.toString() + tag);
          expect<f64>(load<f64>(b + (<usize>q << 3))).toBe(want, "chunk ranges " + q.toString() + tag);
        }
        const total = f64_sum(a, chunks);
        if (chunks == 1) expect<f64>(total).toBe(kind == 0 ? sum_squares(x, n) : sum_abs(x, n), "one chunk" + tag);
        const exact = kind == 0 ? sum_squares__scalar(x, n) : sum_abs__scalar(x, n);
        expect<bool>(Math.abs(total - exact) <= 1e-6 * exact).toBe(true, "vs the exact-term twin" + tag);
      }
    }
  });
});
