// node bench/resnet.mjs [--quick] [--threads=1,2] [--dist=dist,/other/dist] [--batch=100] [--rounds=9] [--profile]
//                       [--nets=32-64-128d,16-32-64-128]
// (also a section of `npm run bench`: --only=resnet)
// Training a small ResNet (issue 22): tl.models.resnet({ inputShape: [1, 28, 28], widths: [32, 64,
// 128], downsampleFirst: true }), batch 100 of seeded random images and labels, one step =
// net.loss(X, y) (forward, loss, backward) then Adam over the flat parameters as tl.Solver does.
// Every (build, thread count) pair takes one sample per round, the starting pair rotating; before
// each sample the build's pool is re-initialized with that count (untimed) and warmed up. Figures
// are wall-clock medians (threads are about wall time), with the median of the per-round ratios
// against the first pair (same round, same machine state). --dist names the builds' dist
// directories, so a build can be compared with another one (e.g. main's) in one process.
// --nets and a --batch list alternate network shapes and batch sizes the same way (a net is its
// widths joined by "-", with a trailing "d" when the first stage halves the image too): what one
// more stage width or a smaller batch costs per image, on the same machine state. Samples from
// different times of one shared host differ by up to 25%; only ratios in one run compare.
// --profile: one build, 1 thread, a CPU profile of the timed steps (self time by function; wasm
// frames named by their kernel family, as bench/profile-infer.mjs names them).
import os from "node:os";
import { fileURLToPath } from "node:url";
import { median, quantile, randomArray, randomLabels } from "./harness.mjs";
import { ADAM } from "./cases.mjs";
import { frameNamer } from "./profile-infer.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const quick = args.includes("--quick");
const counts = opt("threads", "1,2").split(",").map(Number);
const dists = opt("dist", fileURLToPath(new URL("../dist", import.meta.url))).split(",");
const batches = opt("batch", "100").split(",").map(Number);
const batch = batches[0];
const rounds = Number(opt("rounds", quick ? "3" : "9"));

export const RESNET = { inputShape: [1, 28, 28], widths: [32, 64, 128], downsampleFirst: true, seed: 1 };

/** "16-32-64-128" or "32-64-128d" (the first stage halves the image too) -> resnet() options. */
export function parseNet(text) {
  const m = /^(\d+(?:-\d+)*)(d?)$/.exec(text);
  if (!m) throw new Error(`--nets: "${text}" is not a net: widths joined by "-", then "d" if the first stage halves the image (e.g. 32-64-128d)`);
  return { ...RESNET, widths: m[1].split("-").map(Number), downsampleFirst: m[2] === "d" };
}

/** The net's name in the bench's output, as --nets writes it. */
export function netName(net) {
  return `${net.widths.join("-")}${net.downsampleFirst ? "d" : ""}`;
}

/** A training step of the ResNet on a fixed batch: { step(): loss, dispose() }. */
export function resnetTrainer(tl, n = batch, options = RESNET) {
  const net = tl.models.resnet(options);
  const x = tl.tensor(randomArray(n * 28 * 28, 5), [n, 1, 28, 28]); // (N, 1, 28, 28)
  const y = randomLabels(n, 10, 6); // (N)
  let config = { ...ADAM };
  const store = net.paramStore;
  const step = () =>
    tl.tidy(() => {
      const [loss] = net.loss(x, y);
      config = tl.adam(store.flat, store.gradFlat, config)[1];
      return [loss, config]; // the optimizer state outlives the step
    })[0];
  const dispose = () => {
    for (const v of Object.values(config)) v?.dispose?.();
    x.dispose();
    net.dispose?.();
  };
  return { step, dispose };
}

function timeSteps(step, steps) {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  return (performance.now() - t0) / 1000 / steps;
}

async function main() {
  if (args.includes("--profile")) {
    const tl = await import(`${new URL(`file://${dists[0]}/tensorlane.js`).href}?build=0`);
    say(
      `ResNet training (widths ${RESNET.widths.join("-")}, 1x28x28, batch ${batch}): node ${process.version}, ${os.cpus()[0]?.model}, load ${os.loadavg()[0].toFixed(1)}`,
    );
    return profile(tl);
  }
  const nets = opt("nets", netName(RESNET)).split(",").map(parseNet);
  await benchResnet({ quick, dists, counts, rounds, nets, batches, say });
}

/**
 * The section: every (build, thread count, net, batch) combination alternating, one sample each
 * per round. Returns { rows: [{ build, threads, net, batch, samplesPerSecond, msPerStep, spread,
 * ratio, ratioQ1, ratioQ3 }] }; ratio is per image, against the first combination.
 */
export async function benchResnet({
  quick = false,
  dists = [fileURLToPath(new URL("../dist", import.meta.url))],
  counts = [1, 2],
  rounds = quick ? 3 : 9,
  nets = [RESNET],
  batches = [100],
  say = console.log,
} = {}) {
  const builds = [];
  for (const [i, dir] of dists.entries()) {
    const tl = await import(`${new URL(`file://${dir}/tensorlane.js`).href}?build=${i}`);
    builds.push({ name: dists.length > 1 ? dir : "tensorlane", tl });
  }
  const sampleSeconds = quick ? 0.3 : 1;
  const shapes =
    nets.length === 1 && batches.length === 1
      ? `widths ${nets[0].widths.join("-")}${nets[0].downsampleFirst ? ", the first stage halving" : ""}, batch ${batches[0]}`
      : "nets and batches below";
  say(
    `ResNet training (${shapes}, 1x28x28, Adam): node ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
  );
  const pairs = builds.flatMap((b) => counts.flatMap((threads) => nets.flatMap((net) => batches.map((n) => ({ ...b, threads, net, n, steps: 0, times: [] })))));
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < pairs.length; j++) {
      const p = pairs[(r + j) % pairs.length];
      await p.tl.init({ threads: p.threads });
      await new Promise((done) => setTimeout(done, 100)); // the old workers' teardown and the new ones' start
      const t = resnetTrainer(p.tl, p.n, p.net);
      for (let w = 0; w < 2; w++) t.step();
      if (p.steps === 0) p.steps = Math.max(1, Math.round(sampleSeconds / timeSteps(t.step, 1)));
      p.times.push(timeSteps(t.step, p.steps));
      t.dispose();
    }
  }
  const base = pairs[0];
  const label = (p) => `${p.name} ${p.threads} thread(s)${nets.length > 1 ? ` ${netName(p.net)}` : ""}${batches.length > 1 ? ` batch ${p.n}` : ""}`;
  say(`wall-clock medians of ${rounds} alternating samples; x = median of per-round ratios of time per image against ${label(base)}`);
  const rows = pairs.map((p) => {
    const ratios = p.times.map((t, i) => base.times[i] / base.n / (t / p.n));
    const med = median(p.times);
    const row = {
      build: p.name,
      threads: p.threads,
      net: netName(p.net),
      batch: p.n,
      steps: p.steps,
      samplesPerSecond: p.n / med,
      msPerStep: med * 1000,
      spread: (quantile(p.times, 0.75) - quantile(p.times, 0.25)) / med,
      ratio: median(ratios),
      ratioQ1: quantile(ratios, 0.25),
      ratioQ3: quantile(ratios, 0.75),
    };
    say(
      `  ${label(p).padEnd(40)}: ${row.samplesPerSecond.toFixed(0).padStart(6)} samples/s  (${row.msPerStep.toFixed(1)} ms/step, spread ${(row.spread * 100).toFixed(0)}%)  x${row.ratio.toFixed(2)} [${row.ratioQ1.toFixed(2)}-${row.ratioQ3.toFixed(2)}]`,
    );
    return row;
  });
  for (const b of builds) b.tl.dispose?.();
  return { batch: batches[0], rounds, loadAverage: os.loadavg(), rows };
}

/** Self time by function over ~3 s of 1-thread steps (node:inspector's profiler). */
async function profile(tl) {
  const { Session } = await import("node:inspector/promises");
  await tl.init();
  const t = resnetTrainer(tl);
  for (let w = 0; w < 3; w++) t.step();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < (quick ? 1000 : 4000)) t.step(), n++;
  const { profile: prof } = await session.post("Profiler.stop");
  const name = frameNamer(prof);
  const self = new Map();
  const byId = new Map(prof.nodes.map((node) => [node.id, node]));
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const label = name(byId.get(prof.samples[i]).callFrame);
    const dt = prof.timeDeltas[i] ?? 0;
    self.set(label, (self.get(label) ?? 0) + dt);
    total += dt;
  }
  say(`${n} steps, ${((performance.now() - t0) / n).toFixed(1)} ms/step; self time:`);
  for (const [name, tm] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) say(`  ${((100 * tm) / total).toFixed(1).padStart(5)}%  ${name}`);
  t.dispose();
}

function say(text) {
  console.log(text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
