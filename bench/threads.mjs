// npm run bench:threads [-- --quick]   (also a section of `npm run bench`: --only=threads)
// 1 thread against 2 threads in ONE process, alternating (each sample re-inits the pool with the
// other count, untimed), medians by wall-clock time: threads are about wall time, and the CPU time
// of a process with two busy threads is twice its wall time. Also measures the dispatch round
// trip (runTasks of an empty task on each thread) that bench/README.md's scaling model uses.
// The library is bundled from src/ (bench/threads-entry.ts) so the GEMM case goes through the host
// GEMM and its split plan, whatever runTasks users exist at the time.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { CONV, FC, ADAM } from "./cases.mjs";
import { median, randomArray, randomLabels } from "./harness.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/** Bundles bench/threads-entry.ts (with the worker script beside it) and imports it. */
export async function loadLibrary() {
  const dir = here("./.build/");
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [here("./threads-entry.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    outfile: `${dir}threads-lib.js`,
    logLevel: "error",
  });
  copyFileSync(here("../src/core/threads/tensorlane-worker.js"), `${dir}tensorlane-worker.js`);
  return import(new URL("./.build/threads-lib.js", import.meta.url).href);
}

/** Wall seconds per step: `steps` steps after `warm` untimed ones. */
function timeSteps(step, steps) {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  return (performance.now() - t0) / 1000 / steps;
}

/**
 * Alternates the thread counts: each round, every count gets one sample (pool restarted first,
 * then warm-up steps), the starting count rotating. Returns { [threads]: median seconds/step }.
 */
async function compare(tl, counts, makeStep, { rounds, sampleSeconds }) {
  const samples = Object.fromEntries(counts.map((n) => [n, []]));
  let steps = 0;
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < counts.length; j++) {
      const n = counts[(r + j) % counts.length];
      await tl.init({ threads: n });
      await new Promise((r) => setTimeout(r, 100)); // let the old workers' teardown and the new ones' start settle
      const step = makeStep();
      for (let w = 0; w < 3; w++) step();
      if (steps === 0) steps = Math.max(1, Math.round(sampleSeconds / timeSteps(step, 1)));
      samples[n].push(timeSteps(step, steps));
    }
  }
  return Object.fromEntries(counts.map((n) => [n, median(samples[n])]));
}

/**
 * The dispatch round trip: runTasks with one empty task per thread, minus a direct call.
 * "hot": calls back to back (the workers are still spinning); "cold": each call after 2 ms of
 * idling, when the workers sleep in Atomics.wait and must be woken.
 */
export function roundTrip(tl, threads, calls) {
  const k = tl.kernels();
  const p = tl.zeros([16]);
  const tasks = Array.from({ length: threads }, () => [p.ptr, 0, 0]);
  const hot = [];
  for (let r = 0; r < 9; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) tl.runTasks("f32_fill", tasks);
    const t1 = performance.now();
    for (let i = 0; i < calls; i++) k.f32_fill(p.ptr, 0, 0);
    const t2 = performance.now();
    hot.push(((t1 - t0 - (t2 - t1)) * 1000) / calls);
  }
  const idle = new Int32Array(new SharedArrayBuffer(4));
  const cold = [];
  for (let r = 0; r < 60; r++) {
    Atomics.wait(idle, 0, 0, 2);
    const t0 = performance.now();
    tl.runTasks("f32_fill", tasks);
    cold.push((performance.now() - t0) * 1000);
  }
  p.dispose();
  return { hot: median(hot), hotBest: Math.min(...hot), cold: median(cold), coldBest: Math.min(...cold) };
}

function gemmStep(tl, variant, m, n, k) {
  const a = tl.tensor(randomArray(m * k, 11));
  const b = tl.tensor(randomArray(k * n, 12));
  const c = tl.zeros([m * n]);
  return { step: () => tl.gemm(variant, c.ptr, a.ptr, b.ptr, m, n, k, { dtype: "float32" }), dispose: () => [a, b, c].forEach((t) => t.dispose()) };
}

function fcModel(tl, batch) {
  const model = new tl.FullyConnectedNet({ hiddenDims: FC.hiddenDims, inputDim: FC.inputDim, numClasses: FC.numClasses, weightScale: "kaiming", seed: 1 });
  const x = tl.tensor(randomArray(batch * FC.inputDim, 1), [batch, FC.inputDim]); // (N, D)
  const y = randomLabels(batch, FC.numClasses, 2); // (N)
  return { model, x, y, dispose: () => [x, model].forEach((o) => o.dispose()) };
}

function convModel(tl, batch) {
  const model = new tl.DeepConvNet({
    inputDims: CONV.inputDims,
    numFilters: CONV.numFilters,
    maxPools: [0, 1],
    numClasses: CONV.numClasses,
    weightScale: "kaiming",
    seed: 1,
  });
  const x = tl.tensor(randomArray(batch * CONV.inputDims.reduce((p, d) => p * d, 1), 3), [batch, ...CONV.inputDims]); // (N, C, H, W)
  const y = randomLabels(batch, CONV.numClasses, 4); // (N)
  return { model, x, y, dispose: () => [x, model].forEach((o) => o.dispose()) };
}

/** One Adam step over the model's flat parameters, as the Solver does. */
function trainer(tl, net) {
  const state = { config: { ...ADAM } };
  const step = () =>
    tl.tidy(() => {
      net.model.loss(net.x, net.y);
      state.config = tl.adam(net.model.paramStore.flat, net.model.paramStore.gradFlat, state.config)[1];
      return state.config; // the optimizer state outlives the step
    });
  const dispose = () => {
    for (const v of Object.values(state.config)) v?.dispose?.();
    net.dispose();
  };
  return { step, dispose };
}

function inferrer(tl, net) {
  return { step: () => tl.tidy(() => void net.model.loss(net.x)), dispose: net.dispose };
}

export async function benchThreads({ quick = false, say = console.log } = {}) {
  const tl = await loadLibrary();
  const opts = quick ? { rounds: 3, sampleSeconds: 0.05 } : { rounds: 7, sampleSeconds: 0.15 };
  const counts = [1, 2];
  await tl.init({ threads: 2 });
  const rt2 = roundTrip(tl, 2, quick ? 200 : 2000);
  const info = tl.runtimeInfo();
  say(
    `threads bench: ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}, wait ${info.wait}; wall-clock medians of ${opts.rounds} alternating samples`,
  );
  say(
    `dispatch round trip (runTasks, 2 empty tasks): back to back ${rt2.hot.toFixed(1)} µs (best ${rt2.hotBest.toFixed(1)}), ` +
      `waking a sleeping worker ${rt2.cold.toFixed(1)} µs (best ${rt2.coldBest.toFixed(1)}); medians`,
  );
  const rows = [];
  const cases = [
    ...[
      ["nn", 100, 100, 3072],
      ["tn", 3072, 100, 100],
      ["nt", 100, 3072, 100],
    ].map(([v, m, n, k]) => ({
      label: `GEMM ${v} ${m}x${n}x${k}`,
      make: () => gemmStep(tl, v, m, n, k),
    })),
    { label: `FC training 3072-100-100-10, batch ${FC.batch}`, make: () => trainer(tl, fcModel(tl, FC.batch)) },
    { label: `conv training, batch ${CONV.batch}`, make: () => trainer(tl, convModel(tl, CONV.batch)) },
    { label: `FC inference, batch ${FC.batch}`, make: () => inferrer(tl, fcModel(tl, FC.batch)) },
    { label: `conv inference, batch ${CONV.batch}`, make: () => inferrer(tl, convModel(tl, CONV.batch)) },
  ];
  for (const c of cases) {
    let current = null;
    const res = await compare(
      tl,
      counts,
      () => {
        current?.dispose?.();
        current = c.make();
        return current.step;
      },
      opts,
    );
    current?.dispose?.();
    const row = { case: c.label, ms1: res[1] * 1000, ms2: res[2] * 1000, speedup: res[1] / res[2] };
    rows.push(row);
    say(
      `  ${c.label.padEnd(40)} 1 thread ${row.ms1.toFixed(2).padStart(8)} ms   2 threads ${row.ms2.toFixed(2).padStart(8)} ms   speed-up ${row.speedup.toFixed(2)}x`,
    );
  }
  tl.dispose();
  return { roundTripMicros: rt2, rows, wait: info.wait, loadAverage: os.loadavg() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await benchThreads({ quick: process.argv.includes("--quick") });
}
