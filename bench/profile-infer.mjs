// Where the time of one inference goes: node --cpu-prof on the `infer` section's tensorlane step
// (tl.tensor(x) -> model.loss(X) -> toArray(), dist/tensorlane.js, 1 thread), summarized by
// function. Wasm frames (wasm-function[i]) are named by module: the bundle instantiates the core and
// each kernel family it uses (build/families/<family>.wasm), or the full module
// (dist/tensorlane.wasm); a script's module is the one whose function offsets match its frames'
// (wasmModulesOfProfile), and a function is named from that module's .wat (the release build's
// text, functions in index order; checked against the module's export names). JS frames of the
// minified bundle are named through dist/tensorlane.js.map.
//   node bench/profile-infer.mjs [--model=fc|conv|resnet] [--batch=1] [--seconds=4] [--top=20] [--keep=DIR]
// (after npm run build). It runs itself as a child under --cpu-prof and keeps only the samples
// taken inside the timed loop (the warm-up and the start-up are left out).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

// --- the wasm side: function index -> name ------------------------------------------------------

function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at.i++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return value;
  }
}

/** Imported function count and exported functions (name -> index) of a wasm binary. */
export function wasmFunctionExports(bytes) {
  const at = { i: 8 };
  let imports = 0;
  const exports = new Map();
  const name = () => {
    const n = leb(bytes, at);
    const s = Buffer.from(bytes.subarray(at.i, at.i + n)).toString("utf8");
    at.i += n;
    return s;
  };
  const limits = () => {
    const flag = bytes[at.i++];
    leb(bytes, at);
    if (flag & 1) leb(bytes, at);
  };
  while (at.i < bytes.length) {
    const id = bytes[at.i++];
    const size = leb(bytes, at);
    const end = at.i + size;
    if (id === 2) {
      for (let n = leb(bytes, at); n > 0; n--) {
        name();
        name();
        const kind = bytes[at.i++];
        if (kind === 0) leb(bytes, at), imports++;
        else if (kind === 1) at.i++, limits();
        else if (kind === 2) limits();
        else if (kind === 3) at.i += 2;
      }
    } else if (id === 7) {
      for (let n = leb(bytes, at); n > 0; n--) {
        const s = name();
        const kind = bytes[at.i++];
        const index = leb(bytes, at);
        if (kind === 0) exports.set(s, index);
      }
    }
    at.i = end;
  }
  return { imports, exports };
}

/**
 * index -> name for every function of the module, from the .wat the release build prints
 * (`(import ... (func` lines, then `(func $name` in index order). Returns null when the text does
 * not match the binary (an export's index names another function).
 */
export function wasmFunctionNames(wat, bytes) {
  const imported = (wat.match(/^ \(import "[^"]*" "[^"]*" \(func/gm) ?? []).length;
  const names = [...wat.matchAll(/^ \(func \$(\S+)/gm)].map((m) => m[1]);
  const byIndex = new Map(names.map((n, i) => [imported + i, n]));
  const { imports, exports } = wasmFunctionExports(bytes);
  if (imports !== imported) return null;
  for (const [exportName, index] of exports) {
    const n = byIndex.get(index);
    if (!n || !(n === exportName || n.endsWith(`/${exportName}`))) return null;
  }
  return byIndex;
}

// --- the profile ---------------------------------------------------------------------------------

/**
 * Self time per function over the samples whose stack contains a frame named `inside`.
 * profile: a .cpuprofile (nodes, samples, timeDeltas); name(callFrame) -> display name.
 * Returns { total (µs), rows: [{ name, micros, share }] } sorted by time.
 */
export function summarizeProfile(profile, { inside = "measuredLoop", name = (f) => f.functionName || "(anonymous)" } = {}) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const insideMemo = new Map();
  const isInside = (id) => {
    if (insideMemo.has(id)) return insideMemo.get(id);
    const n = nodes.get(id);
    const r = n.callFrame.functionName === inside || (parent.has(id) && isInside(parent.get(id)));
    insideMemo.set(id, r);
    return r;
  };
  const self = new Map();
  let total = 0;
  // GC and "(program)" samples hang off the root, not under the loop: those taken between the
  // loop's first and last samples are its time too.
  const inLoop = profile.samples.map((id) => isInside(id));
  const first = inLoop.indexOf(true);
  const last = inLoop.lastIndexOf(true);
  profile.samples.forEach((id, i) => {
    const n = nodes.get(id);
    const rootLevel = n.callFrame.functionName === "(garbage collector)" || n.callFrame.functionName === "(program)";
    if (!(inLoop[i] || (rootLevel && i > first && i < last))) return;
    const dt = profile.timeDeltas[i] ?? 0;
    const key = name(n.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const rows = [...self].map(([n, micros]) => ({ name: n, micros, share: total > 0 ? micros / total : 0 })).sort((a, b) => b.micros - a.micros);
  return { total, rows };
}

/** index -> byte offset of its body (after the size) for every function defined in a wasm binary. */
export function wasmFunctionOffsets(bytes) {
  const at = { i: 8 };
  const { imports } = wasmFunctionExports(bytes);
  const offsets = new Map();
  while (at.i < bytes.length) {
    const id = bytes[at.i++];
    const size = leb(bytes, at);
    const end = at.i + size;
    if (id === 10) {
      for (let n = leb(bytes, at), j = 0; j < n; j++) {
        const bodySize = leb(bytes, at);
        offsets.set(imports + j, at.i);
        at.i += bodySize;
      }
    }
    at.i = end;
  }
  return offsets;
}

/**
 * name -> { bytes, wat } of every wasm module a profiled process may run: the full module
 * (dist/tensorlane.wasm, text build/tensorlane.wat) and each kernel family's (build/families/).
 */
function builtModules() {
  const modules = new Map();
  const add = (name, wasmPath, watPath) => {
    try {
      modules.set(name, { bytes: readFileSync(wasmPath), wat: readFileSync(watPath, "utf8") });
    } catch {
      // not built: its frames stay unnamed
    }
  };
  add("full", here("../dist/tensorlane.wasm"), here("../build/tensorlane.wat"));
  let families = [];
  try {
    families = readdirSync(here("../build/families")).filter((f) => f.endsWith(".wasm") && !f.includes(".debug."));
  } catch {
    families = [];
  }
  for (const f of families) add(f.replace(/\.wasm$/, ""), here(`../build/families/${f}`), here(`../build/families/${f.replace(/\.wasm$/, ".wat")}`));
  return modules;
}

const WASM_FRAME = /^(?:wasm-function\[(\d+)\]|\$?func(\d+))$/;

/**
 * Which module each wasm script of a profile is: url -> { family, names }. A profile's wasm frames
 * carry only the script URL (`wasm://wasm/<hash>`), the function index and, as columnNumber, the
 * byte offset of the function's body in its module; a script is the module (name -> { bytes, wat })
 * at whose offsets every one of its sampled functions starts, if exactly one module fits (and its
 * .wat matches its bytes). Others are left out: their frames stay unnamed rather than misnamed.
 */
export function wasmModulesOfProfile(profile, modules) {
  const candidates = [];
  for (const [family, { bytes, wat }] of modules) {
    const names = wasmFunctionNames(wat, bytes);
    if (names) candidates.push({ family, names, offsets: wasmFunctionOffsets(bytes) });
  }
  const frames = new Map(); // url -> [[index, offset]]
  for (const { callFrame: f } of profile.nodes) {
    const m = WASM_FRAME.exec(f.functionName);
    if (!m || !f.url) continue;
    if (!frames.has(f.url)) frames.set(f.url, []);
    frames.get(f.url).push([Number(m[1] ?? m[2]), f.columnNumber]);
  }
  const out = new Map();
  for (const [url, list] of frames) {
    const fits = candidates.filter((c) => list.every(([index, offset]) => c.offsets.get(index) === offset));
    // The full module and a family can hold the same code only if they are the same bytes.
    if (fits.length === 1) out.set(url, fits[0]);
  }
  return out;
}

/**
 * Names a wasm frame given wasmModulesOfProfile's map: `wasm <function>` for the full module and
 * the core, `wasm [<family>] <function>` for another kernel family, `wasm ? <frame>` when its module
 * is not known. null for a frame that is not wasm.
 */
export function wasmFrameName(frame, byUrl) {
  const m = WASM_FRAME.exec(frame.functionName);
  if (!m) return null;
  const module = byUrl.get(frame.url);
  const name = module?.names.get(Number(m[1] ?? m[2]));
  if (!name) return `wasm ? ${frame.functionName} (${frame.url || "no url"})`;
  return module.family === "full" || module.family === "core" ? `wasm ${name}` : `wasm [${module.family}] ${name}`;
}

/** Names the frames of a profile: wasm functions by their module's .wat, the bundle's JS by its source map, the rest as is. */
export function frameNamer(profile) {
  const byUrl = wasmModulesOfProfile(profile, builtModules());
  let map = null;
  try {
    map = new SourceMap(JSON.parse(readFileSync(here("../dist/tensorlane.js.map"), "utf8")));
  } catch {
    map = null;
  }
  return (f) => {
    const wasm = wasmFrameName(f, byUrl);
    if (wasm) return wasm;
    if (f.url.endsWith("dist/tensorlane.js") && map) {
      const e = map.findEntry(f.lineNumber, f.columnNumber);
      if (e?.originalSource) return `js ${e.name ?? f.functionName ?? "(anonymous)"} (${e.originalSource.replace(/^(\.\.\/)+/, "")}:${e.originalLine + 1})`;
    }
    if (!f.url) return f.functionName || "(anonymous)";
    return `${f.functionName || "(anonymous)"} (${f.url.replace(/^.*\//, "")})`;
  };
}

/** Groups a summary's rows into a few kinds for the headline. */
export function categorize(rows) {
  const kinds = [
    ["wasm GEMM microkernels", (n) => /^wasm .*gemm\/microkernel/.test(n)],
    ["wasm GEMV blocks (batch 1-3)", (n) => /^wasm .*gemm\/(gemv|gemv_)/.test(n)],
    ["wasm GEMM packing of op(A)/op(B)", (n) => /^wasm .*gemm\/pack/.test(n)],
    ["wasm GEMM edge tiles (mergeEdge) and driver", (n) => /^wasm .*gemm\/(mergeEdge|gemm|f32_gemm|emptyProduct)/.test(n)],
    ["wasm conv", (n) => /^wasm .*conv/.test(n)],
    ["wasm other kernels", (n) => n.startsWith("wasm ")],
    ["JS tensorlane host", (n) => n.startsWith("js ")],
    ["garbage collector", (n) => n.startsWith("(garbage collector)")],
    ["other (bench loop, engine, runtime)", () => true],
  ];
  const out = kinds.map(([label]) => ({ label, share: 0 }));
  for (const r of rows) out[kinds.findIndex(([, test]) => test(r.name))].share += r.share;
  return out;
}

// --- the child: the loop under the profiler -----------------------------------------------------

async function child({ model, batch, seconds }) {
  const { inferInput, inferLibrary, inferModel } = await import("./infer-models.mjs");
  await (await inferLibrary()).tl.init(); // before the model is built
  const entry = await inferModel(model);
  const { tl } = entry;
  const { data, shape } = inferInput(entry.def, batch);
  const step = () => tl.tidy(() => entry.model.loss(tl.tensor(data, shape)).toArray());
  function warmUp() {
    const end = performance.now() + 500;
    while (performance.now() < end) step();
  }
  function measuredLoop() {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) step(), n++;
    return { n, micros: ((performance.now() - t0) * 1000) / n };
  }
  warmUp();
  const { n, micros } = measuredLoop();
  console.log(JSON.stringify({ steps: n, microsPerStep: micros }));
}

// --- the parent ---------------------------------------------------------------------------------

export function profileInfer({ model = "fc", batch = 1, seconds = 4, top = 20, keep = null, say = console.log } = {}) {
  const dir = keep ?? mkdtempSync(join(tmpdir(), "tensorlane-prof-"));
  const run = spawnSync(
    process.execPath,
    [
      "--cpu-prof",
      `--cpu-prof-dir=${dir}`,
      "--cpu-prof-interval=100",
      fileURLToPath(import.meta.url),
      "--child",
      `--model=${model}`,
      `--batch=${batch}`,
      `--seconds=${seconds}`,
    ],
    { encoding: "utf8" },
  );
  if (run.status !== 0) throw new Error(`profiled child failed: ${run.stderr.trim().split("\n").slice(-3).join(" / ")}`);
  const timing = JSON.parse(run.stdout.trim().split("\n").pop());
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
  if (!keep) rmSync(dir, { recursive: true, force: true });
  const summary = summarizeProfile(profile, { name: frameNamer(profile) });
  const kinds = categorize(summary.rows);
  say(`${model} inference, batch ${batch}: ${timing.steps} steps in ${seconds} s, ${timing.microsPerStep.toFixed(1)} µs per step (profiled, 100 µs sampling)`);
  say("\nby kind (self time inside the timed loop):");
  for (const k of kinds) if (k.share > 0) say(`  ${(100 * k.share).toFixed(1).padStart(5)}%  ${k.label}`);
  say(`\ntop ${top} functions by self time:`);
  for (const r of summary.rows.slice(0, top))
    say(`  ${(100 * r.share).toFixed(1).padStart(5)}%  ${(r.share * timing.microsPerStep).toFixed(1).padStart(7)} µs/step  ${r.name}`);
  return { model, batch, timing, kinds, rows: summary.rows };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const arg = (k, d) => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
  const opts = { model: arg("model", "fc"), batch: Number(arg("batch", 1)), seconds: Number(arg("seconds", 4)) };
  if (args.includes("--child")) await child(opts);
  else profileInfer({ ...opts, top: Number(arg("top", 20)), keep: arg("keep", null) });
}
