// npm run bench [-- --quick | --smoke] [-- --only=gemm,fc,conv,resnet,infer,layers,overhead,ceiling,startup,bundle,threads]
//   [-- --clock=cpu|wall] [-- --out=FILE]
// Runs every case in this one process, contenders interleaved, prints the tables and writes
// bench/results/<date>-<host>[-quick].json (or FILE). See bench/README.md for what each figure
// means. --smoke: every case once or twice, for the tests (figures meaningless). The overhead
// section runs only when named (--only=...,overhead, or npm run bench:layers).
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { measureCeiling } from "./ceiling-probe.mjs";
import { gemmCases, modelCases } from "./cases.mjs";
import { measureBundles } from "./bundle.mjs";
import { PROFILES, pairedProfile, runInterleaved } from "./harness.mjs";
import {
  bandwidthTable,
  bundleTable,
  caseTable,
  ceilingTable,
  layerTable,
  overheadTables,
  checkTargets,
  clockName,
  setClock,
  startupTable,
  targetTable,
  value,
} from "./report.mjs";
import { benchInfer } from "./infer.mjs";
import { benchLayers } from "./layers.mjs";
import { benchOverhead } from "./overhead.mjs";
import { profileInfer } from "./profile-infer.mjs";
import { measureStartup } from "./startup.mjs";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const quick = smoke || args.includes("--quick");
const out = args.find((a) => a.startsWith("--out="))?.slice(6);
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");
// Opt-in sections (named in --only, or npm run bench:layers): they would take the full run past
// ten minutes on a busy 2-core host.
const OPT_IN = ["overhead"];
const wants = (part) => (only ? only.includes(part) : !OPT_IN.includes(part));
setClock(args.find((a) => a.startsWith("--clock="))?.slice(8) ?? "cpu");
const profileName = smoke ? "smoke" : quick ? "quick" : "full";
const profile = PROFILES[profileName];
const started = performance.now();
const say = (text) => console.log(text);
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;

// Peers load independently: one that fails to load shows its reason in every row.
const PEERS = ["./peers/tensorlane.mjs", "./peers/tfjs.mjs", "./peers/convnetjs.mjs", "./peers/plainjs.mjs"];
const contenders = [];
for (const path of PEERS) {
  try {
    contenders.push(...(await (await import(path)).load()));
  } catch (error) {
    const name = path.replace(/^.*\/|\.mjs$/g, "");
    const reason = `failed to load: ${error.message.split("\n")[0]}`;
    contenders.push({ name, note: reason, kinds: ["gemm", "fcTrain", "fcInfer", "convTrain", "convInfer"], prepare: () => Promise.reject(new Error(reason)) });
  }
}

const cpu = os.cpus()[0]?.model ?? "unknown cpu";
say(`tensorlane bench (${profileName}): node ${process.version}, ${cpu}, ${os.cpus().length} cores, ${os.hostname()}, load ${os.loadavg()[0].toFixed(1)}`);
say(`figures are medians by ${clockName() === "cpu" ? "the process's CPU time (--clock=wall for wall-clock)" : "wall-clock time (--clock=cpu for CPU time)"}`);
for (const c of contenders) say(`  ${c.name}: ${c.note}`);

// Ceiling: the best chain count of the register-only probe.
let ceiling = null;
if (["ceiling", "gemm", "infer", "layers"].some(wants)) {
  ceiling = await measureCeiling(profile);
  say(`\nSIMD128 ceiling (single core): ${ceiling.gflops.toFixed(1)} GFLOPS  [${elapsed()}]\n${ceilingTable(ceiling)}`);
}

const cases = [
  ...(wants("gemm") ? gemmCases({ quick }) : []),
  ...modelCases().filter((c) => wants({ fcTrain: "fc", convTrain: "conv", resnetTrain: "resnet" }[c.kind] ?? "infer")),
];
for (const c of cases) {
  const entries = [];
  for (const ct of contenders.filter((x) => x.kinds.includes(c.kind))) {
    try {
      entries.push({ name: ct.name, runner: await ct.prepare(c, { quick }) });
    } catch (error) {
      entries.push({ name: ct.name, runner: null, unavailable: error.name === "Unavailable" ? error.message : `error: ${error.message.split("\n")[0]}` });
    }
  }
  const res = await runInterleaved(entries, profile);
  c.results = Object.fromEntries(entries.map((e) => [e.name, res.get(e.name)]));
  const figures = Object.entries(c.results)
    .map(([n, r]) => `${n} ${value(r, c)?.toPrecision(3) ?? "n/a"}`)
    .join(", ");
  say(`  [${elapsed()}] ${c.label}: ${figures}`);
}
const groups = [...new Set(cases.map((c) => c.group))];
for (const g of groups)
  say(
    `\n${g}\n${caseTable(
      cases.filter((c) => c.group === g),
      ceiling?.gflops,
    )}`,
  );

let infer = null;
if (wants("infer")) {
  say(`\nInference against ONNX Runtime Web: the same models exported with exportOnnx, batch 1, 8, 64  [${elapsed()}]`);
  infer = await benchInfer({ profileName, say, ceiling });
}
let layers = null;
if (wants("layers")) {
  say(`\nLayers: each kind's share of what one core can do, N = 64  [${elapsed()}]`);
  layers = await benchLayers({ quick, profile: pairedProfile(profileName), ceiling, say });
  say(`\nMemory bandwidth (triad probe, single core)\n${bandwidthTable(layers.curve)}\n\n${layerTable(layers, ceiling?.gflops)}`);
}
let overhead = null;
if (wants("overhead")) {
  say(`\nHost overhead and where a batch-1 inference spends its time (1 thread)  [${elapsed()}]`);
  overhead = await benchOverhead({ profile: pairedProfile(profileName), quick, say });
  say(`\n${overheadTables(overhead)}`);
  say(`\nCPU profile (node --cpu-prof) of the infer step, FC batch 1  [${elapsed()}]`);
  try {
    overhead.profile = profileInfer({ model: "fc", batch: 1, seconds: smoke ? 0.3 : quick ? 1 : 3, top: 12, say });
  } catch (error) {
    overhead.profile = { unavailable: error.message };
    say(`  profile failed: ${error.message}`);
  }
}
let startup = null;
if (wants("startup")) {
  startup = measureStartup(quick ? 2 : 7);
  say(`\nStart-up: cold process, import then init (median of ${quick ? 2 : 7})  [${elapsed()}]\n${startupTable(startup)}`);
}
let bundle = null;
if (wants("bundle")) {
  bundle = measureBundles();
  say(`\nBundle: what a browser loads\n${bundleTable(bundle)}`);
}
let threads = null;
if (wants("threads")) {
  say(`\nThreads: 1 vs 2 threads  [${elapsed()}]`);
  threads = await (await import("./threads.mjs")).benchThreads({ quick, say });
}
let resnet = null;
if (wants("resnet")) {
  say(`\nTraining a small ResNet, 1 vs 2 threads  [${elapsed()}]`);
  resnet = await (await import("./resnet.mjs")).benchResnet({ quick, rounds: smoke ? 1 : quick ? 3 : 9, say });
}
const targets = checkTargets(cases, ceiling?.gflops, bundle ?? {});
say(`\nIssue 7 targets\n${targetTable(targets)}`);

const record = {
  date: new Date().toISOString(),
  host: os.hostname(),
  node: process.version,
  cpu,
  cores: os.cpus().length,
  profile: { name: quick ? "quick" : "full", clock: clockName(), ...profile },
  loadAverage: os.loadavg(),
  contenders: contenders.map(({ name, note, kinds }) => ({ name, note, kinds })),
  ceiling,
  cases: cases.map(({ results, ...c }) => ({
    ...c,
    results: Object.fromEntries(Object.entries(results).map(([n, r]) => [n, r.unavailable ? r : { value: value(r, c), ...r }])),
  })),
  infer,
  layers,
  overhead,
  startup,
  bundle,
  threads,
  resnet,
  targets,
  seconds: (performance.now() - started) / 1000,
};
const dir = fileURLToPath(new URL("./results/", import.meta.url));
mkdirSync(dir, { recursive: true });
const host = os.hostname().replace(/[^\w.-]+/g, "_");
const file = out ?? `${dir}${record.date.slice(0, 10)}-${host}${quick ? "-quick" : only ? "-partial" : ""}.json`;
writeFileSync(file, `${JSON.stringify(record, (_key, v) => (typeof v === "function" ? undefined : v), 2)}\n`);
say(`\nwrote ${file.replace(fileURLToPath(new URL("../", import.meta.url)), "")}  (${elapsed()} in all)`);
