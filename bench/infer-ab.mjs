// node bench/infer-ab.mjs --dist=A,B [--models=fc,conv,resnet] [--batches=1,8,64] [--threads=1] [--quick]
// The infer section's step (tl.tensor(x) -> model.loss(X) -> toArray()) for two builds of the
// library in one process: each dist directory is imported as its own module (its own wasm
// instance), each builds the same models (bench/infer-models.mjs, same seeds), and before timing
// the two builds' scores are compared bit for bit (a change that is meant to keep the bits must
// keep them). Then the two take turns, one sample each per round (runInterleaved, the paired
// profile: 15 rounds of 40 ms), figures by CPU time (1 thread) or wall clock (more). Prints the
// medians and the median of per-round ratios A / B (above 1: B faster).
import os from "node:os";
import { pathToFileURL } from "node:url";
import { pairedProfile, quantile, runInterleaved } from "./harness.mjs";
import { INFER_MODELS, inferInput } from "./infer-models.mjs";
import { setClock, timeStats } from "./report.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const dists = opt("dist", "").split(",").filter(Boolean);
if (dists.length !== 2) throw new Error("--dist=A,B: two dist directories");
const models = opt("models", "fc,conv,resnet").split(",");
const batches = opt("batches", "1,8,64").split(",").map(Number);
const threads = Number(opt("threads", "1"));
const profile = pairedProfile(args.includes("--quick") ? "quick" : "full");
const clock = threads === 1 ? "cpu" : "wall";
setClock(clock);

const libs = [];
for (const [i, dir] of dists.entries()) {
  const tl = await import(`${pathToFileURL(`${dir}/tensorlane.js`).href}?build=${i}`);
  await tl.init(threads > 1 ? { threads } : undefined);
  libs.push({ name: `${"AB"[i]} ${dir}`, tl });
}
console.log(`infer A/B: node ${process.version}, ${os.cpus()[0]?.model}, load ${os.loadavg()[0].toFixed(1)}, ${threads} thread(s), ${clock} clock`);
for (const l of libs) console.log(`  ${l.name}`);

const bits = (a) => new Uint32Array(a.buffer, a.byteOffset, a.length);
for (const id of models) {
  const def = INFER_MODELS.find((m) => m.id === id);
  const built = libs.map(({ tl }) => def.make(tl));
  for (const batch of batches) {
    const { data, shape } = inferInput(def, batch);
    const scores = libs.map(({ tl }, i) => tl.tidy(() => built[i].loss(tl.tensor(data, shape)).toArray()));
    // The second call packs the weights (packed-weights.ts): compare after it too.
    const again = libs.map(({ tl }, i) => tl.tidy(() => built[i].loss(tl.tensor(data, shape)).toArray()));
    const same =
      [scores, again].every(([a, b]) => a.length === b.length && bits(a).every((v, j) => v === bits(b)[j])) &&
      bits(scores[0]).every((v, j) => v === bits(again[0])[j]);
    const entries = libs.map(({ name, tl }, i) => ({
      name,
      runner: { step: () => void tl.tidy(() => built[i].loss(tl.tensor(data, shape)).toArray()) },
    }));
    const res = await runInterleaved(entries, profile);
    const [a, b] = entries.map((e) => res.get(e.name));
    const ta = clock === "cpu" ? a.cpuTimes : a.times;
    const tb = clock === "cpu" ? b.cpuTimes : b.times;
    const ratios = ta.map((t, r) => t / tb[r]);
    const ms = (r) => (timeStats(r).median * 1e3).toFixed(3);
    console.log(
      `${id} batch ${batch}: A ${ms(a)} ms, B ${ms(b)} ms, A/B ${quantile(ratios, 0.5).toFixed(3)} [${quantile(ratios, 0.25).toFixed(3)}-${quantile(ratios, 0.75).toFixed(3)}]` +
        `${same ? ", same bits" : ", BITS DIFFER"}`,
    );
  }
  built.forEach((m) => m.dispose?.());
}
process.exit(0);
