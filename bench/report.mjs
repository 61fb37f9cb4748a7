// Turns results into the printed table, the target check and the JSON record.
import { TARGETS } from "./cases.mjs";

const TL = "tensorlane";

// Which clock the figures use: "cpu" (the process's CPU time, the default: robust on a shared
// machine) or "wall". The other clock's median is shown beside.
let clock = "cpu";
export function setClock(name) {
  if (name !== "cpu" && name !== "wall") throw new Error(`--clock must be cpu or wall (got ${name})`);
  clock = name;
}
export const clockName = () => clock;

/** The per-step time stats of a result by the chosen clock (or the other one). */
export function timeStats(result, other = false) {
  return (clock === "cpu") !== other ? result.cpuStats : result.stats;
}

/** Throughput of one result: work per step / median seconds per step. */
export function value(result, caseDef) {
  if (!result || result.unavailable) return null;
  return (result.work ?? caseDef.work) / timeStats(result).median;
}

function fmt(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-US");
  return x.toPrecision(digits);
}

function pct(x) {
  return Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : "-";
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((c, i) => (i === 0 || i === r.length - 1 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

/** Rows for the throughput cases: one per contender, tensorlane's ratio over each peer. */
export function caseTable(cases, ceiling) {
  const rows = [["case / contender", "median", "best", clock === "cpu" ? "wall" : "cpu-time", "unit", "spread", "of ceiling", "tensorlane x", "note"]];
  for (const c of cases) {
    rows.push([c.label, "", "", "", "", "", "", "", ""]);
    const tl = value(c.results[TL], c);
    for (const [name, r] of Object.entries(c.results)) {
      const v = value(r, c);
      const ratio = name !== TL && tl !== null && v !== null ? `${fmt(tl / v)}x` : "";
      const ofCeiling = c.unit === "GFLOPS" && v !== null && ceiling ? pct(v / ceiling) : "";
      const loss = r.lossFirst !== undefined ? `loss ${r.lossFirst.toFixed(3)} -> ${r.lossLast.toFixed(3)}` : "";
      const note = r.unavailable ?? [r.note, loss].filter(Boolean).join("; ");
      const best = v === null ? "" : fmt((r.work ?? c.work) / timeStats(r).min);
      const other = v === null ? "" : fmt((r.work ?? c.work) / timeStats(r, true).median);
      rows.push([
        `  ${name}`,
        v === null ? "n/a" : fmt(v),
        best,
        other,
        v === null ? "" : c.unit,
        v === null ? "" : pct(timeStats(r).spread),
        ofCeiling,
        ratio,
        note,
      ]);
    }
  }
  return table(rows);
}

/** Runs fn with the clock set to `name` (tables of a child process that timed by another clock). */
export function withClock(name, fn) {
  const saved = clock;
  clock = name;
  try {
    return fn();
  } finally {
    clock = saved;
  }
}

/**
 * The `infer` section's table (one thread count): time per batch of each contender (median and
 * spread), tensorlane x = ORT's time over tensorlane's (median of the per-round ratios, with
 * their quartiles), and each side's GFLOPS as a share of the single-core ceiling times the thread
 * count. `record` is bench/infer.mjs's { threads, clock, cases }.
 */
export function inferTable(record, ceiling) {
  return withClock(record.clock, () => {
    const t = record.threads;
    const cap = ceiling ? ceiling * t : null;
    const rows = [
      [
        "model, batch",
        "tensorlane ms",
        "spread",
        "ORT ms",
        "spread",
        "tensorlane x",
        "q1-q3",
        "tl GFLOPS",
        t === 1 ? "of ceiling" : `of ${t} x ceiling`,
        "ORT GFLOPS",
        t === 1 ? "of ceiling" : `of ${t} x ceiling`,
        "note",
      ],
    ];
    for (const c of record.cases) {
      const tl = c.results.tensorlane;
      const ort = c.results["onnxruntime-web"];
      const ms = (r) => (!r || r.unavailable ? "n/a" : fmt(timeStats(r).median * 1e3));
      const spread = (r) => (!r || r.unavailable ? "" : pct(timeStats(r).spread));
      const gflops = (r) => (!r || r.unavailable || !c.flops ? null : c.flops / 1e9 / timeStats(r).median);
      const share = (g) => (g !== null && cap ? pct(g / cap) : "");
      const notes = [tl, ort].map((r) => r?.unavailable ?? r?.note).filter(Boolean);
      const unique = [...new Set(notes)].filter((n) => !n.startsWith("tl.tensor(x)"));
      rows.push([
        c.label,
        ms(tl),
        spread(tl),
        ms(ort),
        spread(ort),
        c.ratio ? `${fmt(c.ratio.median)}x` : "",
        c.ratio ? `${fmt(c.ratio.q1)}-${fmt(c.ratio.q3)}` : "",
        fmt(gflops(tl)),
        share(gflops(tl)),
        fmt(gflops(ort)),
        share(gflops(ort)),
        unique.join("; "),
      ]);
    }
    return table(rows);
  });
}

/** The triad probe's bandwidth by footprint (bench/layers.mjs). */
export function bandwidthTable(curve) {
  const kb = (b) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : `${b / 1024} KiB`);
  const rows = [["triad footprint", "median GB/s", "best", "spread"]];
  for (const r of curve) rows.push([kb(r.footprint), fmt(r.gbps), fmt(r.best), pct(r.spread)]);
  return table(rows);
}

/**
 * The `layers` section's table: each kernel's rate (GFLOPS or GB/s), its yardstick in the same
 * rounds, the share (median of the per-round ratios, with quartiles), and for the compute-bound
 * ones the share of the run's ceiling.
 */
export function layerTable(result, ceiling) {
  const rows = [["layer (N = 64)", "ms/call", "spread", "rate", "unit", "yardstick", "share", "q1-q3", "of ceiling", "note"]];
  for (const c of result.cases) {
    const unit = c.bound === "compute" ? "GFLOPS" : "GB/s";
    if (c.kernel.unavailable) {
      rows.push([c.label, "n/a", "", "", "", "", "", "", "", c.kernel.unavailable]);
      continue;
    }
    const yard = c.bound === "compute" ? `ceiling probe ${fmt(c.probeRate)}` : `triad ${fmt(c.probeRate)} GB/s`;
    rows.push([
      c.label,
      fmt(c.ms),
      pct(timeStats(c.kernel).spread),
      fmt(c.rate),
      unit,
      yard,
      pct(c.share.median),
      `${pct(c.share.q1)}-${pct(c.share.q3)}`,
      c.ofCeiling === null ? "" : pct(c.ofCeiling),
      c.kernel.note ?? "",
    ]);
  }
  return `${table(rows)}\nceiling (this run, best sample): ${ceiling ? `${fmt(ceiling)} GFLOPS` : "not measured"}`;
}

/** The `overhead` section: each group's entries (µs), its derived differences and sums. */
export function overheadTables(result) {
  const out = [];
  for (const g of result.groups) {
    const rows = [[g.title, "µs median", "best", "spread"]];
    for (const { name, result: r } of g.rows) {
      if (r.unavailable) rows.push([`  ${name}`, "n/a", "", r.unavailable]);
      else rows.push([`  ${name}`, fmt(timeStats(r).median * 1e6), fmt(timeStats(r).min * 1e6), pct(timeStats(r).spread)]);
    }
    for (const [label, d] of g.derived ?? []) rows.push([`  = ${label}`, d ? fmt(d.median) : "n/a", "", d ? `q1-q3 ${fmt(d.q1)} to ${fmt(d.q3)}` : ""]);
    for (const [label, v] of g.sums ?? []) rows.push([`  Σ ${label}`, fmt(v), "", ""]);
    out.push(table(rows));
  }
  return out.join("\n\n");
}

export function ceilingTable(ceiling) {
  const rows = [["f32x4 mul+add chains", "median GFLOPS", "best", "spread"]];
  for (const p of ceiling.probes) rows.push([String(p.chains), fmt(p.gflops), fmt(p.best), pct(p.spread)]);
  return table(rows);
}

export function startupTable(startup) {
  const rows = [["contender", "init ms", "import ms", "ready ms", "spread", "tensorlane x (ready)", "note"]];
  const tl = startup[TL]?.ready?.median;
  for (const [name, r] of Object.entries(startup)) {
    if (r.unavailable) rows.push([name, "n/a", "", "", "", "", r.unavailable]);
    else {
      const ratio = name !== TL && tl ? `${fmt(r.ready.median / tl)}x` : "";
      rows.push([name, fmt(r.init.median), fmt(r.import.median), fmt(r.ready.median), pct(r.ready.spread), ratio, ""]);
    }
  }
  return table(rows);
}

export function bundleTable(bundle) {
  const rows = [["contender", "raw KB", "gzip KB", "peer/tensorlane (gzip)", "files"]];
  const tl = bundle[TL]?.gzip;
  for (const [name, r] of Object.entries(bundle)) {
    if (r.unavailable) rows.push([name, "n/a", "", "", r.unavailable]);
    else
      rows.push([
        name,
        fmt(r.raw / 1000),
        fmt(r.gzip / 1000),
        name !== TL && tl ? `${fmt(r.gzip / tl)}x` : "",
        r.files.map((f) => f.file.split("/").pop()).join(" + "),
      ]);
  }
  return table(rows);
}

/** Each of issue 7's targets: measured ratio, and met / missed / n/a. */
export function checkTargets(cases, ceiling, bundle) {
  return TARGETS.map((t) => {
    let measured = null;
    let want;
    if (t.caseId === "bundle-gzip") {
      want = `tfjs-wasm gzip / tensorlane gzip >= ${t.ratio}`;
      if (bundle[TL]?.gzip && bundle[t.peer]?.gzip) measured = bundle[t.peer].gzip / bundle[TL].gzip;
    } else {
      const c = cases.find((x) => x.id === t.caseId);
      const tl = c ? value(c.results[TL], c) : null;
      if (t.ceilingFraction) {
        want = `${c?.label ?? t.caseId}: tensorlane >= ${t.ceilingFraction} of ceiling`;
        if (tl !== null && ceiling) measured = tl / ceiling;
      } else {
        want = `${c?.label ?? t.caseId}: tensorlane / ${t.peer} >= ${t.ratio}`;
        const peer = c ? value(c.results[t.peer], c) : null;
        if (tl !== null && peer !== null) measured = tl / peer;
      }
    }
    const goal = t.ceilingFraction ?? t.ratio;
    return { ...t, want, measured, status: measured === null ? "n/a" : measured >= goal ? "met" : "missed" };
  });
}

export function targetTable(targets) {
  const rows = [["target", "measured", "status"]];
  for (const t of targets) rows.push([t.want, fmt(t.measured), t.status]);
  return table(rows);
}
