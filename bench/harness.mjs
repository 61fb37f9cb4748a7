// Timing: warm-up, calibration, round-robin sampling across contenders, medians and spread.
// Everything runs in this one process so that every contender sees the same machine state.

/** Median of a numeric array (not modified). */
export function median(xs) {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile, q in [0, 1]. */
export function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Summary of per-step times in seconds: median, min, max, and the spread as relative IQR. */
export function summarize(times) {
  const med = median(times);
  return {
    median: med,
    min: Math.min(...times),
    max: Math.max(...times),
    // (q3 - q1) / median: how much the middle half of the samples disagree.
    spread: med > 0 ? (quantile(times, 0.75) - quantile(times, 0.25)) / med : NaN,
    samples: times.length,
  };
}

/** A reason a contender cannot run a case; shown in the table instead of a figure. */
export class Unavailable extends Error {
  constructor(reason) {
    super(reason);
    this.name = "Unavailable";
  }
}

/** The profile a paired section uses for a run's profile name: "paired" in a full run. */
export function pairedProfile(name) {
  return name === "full" ? PROFILES.paired : PROFILES[name];
}

export const PROFILES = {
  // warmup: seconds of untimed steps (at least minWarmupSteps); sample: target seconds per
  // timed sample (at least one step); reps: timed samples per contender per case.
  full: { warmup: 0.3, minWarmupSteps: 2, sample: 0.1, reps: 7 },
  quick: { warmup: 0.03, minWarmupSteps: 1, sample: 0.01, reps: 3 },
  // The full run of the sections that read ratios or differences of paired samples (infer,
  // layers, overhead): more and shorter rounds, so both samples of a pair are taken closer in
  // time on a busy machine.
  paired: { warmup: 0.3, minWarmupSteps: 2, sample: 0.04, reps: 15 },
  // The tests' run: every case through once or twice, no figure worth reading.
  smoke: { warmup: 0, minWarmupSteps: 1, sample: 0.001, reps: 2 },
};

// Wall-clock time is the figure; the process's CPU time is kept beside it because on a shared
// machine another process can take the core mid-sample, which wall-clock counts and CPU time
// does not (CPU time also counts V8's helper threads, e.g. concurrent GC).
// A runner with `async: true` has a step that returns a promise (ONNX Runtime's session.run):
// each step is awaited, as its user must.
async function timeSteps(runner, steps) {
  if (runner.enter) await runner.enter();
  let last;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  if (runner.async) for (let i = 0; i < steps; i++) last = await runner.step();
  else for (let i = 0; i < steps; i++) last = runner.step();
  const t1 = performance.now();
  const c = process.cpuUsage(c0);
  return { seconds: (t1 - t0) / 1000 / steps, cpuSeconds: (c.user + c.system) / 1e6 / steps, last };
}

/**
 * Runs one case for every contender, interleaved: each repetition takes one sample from every
 * contender, starting with a different one each time so that none always runs first.
 * entries: [{ name, runner | null, unavailable?: string }]; a runner is
 *   { step(): number | void | Promise, async?: boolean, enter?(): Promise<void>, dispose?(): void,
 *     work?, note?, warmupSteps?, reps? }   (overrides for contenders that must do less)
 * step() may return a loss, recorded first and last as a sanity check.
 * Returns a map name -> { stats, cpuStats, times, cpuTimes, stepsPerSample, lossFirst, lossLast, work?, note? }
 * or { unavailable }; times / cpuTimes are the per-step seconds of each sample in round order, so
 * sample r of two contenders of one case were taken in the same round (paired ratios).
 */
export async function runInterleaved(entries, profile, log = () => {}) {
  const results = new Map();
  const live = [];
  for (const e of entries) {
    if (!e.runner) {
      results.set(e.name, { unavailable: e.unavailable ?? "not available" });
      continue;
    }
    try {
      // Warm-up doubles as calibration: the last warm-up step sets the steps per sample.
      let spent = 0;
      let steps = 0;
      let perStep = 0;
      let lossFirst;
      let lossLast;
      while (steps < (e.runner.warmupSteps ?? profile.minWarmupSteps) || spent < profile.warmup) {
        const { seconds, last } = await timeSteps(e.runner, 1);
        if (steps === 0) lossFirst = last;
        lossLast = last;
        spent += seconds;
        perStep = seconds;
        steps++;
      }
      const stepsPerSample = Math.max(1, Math.round(profile.sample / Math.max(perStep, 1e-9)));
      live.push({ e, stepsPerSample, reps: Math.min(profile.reps, e.runner.reps ?? Infinity), times: [], cpuTimes: [], lossFirst, lossLast });
    } catch (error) {
      results.set(e.name, { unavailable: reasonOf(error) });
      e.runner.dispose?.();
    }
  }
  for (let rep = 0; rep < profile.reps; rep++) {
    for (let j = 0; j < live.length; j++) {
      const item = live[(rep + j) % live.length];
      if (item.failed || item.times.length >= item.reps) continue;
      try {
        const { seconds, cpuSeconds, last } = await timeSteps(item.e.runner, item.stepsPerSample);
        item.times.push(seconds);
        item.cpuTimes.push(cpuSeconds);
        if (last !== undefined) item.lossLast = last;
      } catch (error) {
        item.failed = reasonOf(error);
      }
    }
    log(rep);
  }
  for (const item of live) {
    const extra = item.e.runner.summary?.();
    item.e.runner.dispose?.();
    if (item.failed) results.set(item.e.name, { unavailable: `failed while timing: ${item.failed}` });
    else
      results.set(item.e.name, {
        stats: summarize(item.times),
        cpuStats: summarize(item.cpuTimes),
        times: item.times,
        cpuTimes: item.cpuTimes,
        stepsPerSample: item.stepsPerSample,
        lossFirst: finiteOrUndefined(item.lossFirst),
        lossLast: finiteOrUndefined(item.lossLast),
        work: item.e.runner.work,
        note: [item.e.runner.note, extra].filter(Boolean).join("; ") || undefined,
      });
  }
  return results;
}

function finiteOrUndefined(x) {
  return typeof x === "number" ? x : undefined;
}

function reasonOf(error) {
  if (error instanceof Unavailable) return error.message;
  const msg = error instanceof Error ? error.message : String(error);
  return `error: ${msg.split("\n")[0].slice(0, 160)}`;
}

/** Deterministic float data for inputs (mulberry32): the bench's inputs, not the library's math. */
export function seededRandom(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32Array of n values uniform in [-scale, scale). */
export function randomArray(n, seed, scale = 1) {
  const rnd = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rnd() * 2 - 1) * scale;
  return out;
}

/** Int32Array of n labels in [0, classes). */
export function randomLabels(n, classes, seed) {
  const rnd = seededRandom(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * classes);
  return out;
}
