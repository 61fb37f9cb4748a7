// The `layers` section (issue 22): how close each layer kind runs to what one core can do.
//   compute-bound (conv 3x3 forward / backward, GEMM): GFLOPS against the SIMD128 ceiling (the
//     register-only probe, bench/gemm-wasm/ceiling.ts);
//   memory-bound (batch norm, max-pool, softmax loss, Adam): GB/s against the triad probe
//     (bench/gemm-wasm/bandwidth.ts) run on arrays of the same total size as the kernel's
//     footprint, so both are served by the same cache level.
// Each case alternates the kernel with its yardstick in one runInterleaved (one sample of each per
// round): "share" is the median over rounds of (kernel rate / yardstick rate) in the same round,
// with its quartiles, and "of ceiling" the kernel's median over the run's ceiling (the best
// sample of the ceiling probe at the start of the run, the house figure).
//
// What is timed (the shapes of the conv net 32-64-128, the small ResNet's stride-2 and 1x1 convs,
// a 3-channel first layer and the FC net 784-256-128-10, at N = 64):
//   conv, batch norm, max-pool, softmax loss, Adam: the public API of dist/tensorlane.js
//     (tl.Conv.forward / backward, tl.SpatialBatchNorm, tl.MaxPool, tl.softmaxLoss, tl.adam),
//     each call in a tl.tidy, so a figure includes validation, allocation and freeing of the
//     outputs (microseconds; the calls take 0.1-10 ms at these shapes).
//   GEMM: the raw gemm_{nn,tn,nt} kernels of dist/tensorlane.wasm on pointers (no host code),
//     as in the GEMM section.
// Inputs are seeded normal values (the pools' pass through ReLU first, as in the net).
// FLOPs: conv forward 2·N·F·P·K (P = Ho·Wo, K = C·k·k); conv backward twice that (dX and dW; db
// is not counted), as tl.Conv.backward computes all three. 3x3 stride-1 convs with enough
// channels run their forward and dX by Winograd's F(2x2, 3x3) (src/ops/conv-algorithm.ts), with
// 2.25x fewer multiplies: their figures count the direct convolution's FLOPs all the same (an
// effective rate, what the direct tiles would need to match them). Bytes: every tensor read once
// and every output written once (the least any implementation moves), listed per case.
import { buildBandwidthProbe, ceilingRunner } from "./ceiling-probe.mjs";
import { quantile, randomArray, randomLabels, runInterleaved } from "./harness.mjs";
import { gemmKernels, gemmRunner } from "./peers/tensorlane.mjs";
import { timeStats } from "./report.mjs";

const N = 64;
/** The conv net's three conv layers at the training batch: input (C, H, W) and filters F (3x3, pad 1). */
export const CONV_SHAPES = [
  { C: 1, H: 28, W: 28, F: 32 },
  { C: 32, H: 14, W: 14, F: 64 },
  { C: 64, H: 7, W: 7, F: 128 },
];
/**
 * The other layers of issue 22's training shapes: a 3-channel first layer, the small ResNet's
 * stride-2 3x3 convs and strided 1x1 shortcuts (tl.models.resnet, widths 32-64-128,
 * downsampleFirst) and its 4x4 maps, and the first stage of the 16-32-64-128 ResNet (issue 20's
 * recipe). k: window (default 3), s: stride (1), pad (1 for 3x3, 0 for 1x1).
 */
export const MORE_CONV_SHAPES = [
  { C: 3, H: 32, W: 32, F: 16 },
  { C: 32, H: 28, W: 28, F: 32, s: 2 },
  { C: 32, H: 28, W: 28, F: 32, k: 1, s: 2 },
  { C: 64, H: 7, W: 7, F: 128, s: 2 },
  { C: 128, H: 4, W: 4, F: 128 },
  { C: 64, H: 7, W: 7, F: 128, k: 1, s: 2 },
  { C: 16, H: 28, W: 28, F: 16 },
];

/** Window, stride, padding and output size of a conv shape. */
export function convGeometry(s) {
  const k = s.k ?? 3,
    stride = s.s ?? 1,
    pad = s.pad ?? (k === 3 ? 1 : 0);
  const Ho = Math.floor((s.H + 2 * pad - k) / stride) + 1,
    Wo = Math.floor((s.W + 2 * pad - k) / stride) + 1;
  return { k, stride, pad, Ho, Wo };
}
/** The FC net's first two layers at N = 64: D inputs -> M outputs. */
const FC_LAYERS = [
  { D: 784, M: 256 },
  { D: 256, M: 128 },
];
/** Parameter counts of the two nets (Adam runs over all of a model's parameters in one call). */
const PARAMS = {
  "FC 784-256-128-10": 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10,
  "conv 32-64-128 BN": 32 * 9 + 32 + 64 * 32 * 9 + 64 + 128 * 64 * 9 + 128 + 2 * (32 + 64 + 128) + 128 * 9 * 10 + 10,
};

const shapeText = (s) => s.join("x");

/** The case list (without runners): what the table shows even when a case cannot run. */
export function layerCases({ quick = false } = {}) {
  const cases = [];
  const convs = quick ? CONV_SHAPES.slice(1, 2) : CONV_SHAPES;
  for (const s of quick ? convs : [...convs, ...MORE_CONV_SHAPES]) {
    const { k, stride, Ho, Wo } = convGeometry(s);
    const flops = 2 * N * s.F * Ho * Wo * s.C * k * k;
    const x = [N, s.C, s.H, s.W];
    const name = `conv${k}x${k}${stride > 1 ? ` s${stride}` : ""}`;
    cases.push({ kind: "conv", dir: "forward", label: `${name} forward ${shapeText(x)} F=${s.F}`, shape: s, bound: "compute", work: flops / 1e9 });
    cases.push({ kind: "conv", dir: "backward", label: `${name} backward ${shapeText(x)} F=${s.F}`, shape: s, bound: "compute", work: (2 * flops) / 1e9 });
  }
  for (const { D, M } of quick ? FC_LAYERS.slice(0, 1) : FC_LAYERS) {
    cases.push({ kind: "gemm", variant: "nn", m: N, n: M, k: D, label: `GEMM nn X·W ${N}x${D}·${D}x${M}` });
    cases.push({ kind: "gemm", variant: "tn", m: D, n: M, k: N, label: `GEMM tn Xᵀ·dY (${N}x${D})ᵀ·${N}x${M}` });
    cases.push({ kind: "gemm", variant: "nt", m: N, n: D, k: M, label: `GEMM nt dY·Wᵀ ${N}x${M}·(${D}x${M})ᵀ` });
  }
  for (const c of cases) if (c.kind === "gemm") Object.assign(c, { bound: "compute", work: (2 * c.m * c.n * c.k) / 1e9 });
  for (const s of convs) {
    const x = [N, s.F, s.H, s.W]; // the conv's output, which batch norm normalizes
    const n = x.reduce((a, b) => a * b, 1);
    cases.push({
      kind: "bn",
      mode: "train",
      dir: "forward",
      label: `spatial BN forward (train) ${shapeText(x)}`,
      x,
      bound: "memory",
      bytes: 8 * n,
      footprint: 8 * n,
    });
    cases.push({
      kind: "bn",
      mode: "train",
      dir: "backward",
      label: `spatial BN backward ${shapeText(x)}`,
      x,
      bound: "memory",
      bytes: 12 * n,
      footprint: 12 * n,
    });
    cases.push({
      kind: "bn",
      mode: "test",
      dir: "forward",
      label: `spatial BN forward (test) ${shapeText(x)}`,
      x,
      bound: "memory",
      bytes: 8 * n,
      footprint: 8 * n,
    });
  }
  for (const s of convs) {
    const x = [N, s.F, s.H, s.W];
    const n = x.reduce((a, b) => a * b, 1);
    const no = N * s.F * Math.floor(s.H / 2) * Math.floor(s.W / 2);
    // forward reads x and writes out and argmax; backward reads dout and argmax and writes dx.
    cases.push({
      kind: "pool",
      dir: "forward",
      label: `max-pool 2x2 forward ${shapeText(x)}`,
      x,
      bound: "memory",
      bytes: 4 * (n + 2 * no),
      footprint: 4 * (n + 2 * no),
    });
    cases.push({
      kind: "pool",
      dir: "backward",
      label: `max-pool 2x2 backward ${shapeText(x)}`,
      x,
      bound: "memory",
      bytes: 4 * (n + 2 * no),
      footprint: 4 * (n + 2 * no),
    });
  }
  if (!quick) {
    // Overlapping windows: 3x3 stride 2 (a ResNet stem's pool, without its padding) and stride 1.
    for (const [x, window, stride] of [
      [[N, 32, 28, 28], 3, 2],
      [[N, 64, 14, 14], 3, 1],
    ]) {
      const n = x.reduce((a, b) => a * b, 1);
      const no = N * x[1] * (Math.floor((x[2] - window) / stride) + 1) * (Math.floor((x[3] - window) / stride) + 1);
      const pool = { window, stride };
      cases.push({
        kind: "pool",
        dir: "forward",
        pool,
        label: `max-pool 3x3 s${stride} forward ${shapeText(x)}`,
        x,
        bound: "memory",
        bytes: 4 * (n + 2 * no),
        footprint: 4 * (n + 2 * no),
      });
      cases.push({
        kind: "pool",
        dir: "backward",
        pool,
        label: `max-pool 3x3 s${stride} backward ${shapeText(x)}`,
        x,
        bound: "memory",
        bytes: 4 * (n + 2 * no),
        footprint: 4 * (n + 2 * no),
      });
    }
  }
  cases.push({
    kind: "softmax",
    label: `softmax loss ${N}x10 (scores in, dscores out)`,
    rows: N,
    classes: 10,
    bound: "memory",
    bytes: 8 * N * 10 + 4 * N,
    footprint: 8 * N * 10 + 4 * N,
  });
  for (const [model, n] of Object.entries(PARAMS)) {
    // w, dw, m, v read; w, m, v written.
    cases.push({ kind: "adam", label: `Adam over ${model} (${n.toLocaleString("en-US")} params)`, n, bound: "memory", bytes: 28 * n, footprint: 16 * n });
  }
  for (const c of cases) if (c.bound === "memory") c.work = c.bytes / 1e9;
  return cases;
}

/** A harness runner for one case through the public API (or the raw GEMM kernel). */
function layerRunner(tl, kernels, c) {
  const owned = [];
  const keep = (t) => (owned.push(tl.keep(t)), t);
  const done = (step) => ({ step, dispose: () => owned.forEach((t) => t.dispose()) });
  if (c.kind === "gemm") return gemmRunner(kernels, c);
  if (c.kind === "conv") {
    const { C, H, W, F } = c.shape;
    const { k, stride, pad } = convGeometry(c.shape);
    const x = keep(tl.randn([N, C, H, W], { seed: 1 })); // (N, C, H, W)
    const w = keep(tl.randn([F, C, k, k], { seed: 2, std: Math.sqrt(2 / (C * k * k)) })); // (F, C, k, k)
    const b = keep(tl.zeros([F])); // (F)
    const param = { stride, pad };
    if (c.dir === "forward") return done(() => tl.tidy(() => void tl.Conv.forward(x, w, b, param)));
    const [out, cache] = tl.Conv.forward(x, w, b, param);
    keep(out);
    const dout = keep(tl.randn(out.shape, { seed: 3 })); // (N, F, H, W)
    return done(() => tl.tidy(() => void tl.Conv.backward(dout, cache)));
  }
  if (c.kind === "bn") {
    const C = c.x[1];
    const x = keep(tl.randn(c.x, { seed: 4 }));
    const gamma = keep(tl.ones([C]));
    const beta = keep(tl.zeros([C]));
    const bnParam = { mode: c.mode, runningMean: keep(tl.zeros([C])), runningVar: keep(tl.ones([C])) };
    if (c.dir === "forward") return done(() => tl.tidy(() => void tl.SpatialBatchNorm.forward(x, gamma, beta, bnParam)));
    const [out, cache] = tl.SpatialBatchNorm.forward(x, gamma, beta, bnParam);
    [out, cache.mean, cache.invstd].forEach(keep);
    const dout = keep(tl.randn(c.x, { seed: 5 }));
    return done(() => tl.tidy(() => void tl.SpatialBatchNorm.backward(dout, cache)));
  }
  if (c.kind === "pool") {
    // The net pools after batch norm and ReLU: half the inputs are 0, the rest positive.
    const pre = tl.randn(c.x, { seed: 6 });
    const [x] = tl.ReLU.forward(pre);
    pre.dispose();
    keep(x);
    const param = c.pool ? { poolHeight: c.pool.window, poolWidth: c.pool.window, stride: c.pool.stride } : { poolHeight: 2, poolWidth: 2, stride: 2 };
    if (c.dir === "forward") return done(() => tl.tidy(() => void tl.MaxPool.forward(x, param)));
    const [out, cache] = tl.MaxPool.forward(x, param);
    [out, cache.argmax].forEach(keep);
    const dout = keep(tl.randn(out.shape, { seed: 7 }));
    return done(() => tl.tidy(() => void tl.MaxPool.backward(dout, cache)));
  }
  if (c.kind === "softmax") {
    const scores = keep(tl.tensor(randomArray(c.rows * c.classes, 8, 3), [c.rows, c.classes]));
    const y = randomLabels(c.rows, c.classes, 9);
    return done(() => tl.tidy(() => void tl.softmaxLoss(scores, y)));
  }
  if (c.kind === "adam") {
    const w = keep(tl.randn([c.n], { seed: 10, std: 0.05 }));
    const dw = keep(tl.randn([c.n], { seed: 11, std: 0.01 }));
    let config = { learningRate: 1e-3 };
    [, config] = tl.adam(w, dw, config); // creates m and v
    keep(config.m);
    keep(config.v);
    return done(() => void ([, config] = tl.adam(w, dw, config)));
  }
  throw new Error(`unknown layer case ${c.kind}`);
}

/** Per-round (kernel rate / yardstick rate): median and quartiles. */
function pairedShare(kernel, probe) {
  const kt = timeStats(kernel) === kernel.cpuStats ? kernel.cpuTimes : kernel.times;
  const pt = timeStats(probe) === probe.cpuStats ? probe.cpuTimes : probe.times;
  const n = Math.min(kt.length, pt.length);
  const shares = Array.from({ length: n }, (_, i) => kernel.work / kt[i] / (probe.work / pt[i]));
  return { median: quantile(shares, 0.5), q1: quantile(shares, 0.25), q3: quantile(shares, 0.75) };
}

/** The triad's GB/s at a few footprints: L1, L2, L3 and main memory on this host. */
async function bandwidthCurve(bandwidth, profile) {
  const sizes = [48 << 10, 1 << 20, 8 << 20, 96 << 20];
  const entries = sizes.map((b) => ({ name: String(b), runner: bandwidth.runner(b) }));
  const res = await runInterleaved(entries, profile);
  return sizes.map((b) => {
    const r = res.get(String(b));
    const t = timeStats(r);
    return { footprint: b, gbps: r.work / t.median, best: r.work / t.min, spread: t.spread };
  });
}

/**
 * Runs the section. ceiling: measureCeiling's result (the run's). Returns { curve, cases } with
 * each case's kernel and yardstick results, rate, share.
 */
export async function benchLayers({ quick = false, profile, ceiling, say = () => {} }) {
  const tl = await import(new URL("../dist/tensorlane.js", import.meta.url).href);
  await tl.init();
  const kernels = await gemmKernels();
  const bandwidth = await buildBandwidthProbe();
  const curve = await bandwidthCurve(bandwidth, profile);
  const cases = layerCases({ quick });
  for (const c of cases) {
    let runner = null;
    let unavailable;
    try {
      runner = layerRunner(tl, kernels, c);
      runner.work = c.work;
    } catch (error) {
      unavailable = error.name === "Unavailable" ? error.message : `error: ${error.message.split("\n")[0]}`;
    }
    const probe = c.bound === "compute" ? ceilingRunner(ceiling) : bandwidth.runner(c.footprint);
    const res = await runInterleaved(
      [
        { name: "kernel", runner, unavailable },
        { name: "probe", runner: probe },
      ],
      profile,
    );
    const k = res.get("kernel");
    const p = res.get("probe");
    c.kernel = k;
    c.probe = p;
    if (!k.unavailable) {
      c.rate = c.work / timeStats(k).median; // GFLOPS or GB/s
      c.probeRate = p.work / timeStats(p).median;
      c.share = pairedShare(k, p);
      c.ofCeiling = c.bound === "compute" ? c.rate / ceiling.gflops : null;
      c.ms = timeStats(k).median * 1e3;
    }
    say(
      `  ${c.label}: ${c.rate ? `${c.rate.toFixed(2)} ${c.bound === "compute" ? "GFLOPS" : "GB/s"}, ${(100 * c.share.median).toFixed(0)}% of the ${c.bound === "compute" ? "ceiling probe" : "triad"}` : k.unavailable}`,
    );
  }
  return { curve, cases };
}
