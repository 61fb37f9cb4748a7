// The `overhead` section (issue 22): where the time of a batch-1 inference goes, measured.
//   A. One Linear layer, x (1, 784) · W (784, 256) + b, at every level of the stack: an empty
//      wasm call, the 4-row kernel gemm_nn (which packs W on every call and computes four rows
//      for one), packing W alone, the 4-row kernel on W packed once (gemm_nn_rows_packed), the
//      GEMV kernels on W in place (gemv_nn_range) and on W packed once (gemv_packed_range), the
//      host's gemm() (kernel choice, split plan) on each, and tl.Linear.forward (validation,
//      allocation of the output, the packing lookup, dispatch) with its dispose or tidy.
//   A2. The same calls on a 1x8·8x8 layer, whose kernel takes well under a microsecond: the host's
//      own cost per call, measurable on a busy machine where a 800 KB W's cache misses are not.
//   B. The FC net 784-256-128-10 at batch 1: model.loss(X) (GEMV with bias and ReLU fused, on the
//      weights packed once), the infer section's step (tl.tensor in, toArray out), and the same
//      three layers as raw kernels: the 4-row kernel with separate ReLUs (the path before issue
//      22), on W packed once, and the GEMV kernels with the epilogue fused (W in place, W packed).
//   C. The conv net 32-64-128 (BN, pools) at batch 1 and 64: each layer call through the public
//      API beside model.loss(X), to see which layers the time goes to.
// All entries of a group alternate in one runInterleaved; figures are medians in µs by the run's
// clock, and each difference is the median of the per-round differences (with quartiles).
// The library is bundled from src/ (bench/threads-entry.ts: the public API plus kernels() and
// gemm()), so the raw kernels and the layer calls share one wasm instance; 1 thread.
import { quantile, randomArray, runInterleaved } from "./harness.mjs";
import { timeStats } from "./report.mjs";
import { loadLibrary } from "./threads.mjs";

const us = (s) => s * 1e6;

/** Per-round a - b in µs (median, q1, q3), from two results sampled in the same rounds. */
export function pairedDifference(a, b) {
  if (!a || !b || a.unavailable || b.unavailable) return null;
  const ta = timeStats(a) === a.cpuStats ? a.cpuTimes : a.times;
  const tb = timeStats(b) === b.cpuStats ? b.cpuTimes : b.times;
  const n = Math.min(ta.length, tb.length);
  const d = Array.from({ length: n }, (_, i) => us(ta[i] - tb[i]));
  return { median: quantile(d, 0.5), q1: quantile(d, 0.25), q3: quantile(d, 0.75) };
}

/** Kernels looked up by name: a missing one (renamed by a refactor) makes its entry unavailable. */
function kernelOrNull(K, name) {
  return typeof K[name] === "function" ? K[name] : null;
}

function entry(name, step, unavailable) {
  return step ? { name, runner: { step } } : { name, runner: null, unavailable: unavailable ?? "not available" };
}

const sameBits = (a, b) =>
  a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((v, i) => v === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);

/** Group A: one Linear layer 1x784 -> 256 at each level. */
async function linearGroup(tl, profile) {
  const K = tl.kernels();
  const [m, D, M] = [1, 784, 256];
  const x = tl.keep(tl.tensor(randomArray(m * D, 1), [m, D])); // (1, 784)
  const w = tl.keep(tl.randn([D, M], { seed: 2, std: Math.sqrt(2 / D) })); // (784, 256)
  const b = tl.keep(tl.randn([M], { seed: 3, std: 0.1 })); // (256)
  const x4 = tl.keep(tl.tensor(randomArray(4 * D, 4), [4, D])); // (4, 784)
  const out = tl.keep(tl.zeros([4, M]));
  const work = K.alloc(K.gemm_work_bytes(4, M, D));
  const packed = K.alloc(K.gemm_packed_b_bytes(M, D));
  const blocks = K.gemm_pack_b_blocks(M, D);
  K.gemm_pack_b(packed, w.ptr, M, D, 0, 0, blocks);
  const gemvInPlace = kernelOrNull(K, "gemv_nn_range");
  const gemvPacked = kernelOrNull(K, "gemv_packed_range");
  // Every path's row against the 4-row kernel's (the GEMV kernels must give its bits).
  K.gemm_nn(out.ptr, x.ptr, w.ptr, m, M, D, b.ptr, 0, work);
  const want = out.toArray().subarray(0, M);
  const same = (run) => {
    if (!run) return "";
    out.set(new Float32Array(4 * M));
    run();
    return sameBits(out.toArray().subarray(0, M), want) ? ", same bits" : ", BITS DIFFER";
  };
  const inPlace = gemvInPlace && (() => gemvInPlace(out.ptr, x.ptr, w.ptr, m, M, D, b.ptr, 0, 0, 0, M));
  const onPacked = gemvPacked && (() => gemvPacked(out.ptr, x.ptr, packed, m, M, D, b.ptr, 0, 0, 0, M));
  const layer = () => tl.Linear.forward(x, w, b)[0].dispose();
  layer();
  layer(); // the second call of w's version packs it: the timed calls read the packing
  const entries = [
    entry("wasm call (empty fill)", () => K.fill(out.ptr, 0, 0)),
    entry("gemm_nn raw, m=1 (4-row kernel, packs W)", () => K.gemm_nn(out.ptr, x.ptr, w.ptr, m, M, D, b.ptr, 0, work)),
    entry("gemm_nn raw, m=4 (packs W)", () => K.gemm_nn(out.ptr, x4.ptr, w.ptr, 4, M, D, b.ptr, 0, work)),
    entry("gemm_pack_b alone (W 784x256)", () => K.gemm_pack_b(packed, w.ptr, M, D, 0, 0, blocks)),
    entry("gemm_nn_rows_packed, m=1 (4-row kernel, W packed once)", () => K.gemm_nn_rows_packed(out.ptr, x.ptr, packed, m, M, D, b.ptr, 0, work, 0, m, 0)),
    entry(`gemv_nn_range, m=1 (W in place${same(inPlace)})`, inPlace),
    entry(`gemv_packed_range, m=1 (W packed once${same(onPacked)})`, onPacked),
    entry("host gemm(), W in place (kernel choice, plan)", () => tl.gemm("nn", out.ptr, x.ptr, w.ptr, m, M, D, { bias: b.ptr, dtype: "float32" })),
    entry("host gemm(), W packed once", () => tl.gemm("nn", out.ptr, x.ptr, w.ptr, m, M, D, { bias: b.ptr, dtype: "float32", packedB: packed })),
    entry("tl.Linear.forward + out.dispose() (W's packing)", layer),
    entry("tl.tidy(() => tl.Linear.forward)", () => tl.tidy(() => void tl.Linear.forward(x, w, b))),
  ];
  const res = await runInterleaved(entries, profile);
  for (const t of [x, w, b, x4, out]) t.dispose();
  for (const p of [work, packed]) K.free(p);
  const get = (i) => res.get(entries[i].name);
  return {
    title: "A. one Linear layer, x (1, 784) · W (784, 256) + b",
    rows: entries.map((e) => ({ name: e.name, result: res.get(e.name) })),
    derived: [
      ["host overhead per layer call: Linear.forward + dispose - gemv_packed_range", pairedDifference(get(9), get(6))],
      ["  of which the host gemm(): gemm() on packed W - gemv_packed_range", pairedDifference(get(8), get(6))],
      ["  of which validation, allocation, packing lookup, free: Linear.forward + dispose - gemm()", pairedDifference(get(9), get(8))],
      ["the 4-row micro-panel: raw m=4 - raw m=1 (the same work when one row of four is useful)", pairedDifference(get(2), get(1))],
      ["packing W per call: 4-row kernel raw - on W packed once", pairedDifference(get(1), get(4))],
      ["GEMV, W in place: 4-row kernel raw - gemv_nn_range", pairedDifference(get(1), get(5))],
      ["GEMV, W packed once: 4-row kernel raw - gemv_packed_range", pairedDifference(get(1), get(6))],
    ],
  };
}

/**
 * Group A2: the same calls on a tiny layer, x (1, 8) · W (8, 8) + b, where the kernel takes well
 * under a microsecond: the differences are the host's own cost, not swamped by the cache misses
 * of a 800 KB W on a busy machine.
 */
async function tinyGroup(tl, profile) {
  const K = tl.kernels();
  const x = tl.keep(tl.tensor(randomArray(8, 1), [1, 8]));
  const w = tl.keep(tl.randn([8, 8], { seed: 2, std: 0.3 }));
  const b = tl.keep(tl.zeros([8]));
  const out = tl.keep(tl.zeros([1, 8]));
  const work = K.alloc(K.gemm_work_bytes(4, 8, 8));
  const entries = [
    entry("wasm call (empty fill)", () => K.fill(out.ptr, 0, 0)),
    entry("gemv_nn_range raw 1x8x8", () => K.gemv_nn_range(out.ptr, x.ptr, w.ptr, 1, 8, 8, b.ptr, 0, 0, 0, 8)),
    entry("host gemm() 1x8x8", () => tl.gemm("nn", out.ptr, x.ptr, w.ptr, 1, 8, 8, { bias: b.ptr, dtype: "float32" })),
    entry("tl.Linear.forward + out.dispose()", () => tl.Linear.forward(x, w, b)[0].dispose()),
    entry("tl.tidy(() => tl.Linear.forward)", () => tl.tidy(() => void tl.Linear.forward(x, w, b))),
    entry("relu raw (8 values)", () => K.relu(out.ptr, out.ptr, 8)),
    entry("tl.ReLU.forward + out.dispose()", () => tl.ReLU.forward(out)[0].dispose()),
    entry("tl.tensor(8 values) + dispose()", () => tl.tensor(randomValues8, [1, 8]).dispose()),
    entry("toArray() of (1, 8)", () => out.toArray()),
  ];
  const res = await runInterleaved(entries, profile);
  for (const t of [x, w, b, out]) t.dispose();
  K.free(work);
  const get = (i) => res.get(entries[i].name);
  return {
    title: "A2. the same calls on a tiny layer, x (1, 8) · W (8, 8) + b: the host's own cost",
    rows: entries.map((e) => ({ name: e.name, result: res.get(e.name) })),
    derived: [
      ["host overhead per Linear call: Linear.forward + dispose - raw kernel", pairedDifference(get(3), get(1))],
      ["  of which the host gemm() (kernel choice, plan): gemm() - raw kernel", pairedDifference(get(2), get(1))],
      ["  of which validation, allocation, free: Linear.forward + dispose - gemm()", pairedDifference(get(3), get(2))],
      ["a tidy instead of dispose: tidy(Linear.forward) - Linear.forward + dispose", pairedDifference(get(4), get(3))],
      ["host overhead per ReLU call: ReLU.forward + dispose - raw kernel", pairedDifference(get(6), get(5))],
    ],
  };
}
const randomValues8 = randomArray(8, 9);

/** Group B: the FC net at batch 1, whole and as kernels. */
async function fcGroup(tl, profile) {
  const K = tl.kernels();
  const dims = [784, 256, 128, 10];
  const model = new tl.FullyConnectedNet({ hiddenDims: [256, 128], inputDim: 784, numClasses: 10, weightScale: "kaiming", seed: 1 });
  const data = randomArray(784, 5);
  const X = tl.keep(tl.tensor(data, [1, 784]));
  const expected = tl.tidy(() => model.loss(X).toArray());
  tl.tidy(() => void model.loss(X)); // the second call packs the weights: the timed calls read them
  const h = dims.map((d) => tl.keep(tl.zeros([1, d])));
  h[0].set(X);
  const work = K.alloc(K.gemm_work_bytes(4, 256, 784));
  const layers = [1, 2, 3].map((l) => ({ D: dims[l - 1], M: dims[l], W: model.params[`W${l}`], b: model.params[`b${l}`], relu: l < 3 }));
  for (const L of layers) {
    L.packed = K.alloc(K.gemm_packed_b_bytes(L.M, L.D));
    K.gemm_pack_b(L.packed, L.W.ptr, L.M, L.D, 0, 0, K.gemm_pack_b_blocks(L.M, L.D));
  }
  const raw = () =>
    layers.forEach((L, i) => {
      K.gemm_nn(h[i + 1].ptr, h[i].ptr, L.W.ptr, 1, L.M, L.D, L.b.ptr, 0, work);
      if (L.relu) K.relu(h[i + 1].ptr, h[i + 1].ptr, L.M);
    });
  const packedRun = () =>
    layers.forEach((L, i) => {
      K.gemm_nn_rows_packed(h[i + 1].ptr, h[i].ptr, L.packed, 1, L.M, L.D, L.b.ptr, 0, work, 0, 1, 0);
      if (L.relu) K.relu(h[i + 1].ptr, h[i + 1].ptr, L.M);
    });
  const gemvRun = () => layers.forEach((L, i) => K.gemv_nn_range(h[i + 1].ptr, h[i].ptr, L.W.ptr, 1, L.M, L.D, L.b.ptr, 0, L.relu ? 1 : 0, 0, L.M));
  const gemvPackedRun = () => layers.forEach((L, i) => K.gemv_packed_range(h[i + 1].ptr, h[i].ptr, L.packed, 1, L.M, L.D, L.b.ptr, 0, L.relu ? 1 : 0, 0, L.M));
  const check = (run) => (h[3].set(new Float32Array(10)), run(), sameBits(h[3].toArray(), expected) ? "same bits as model.loss" : "SCORES DIFFER");
  const notes = { raw: check(raw), packed: check(packedRun), gemv: check(gemvRun), gemvPacked: check(gemvPackedRun) };
  const shape = [1, 784];
  const entries = [
    entry("model.loss(X) in a tidy (X in wasm)", () => tl.tidy(() => void model.loss(X))),
    entry("infer step: tl.tensor(x) -> model.loss -> toArray()", () => tl.tidy(() => model.loss(tl.tensor(data, shape)).toArray())),
    entry(`3 x gemm_nn + 2 x relu, the 4-row kernel (${notes.raw})`, raw),
    entry(`3 x rows_packed + 2 x relu, W packed once (${notes.packed})`, packedRun),
    entry(`3 x gemv_nn_range, bias + ReLU fused, W in place (${notes.gemv})`, gemvRun),
    entry(`3 x gemv_packed_range, bias + ReLU fused, W packed once (${notes.gemvPacked})`, gemvPackedRun),
  ];
  const res = await runInterleaved(entries, profile);
  for (const L of layers) K.free(L.packed);
  K.free(work);
  for (const t of [X, ...h]) t.dispose();
  model.dispose();
  const get = (i) => res.get(entries[i].name);
  return {
    title: "B. FC 784-256-128-10 forward, batch 1",
    rows: entries.map((e) => ({ name: e.name, result: res.get(e.name) })),
    derived: [
      ["host overhead of the model path: model.loss - its kernels (GEMV on packed W)", pairedDifference(get(0), get(5))],
      ["input and output: infer step - model.loss", pairedDifference(get(1), get(0))],
      ["W packed once per parameter version: 4-row raw - 4-row packed", pairedDifference(get(2), get(3))],
      ["GEMV + fused bias/ReLU, W in place: 4-row raw - GEMV", pairedDifference(get(2), get(4))],
      ["GEMV + fused bias/ReLU on W packed once: 4-row raw - GEMV", pairedDifference(get(2), get(5))],
      ["the model path against the old kernels: 4-row raw - model.loss", pairedDifference(get(2), get(0))],
    ],
  };
}

/** Group C: the conv net's layers through the public API, beside model.loss, at one batch size. */
async function convGroup(tl, batch, profile) {
  const model = new tl.DeepConvNet({
    inputDims: [1, 28, 28],
    numFilters: [32, 64, 128],
    maxPools: [0, 1, 2],
    batchnorm: true,
    weightScale: "kaiming",
    seed: 1,
  });
  for (const s of model.bnParams) s.runningVar.set(new Float32Array(s.runningVar.size).fill(1));
  const p = model.params;
  const X = tl.keep(tl.tensor(randomArray(batch * 784, 6), [batch, 1, 28, 28]));
  const owned = [X];
  const keep = (t) => (owned.push(tl.keep(t)), t);
  const entries = [entry(`model.loss(X), batch ${batch}`, () => tl.tidy(() => void model.loss(X)))];
  let h = X;
  for (let i = 1; i <= 3; i++) {
    const hin = h;
    const [a] = tl.Conv.forward(hin, p[`W${i}`], p[`b${i}`], { stride: 1, pad: 1 });
    keep(a);
    const bn = { mode: "test", runningMean: model.bnParams[i - 1].runningMean, runningVar: model.bnParams[i - 1].runningVar };
    const [z] = tl.SpatialBatchNorm.forward(a, p[`gamma${i}`], p[`beta${i}`], bn);
    keep(z);
    const [r] = tl.ReLU.forward(z);
    keep(r);
    const [o] = tl.MaxPool.forward(r, { poolHeight: 2, poolWidth: 2, stride: 2 });
    keep(o);
    const s = a.shape.slice(1).join("x");
    entries.push(
      entry(`conv${i} forward -> ${s}`, () => tl.tidy(() => void tl.Conv.forward(hin, p[`W${i}`], p[`b${i}`], { stride: 1, pad: 1 }))),
      entry(`bn${i} (test)`, () => tl.tidy(() => void tl.SpatialBatchNorm.forward(a, p[`gamma${i}`], p[`beta${i}`], bn))),
      entry(`relu${i}`, () => tl.tidy(() => void tl.ReLU.forward(z))),
      entry(`pool${i} (public API: also writes argmax)`, () => tl.tidy(() => void tl.MaxPool.forward(r, { poolHeight: 2, poolWidth: 2, stride: 2 }))),
    );
    h = o;
  }
  const last = h;
  entries.push(entry("linear 1152 -> 10", () => tl.tidy(() => void tl.Linear.forward(last, p.W4, p.b4))));
  const res = await runInterleaved(entries, profile);
  owned.forEach((t) => t.dispose());
  model.dispose();
  const rows = entries.map((e) => ({ name: e.name, result: res.get(e.name) }));
  const sum = (pred) => rows.filter((r) => pred(r.name) && !r.result.unavailable).reduce((s, r) => s + us(timeStats(r.result).median), 0);
  return {
    title: `C. conv 32-64-128 (BN, pools) forward, batch ${batch}: layer calls through the public API`,
    rows,
    sums: [
      ["sum of the layer calls", sum((n) => !n.startsWith("model"))],
      ["  conv", sum((n) => n.startsWith("conv"))],
      ["  batch norm (test) + ReLU: what a fused conv epilogue would remove", sum((n) => n.startsWith("bn") || n.startsWith("relu"))],
      ["  max-pool", sum((n) => n.startsWith("pool"))],
    ],
  };
}

/** Runs the section; returns its groups (each { title, rows, derived?, sums? }). */
export async function benchOverhead({ profile, quick = false, say = () => {} }) {
  const tl = await loadLibrary();
  await tl.init();
  const groups = [];
  groups.push(await linearGroup(tl, profile));
  groups.push(await tinyGroup(tl, profile));
  say(`  [A done]`);
  groups.push(await fcGroup(tl, profile));
  say(`  [B done]`);
  for (const batch of quick ? [1] : [1, 64]) {
    groups.push(await convGroup(tl, batch, profile));
    say(`  [C batch ${batch} done]`);
  }
  tl.dispose?.();
  return { groups };
}
