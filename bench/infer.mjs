// The `infer` section (issue 22): tensorlane against onnxruntime-web on the same models, exported
// with tensorlane's exportOnnx, at batch 1, 8 and 64, in one process, alternating (runInterleaved:
// one sample of each per round, the first contender rotating), medians, ratios. Both take the
// batch as a JS Float32Array and give the scores back as one.
// Each thread count runs in a child process (`node bench/infer.mjs --child --threads=N`): ORT fixes
// its thread count when its wasm starts, once per process, and once started it leaves Node's
// worker_threads Worker class in globalThis.Worker, after which tensorlane's init({ threads })
// in the same process takes the Web Worker path and fails ("worker.addEventListener is not a
// function"): the bench's other sections stay clear of it.
//   1 thread:  tensorlane init(); ORT numThreads 1; figures by the run's clock (CPU time by default).
//   2 threads: tensorlane init({ threads: 2 }) against ORT numThreads 2, figures by wall-clock time
//              (two busy threads burn twice the CPU time). Skipped with fewer than 2 cores.
// Standalone: node bench/infer.mjs [--quick | --smoke] [--threads=1,2] [--clock=cpu|wall]   (after npm run build)
import { spawnSync } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { measureCeiling } from "./ceiling-probe.mjs";
import { PROFILES, pairedProfile, quantile, runInterleaved } from "./harness.mjs";
import { INFER_BATCHES, INFER_MODELS, disposeInferModels } from "./infer-models.mjs";
import { clockName, inferTable, setClock, timeStats } from "./report.mjs";

const TL = "tensorlane";
const ORT = "onnxruntime-web";

/** One case per model and batch size. */
export function inferCases({ batches = INFER_BATCHES, models = INFER_MODELS } = {}) {
  return models.flatMap((m) =>
    batches.map((batch) => ({
      id: `infer-${m.id}-b${batch}`,
      group: "Inference against ONNX Runtime Web",
      kind: "ortInfer",
      model: m.id,
      label: `${m.label}, batch ${batch}`,
      batch,
      unit: "samples/s",
      work: batch,
      flops: m.flopsPerSample * batch,
    })),
  );
}

/**
 * Per-round ratios ORT time / tensorlane time (above 1: tensorlane ahead): sample r of each was
 * taken in the same round, so a slow moment of the machine mostly cancels. Returns the median
 * and the quartiles, or null when a side has no samples.
 */
export function pairedRatio(tl, ort, other = false) {
  if (!tl || !ort || tl.unavailable || ort.unavailable) return null;
  const a = other !== (clockName() === "cpu") ? tl.cpuTimes : tl.times;
  const b = other !== (clockName() === "cpu") ? ort.cpuTimes : ort.times;
  const n = Math.min(a.length, b.length);
  const ratios = Array.from({ length: n }, (_, i) => b[i] / a[i]);
  return { median: quantile(ratios, 0.5), q1: quantile(ratios, 0.25), q3: quantile(ratios, 0.75), rounds: n };
}

/** Runs the cases with `threads` threads on both sides, in this process. */
export async function runInferCases({ threads = 1, profile, say = () => {}, batches, models }) {
  const contenders = [
    ...(await (await import("./peers/tensorlane.mjs")).load({ threads })),
    ...(await (await import("./peers/onnxruntime.mjs")).load({ threads })),
  ];
  const cases = inferCases({ batches, models });
  for (const c of cases) {
    const entries = [];
    for (const ct of contenders) {
      try {
        entries.push({ name: ct.name, runner: await ct.prepare(c) });
      } catch (error) {
        entries.push({ name: ct.name, runner: null, unavailable: error.name === "Unavailable" ? error.message : `error: ${error.message.split("\n")[0]}` });
      }
    }
    const res = await runInterleaved(entries, profile);
    c.results = Object.fromEntries(entries.map((e) => [e.name, res.get(e.name)]));
    c.ratio = pairedRatio(c.results[TL], c.results[ORT]);
    const ms = (r) => (!r || r.unavailable ? "n/a" : `${(timeStats(r).median * 1e3).toFixed(3)} ms`);
    say(
      `  ${c.label} (${threads}t): tensorlane ${ms(c.results[TL])}, ORT ${ms(c.results[ORT])}${c.ratio ? `, tensorlane x ${c.ratio.median.toFixed(2)}` : ""}`,
    );
  }
  await disposeInferModels();
  return { threads, clock: clockName(), contenders: contenders.map(({ name, note }) => ({ name, note })), cases };
}

/** One thread count's rows, from a child process; returns its record, or { skipped } with the reason. */
function runChild({ threads, profileName, clock }) {
  if (os.cpus().length < threads) return { threads, skipped: `${os.cpus().length} core(s): ${threads} threads would share them` };
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), "--child", `--threads=${threads}`, `--profile=${profileName}`, `--clock=${clock}`],
    {
      encoding: "utf8",
      timeout: 15 * 60_000,
      maxBuffer: 64 << 20,
    },
  );
  const last = child.stdout?.trim().split("\n").pop() ?? "";
  if (child.status !== 0 || !last.startsWith("{")) {
    return { threads, skipped: `child process failed: ${(child.stderr || child.error?.message || `exit ${child.status}`).trim().split("\n").slice(-1)[0]}` };
  }
  return JSON.parse(last);
}

/**
 * The whole section, a child process per thread count. profileName: "full" | "quick" | "smoke".
 * Prints a table per thread count; returns { [threads]: record }.
 */
export async function benchInfer({ profileName = "full", say = console.log, ceiling = null, threadCounts = [1, 2] } = {}) {
  const out = {};
  for (const threads of threadCounts) {
    const clock = threads === 1 ? clockName() : "wall";
    const loadBefore = os.loadavg();
    say(
      `  ${threads} thread${threads === 1 ? "" : "s"}: child process, figures by ${clock === "cpu" ? "CPU time" : "wall-clock time"}, load ${loadBefore[0].toFixed(1)}`,
    );
    const record = runChild({ threads, profileName, clock });
    record.loadAverage = { before: loadBefore, after: os.loadavg() };
    out[threads] = record;
    if (record.skipped) say(`\n${threads} threads: skipped (${record.skipped})`);
    else {
      for (const c of record.contenders) say(`  ${c.name}: ${c.note}`);
      say(`\n${threads} thread${threads === 1 ? "" : "s"} (${record.clock === "cpu" ? "CPU time" : "wall clock"})\n${inferTable(record, ceiling?.gflops)}`);
    }
  }
  return out;
}

/** Serializable: results keep their samples; functions are dropped. */
function toJson(record) {
  return JSON.stringify(record, (_key, v) => (typeof v === "function" ? undefined : v));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const arg = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const profileName = arg("profile") ?? (args.includes("--smoke") ? "smoke" : args.includes("--quick") ? "quick" : "full");
  if (args.includes("--child")) {
    // This process's output is one JSON line for the parent.
    const threads = Number(arg("threads") ?? 1);
    setClock(arg("clock") ?? (threads === 1 ? "cpu" : "wall"));
    const record = await runInferCases({ threads, profile: pairedProfile(profileName) });
    console.log(toJson(record));
    process.exit(0); // ORT's and tensorlane's workers would keep the process alive
  }
  setClock(arg("clock") ?? "cpu");
  const threadCounts = (arg("threads") ?? "1,2").split(",").map(Number);
  const ceiling = await measureCeiling(PROFILES[profileName]);
  console.log(`infer bench (${profileName}): node ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
  console.log(`SIMD128 ceiling (single core, this run): ${ceiling.gflops.toFixed(1)} GFLOPS`);
  await benchInfer({ profileName, ceiling, threadCounts });
  process.exit(0);
}
