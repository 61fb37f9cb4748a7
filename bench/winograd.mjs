// node bench/winograd.mjs [--pass=forward|dw] [--batch=N] [--rounds=15] [--shapes="C,H,F;..."]
//   (after npm run build:wasm)
// A 3x3 stride-1 conv two ways, on the raw kernels of build/tensorlane.wasm, float32, 1 thread,
// padding 1: the direct kernels against Winograd's F(2x2, 3x3).
//   forward (batch 1 by default): the direct tiles (conv_forward_images on weights packed once)
//     against conv3x3_winograd (weights transformed once), both with bias and ReLU;
//   dw (batch 32 by default, one thread's share of a training batch): the weight and bias
//     gradients, the direct backward without dx (conv_backward) against conv3x3_winograd_dw, in
//     the chunks the host would cut (src/ops/conv.ts's convChunkImages, winogradChunkImages).
// The two alternate, one sample each per round; each figure is the median over rounds, the ratio
// the median of per-round ratios (direct / Winograd: above 1, Winograd faster), GFLOPS counted
// as the direct product's 2·F·C·9·H·W per image. The outputs are compared first (largest
// |a-b|/(1+|b|)). The default shapes are the ones winogradPays and winogradWeightGradientPays
// (src/ops/conv.ts) were set from.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { median, randomArray } from "./harness.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const PASS = opt("pass", "forward");
if (PASS !== "forward" && PASS !== "dw") throw new Error(`--pass: expected forward or dw, got ${PASS}`);
const N = Number(opt("batch", PASS === "dw" ? "32" : "1"));
const ROUNDS = Number(opt("rounds", "15"));
const SHAPES = opt("shapes", "1,28,32;3,32,16;8,28,8;16,28,16;16,14,16;32,14,32;32,14,64;64,7,64;64,7,128;32,4,32;64,4,64;128,4,128")
  .split(";")
  .map((s) => s.split(",").map(Number));

const wasm = readFileSync(fileURLToPath(new URL("../build/tensorlane.wasm", import.meta.url)));
const { instance } = await WebAssembly.instantiate(wasm, { env: { abort: () => {} } });
const k = instance.exports;
const alloc = (bytes) => (Number(k.alloc(bytes + 64)) + 15) & ~15;
/** Seeded values in [-1, 1) at p (harness.mjs's randomArray). */
const fill = (p, n, seed) => new Float32Array(k.memory.buffer, p, n).set(randomArray(n, seed));

/** Microseconds per call: ~2 ms of calls after a 50 ms warm-up (V8 tiers the kernel up first). */
function time(fn) {
  for (const start = performance.now(); performance.now() - start < 50; ) fn();
  const t0 = performance.now();
  fn();
  const reps = Math.max(1, Math.round(2 / Math.max(performance.now() - t0, 1e-3)));
  const s = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return ((performance.now() - s) / reps) * 1e3;
}

/** Images per chunk of the direct conv backward (src/ops/conv.ts's convChunkImages). */
const chunkImages = (F, K) => Math.ceil(N / Math.max(1, Math.min(32, Math.floor(2 ** 22 / (F * K + F)))));
/** Images per chunk of the Winograd dw (src/ops/conv.ts's winogradChunkImages), pad 1. */
const winogradChunk = (F, K, H) => Math.max(chunkImages(F, K), Math.min(N, Math.ceil(64 / Math.ceil(H / 2) ** 2)));

/** The forward both ways: [direct, winograd, their outputs and length]. */
function forward(C, H, F) {
  const W = H,
    pad = 1,
    K = C * 9,
    P = H * W;
  const x = alloc(N * C * P * 4),
    w = alloc(F * K * 4),
    b = alloc(F * 4);
  const out1 = alloc(N * F * P * 4),
    out2 = alloc(N * F * P * 4);
  fill(x, N * C * P, 1);
  fill(w, F * K, 2);
  fill(b, F, 3);
  const packed = alloc(Number(k.conv_forward_packed_reals(F, K)) * 4);
  k.conv_forward_pack(packed, w, F, K);
  const work1 = alloc(Number(k.conv_forward_images_work_bytes(C, H, W, 3, 3, 1, pad, H, W)));
  const U = alloc(Number(k.conv3x3_winograd_packed_reals(F, C)) * 4);
  k.conv3x3_winograd_pack(U, w, F, C);
  const work2 = alloc(Number(k.conv3x3_winograd_work_bytes(C, H, W, F, pad)));
  const direct = () => k.conv_forward_images(out1, x, packed, b, N, C, H, W, F, 3, 3, 1, pad, H, W, 1, work1, 0, N);
  const winograd = () => k.conv3x3_winograd(out2, x, U, b, 0, N, C, H, W, F, pad, 1, work2, 0, N, 0, F);
  return [direct, winograd, out1, out2, N * F * P];
}

/** dw and db both ways, as forward. */
function weightGradient(C, H, F) {
  const W = H,
    pad = 1,
    K = C * 9,
    P = H * W,
    G = chunkImages(F, K),
    GW = winogradChunk(F, K, H);
  const x = alloc(N * C * P * 4),
    dout = alloc(N * F * P * 4);
  fill(x, N * C * P, 1);
  fill(dout, N * F * P, 2);
  const dw1 = alloc((F * K + F) * 4),
    dw2 = alloc((F * K + F) * 4);
  const slice = (F * K + F) * 4;
  const work1 = alloc(Number(k.conv_backward_work_bytes(F, C, H, W, 3, 3, 1, pad, H, W)) + slice);
  const work2 = alloc(Number(k.conv3x3_winograd_dw_work_bytes(C, H, W, F, pad, GW)) + slice);
  const direct = () => k.conv_backward(0, dw1, dw1 + F * K * 4, dout, x, 0, N, C, H, W, F, 3, 3, 1, pad, H, W, G, work1);
  const winograd = () => k.conv3x3_winograd_dw(dw2, dw2 + F * K * 4, dout, x, N, C, H, W, F, pad, GW, work2);
  return [direct, winograd, dw1, dw2, F * K + F];
}

console.log(`Winograd F(2x2, 3x3) against the direct kernels, ${PASS}: node ${process.version}, float32, 1 thread, batch ${N}, ${ROUNDS} rounds`);
console.log("C    map    F     direct us  GFLOPS  winograd us  direct / winograd  max rel err");
for (const [C, H, F] of SHAPES) {
  const [direct, winograd, out1, out2, n] = PASS === "dw" ? weightGradient(C, H, F) : forward(C, H, F);
  const W = H,
    K = C * 9,
    P = H * W;
  direct();
  winograd();
  const a = new Float32Array(k.memory.buffer, out1, n),
    c = new Float32Array(k.memory.buffer, out2, n);
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - c[i]) / (1 + Math.abs(a[i])));
  const td = [],
    tw = [];
  for (let r = 0; r < ROUNDS; r++) {
    // the first contender alternates between rounds
    if (r % 2) tw.push(time(winograd)), td.push(time(direct));
    else td.push(time(direct)), tw.push(time(winograd));
  }
  const ratio = median(td.map((t, i) => t / tw[i]));
  const gflops = (2 * N * F * K * P) / median(td) / 1e3;
  console.log(
    `${String(C).padEnd(4)} ${`${H}x${W}`.padEnd(6)} ${String(F).padEnd(5)} ${median(td).toFixed(1).padStart(9)}  ${gflops.toFixed(1).padStart(6)}  ${median(tw).toFixed(1).padStart(11)}  ${`${ratio.toFixed(2)}x`.padStart(17)}  ${err.toExponential(1)}`,
  );
}
