import { depthwise_forward, depthwise_backward_chunks, depthwise_sum_chunks, depthwise_chunk_reals, depthwise_work_bytes } from "../depthwise";
import { SHIFT } from "../real";
import { depthwise_forward__scalar, depthwise_dx__scalar, depthwise_weight_sums__scalar } from "../reference/depthwise";
import { DTYPE, pattern, buffer, firstDifference, guardIntact } from "./helpers";

// Every case: forward, dx and the chunk partials (dw, db) against the twins bit for bit, a guard
// after every output; the forward split into plane ranges and the backward into single chunks
// (as threads run them) must give the whole call's bits; dw and db also against plain f64 sums.

function agree(name: string, fast: usize, slow: usize, n: i32): void {
  const at = firstDifference(fast, slow, n);
  let detail = "";
  if (at >= 0) detail = " kernel " + load<real>(fast + (<usize>at << SHIFT)).toString() + " twin " + load<real>(slow + (<usize>at << SHIFT)).toString();
  expect<i32>(at).toBe(-1, DTYPE + " " + name + " differs at " + at.toString() + detail);
  expect<bool>(guardIntact(fast, n)).toBe(true, DTYPE + " " + name + " wrote past the end");
}

function realAt(p: usize, i: i32): real {
  return load<real>(p + (<usize>i << SHIFT));
}

/** Windows: kh, kw, sh, sw, ph, pw. */
const WINDOWS: i32[][] = [
  [3, 3, 1, 1, 1, 1], // MobileNet's stride 1
  [3, 3, 2, 2, 1, 1], // and stride 2
  [3, 3, 1, 1, 0, 0],
  [3, 3, 2, 2, 0, 0],
  [5, 5, 1, 1, 2, 2],
  [5, 5, 2, 2, 2, 2],
  [1, 1, 1, 1, 0, 0],
  [1, 1, 2, 2, 0, 0],
  [3, 3, 3, 3, 1, 1], // stride 3: the scalar paths
  [2, 3, 1, 2, 0, 1], // unequal sizes, strides and padding
  [3, 2, 2, 1, 1, 0],
  [4, 4, 2, 2, 1, 1], // even kernel, stride 2
  [3, 3, 1, 1, 2, 2], // padding past half the kernel
  [7, 7, 1, 1, 3, 3],
];
const SIZES: i32[] = [1, 2, 3, 5, 7, 8, 9, 13, 16, 17];
const CHANNELS: i32[] = [1, 3, 5];

function runCase(N: i32, C: i32, H: i32, W: i32, win: i32[], withBias: bool, salt: i32): void {
  const kh = win[0], kw = win[1], sh = win[2], sw = win[3], ph = win[4], pw = win[5];
  if (H + 2 * ph < kh || W + 2 * pw < kw) return;
  const Ho = (H + 2 * ph - kh) / sh + 1, Wo = (W + 2 * pw - kw) / sw + 1;
  const K = kh * kw;
  const tag = " N=" + N.toString() + " C=" + C.toString() + " H=" + H.toString() + " W=" + W.toString() + " k=" + kh.toString() + "x" + kw.toString() +
    " s=" + sh.toString() + "," + sw.toString() + " p=" + ph.toString() + "," + pw.toString() + (withBias ? " bias" : "");
  const nIn = N * C * H * W, nOut = N * C * Ho * Wo;
  const x = pattern(nIn, salt), w = pattern(C * K, salt + 1), b = withBias ? pattern(C, salt + 2) : 0, dout = pattern(nOut, salt + 3);

  // A work buffer with a guard after it (and stale contents), as threadScratch hands out.
  const workBytes = depthwise_work_bytes(H, W, kh, kw, sh, sw, ph, pw, Ho, Wo);
  const work = heap.alloc(<usize>workBytes + 16);
  memory.fill(work, 0x7f, <usize>workBytes);
  store<u64>(work + <usize>workBytes, 0x5a5a5a5a5a5a5a5a);

  // Forward, whole and split by planes.
  const a = buffer(nOut), e = buffer(nOut);
  depthwise_forward(a, x, w, b, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo, 0, N * C, work);
  depthwise_forward__scalar(e, x, w, b, N, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo);
  agree("depthwise_forward" + tag, a, e, nOut);
  if (N * C > 1) {
    const s = buffer(nOut);
    const cut = (N * C) / 2;
    depthwise_forward(s, x, w, b, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo, cut, N * C, work);
    depthwise_forward(s, x, w, b, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo, 0, cut, work);
    agree("depthwise_forward split" + tag, s, a, nOut);
  }

  // Backward with G = 2 images per chunk: all chunks in one call, then one chunk per call.
  const G = 2, chunks = (N + G - 1) / G;
  const slice = depthwise_chunk_reals(C, K);
  const parts = buffer(chunks * slice), twinParts = buffer(chunks * slice);
  const dx = buffer(nIn), twinDx = buffer(nIn);
  memory.fill(dx, 0x7f, <usize>nIn << SHIFT); // stale values must be overwritten
  depthwise_backward_chunks(dx, parts, dout, x, w, N, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo, G, 0, chunks, work);
  depthwise_dx__scalar(twinDx, dout, w, N, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo);
  agree("depthwise dx" + tag, dx, twinDx, nIn);
  for (let q = 0; q < chunks; q++) {
    depthwise_weight_sums__scalar(twinParts + (<usize>(q * slice) << SHIFT), dout, x, q * G, min(N, q * G + G), C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo);
  }
  agree("depthwise partials" + tag, parts, twinParts, chunks * slice);
  const parts1 = buffer(chunks * slice), dx1 = buffer(nIn);
  for (let q = chunks - 1; q >= 0; q--) {
    depthwise_backward_chunks(dx1, parts1, dout, x, w, N, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo, G, q, q + 1, work);
  }
  agree("depthwise partials one chunk per call" + tag, parts1, parts, chunks * slice);
  agree("depthwise dx one chunk per call" + tag, dx1, dx, nIn);
  const parts0 = buffer(chunks * slice);
  depthwise_backward_chunks(0, parts0, dout, x, w, N, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo, G, 0, chunks, work);
  agree("depthwise partials without dx" + tag, parts0, parts, chunks * slice);

  // The chunk sum, whole and split at an odd element; then dw and db against plain f64 sums.
  const sums = buffer(slice), sums2 = buffer(slice);
  depthwise_sum_chunks(sums, parts, chunks, slice, 0, slice);
  const cut = slice / 2 + 1;
  depthwise_sum_chunks(sums2, parts, chunks, slice, cut, slice);
  depthwise_sum_chunks(sums2, parts, chunks, slice, 0, cut);
  agree("depthwise_sum_chunks split" + tag, sums2, sums, slice);
  expect<u64>(load<u64>(work + <usize>workBytes)).toBe(0x5a5a5a5a5a5a5a5a, DTYPE + " depthwise wrote past its work buffer" + tag);
  for (let c = 0; c < C; c++) {
    for (let t = -1; t < K; t++) {
      let exact: f64 = 0, scale: f64 = 0;
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < Ho; oh++) {
          for (let ow = 0; ow < Wo; ow++) {
            const g = <f64>realAt(dout, ((n * C + c) * Ho + oh) * Wo + ow);
            let term = g;
            if (t >= 0) {
              const ih = oh * sh - ph + t / kw, iw = ow * sw - pw + t % kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue; // a padding zero
              term = g * <f64>realAt(x, ((n * C + c) * H + ih) * W + iw);
            }
            exact += term;
            scale += Math.abs(term);
          }
        }
      }
      const got = <f64>realAt(sums, t < 0 ? C * K + c : c * K + t);
      const tol = (DTYPE == "float32" ? 1e-6 : 1e-14) * (scale + 1e-30);
      expect<bool>(Math.abs(got - exact) <= tol).toBe(true, DTYPE + (t < 0 ? " db" : " dw") + tag + " c=" + c.toString() + " t=" + t.toString() +
        " got " + got.toString() + " exact " + exact.toString());
    }
  }
}

describe("depthwise convolution vs scalar twins, " + DTYPE, () => {
  it("14 windows x H, W in 1..17 x C in 1, 3, 5 x N in 1..3, with and without bias: forward, dx, dw, db; splits by planes and chunks", () => {
    let salt = 0;
    for (let v = 0; v < WINDOWS.length; v++) {
      for (let i = 0; i < SIZES.length; i++) {
        for (let j = 0; j < SIZES.length; j += 3) {
          const C = CHANNELS[(i + j + v) % 3];
          const N = 1 + (i + v) % 3;
          runCase(N, C, SIZES[i], SIZES[(i + j) % SIZES.length], WINDOWS[v], (i + j) % 2 == 0, salt);
          salt += 5;
        }
      }
    }
  });
  it("MobileNet-sized planes (28x28 and 14x14, C = 4, N = 3), 3x3 stride 1 and 2, pad 1", () => {
    runCase(3, 4, 28, 28, WINDOWS[0], true, 900);
    runCase(3, 4, 28, 28, WINDOWS[1], true, 910);
    runCase(3, 4, 14, 14, WINDOWS[0], false, 920);
    runCase(3, 4, 14, 15, WINDOWS[1], false, 930);
  });
  it("by hand: a 3x3 all-ones kernel with bias 0.5 on a 3x3 plane of ones, pad 1: corners 4.5, edges 6.5, centre 9.5", () => {
    const x = buffer(9), w = buffer(9), b = buffer(1), out = buffer(9);
    for (let i = 0; i < 9; i++) { store<real>(x + (<usize>i << SHIFT), 1.0); store<real>(w + (<usize>i << SHIFT), 1.0); }
    store<real>(b, 0.5);
    depthwise_forward(out, x, w, b, 1, 3, 3, 3, 3, 1, 1, 1, 1, 3, 3, 0, 1, heap.alloc(<usize>depthwise_work_bytes(3, 3, 3, 3, 1, 1, 1, 1, 3, 3)));
    const want: real[] = [4.5, 6.5, 4.5, 6.5, 9.5, 6.5, 4.5, 6.5, 4.5];
    for (let i = 0; i < 9; i++) expect<real>(realAt(out, i)).toBe(want[i]);
  });
});
