// Planning helpers shared by the split ops: how many tasks, and which contiguous ranges.
import { threadCount } from "../core/threads/dispatch.js";
import { thresholdsIgnored } from "../core/threads/thresholds.js";

/**
 * Tasks for `work` units when one task should have at least `minPerTask` of them: between 1 and
 * threadCount(), and at most `maxTasks` (e.g. the number of rows that can be split).
 */
export function taskCount(work: number, minPerTask: number, maxTasks: number): number {
  const byWork = thresholdsIgnored() ? Infinity : Math.floor(work / minPerTask);
  return Math.max(1, Math.min(threadCount(), maxTasks, byWork));
}

/**
 * [start, end) ranges covering [0, n) in `tasks` contiguous, non-empty pieces (fewer when n is
 * small), every boundary but n a multiple of `align`, sizes as even as the alignment allows.
 * n = 0 gives one empty range (so a caller always has a task to run).
 */
export function splitRange(n: number, tasks: number, align = 1): [number, number][] {
  const units = Math.ceil(n / align);
  const parts = Math.max(1, Math.min(tasks, units));
  const out: [number, number][] = [];
  let start = 0;
  for (let t = 0; t < parts; t++) {
    const endUnits = Math.floor(((t + 1) * units) / parts);
    const end = Math.min(n, endUnits * align);
    out.push([start, end]);
    start = end;
  }
  return out;
}

/** Most ranges guidedRanges gives (the worker pool's range table holds 256). */
export const MAX_GUIDED_RANGES = 128;

/**
 * Ranges for threads that take them from a shared counter (runChunks), by guided self-scheduling:
 * each range holds about 1 / (2 threads) of the units still left, at least `minUnits` and at least
 * n / MAX_GUIDED_RANGES, so the first ranges are large (little per-range cost) and the last ones
 * small (a thread that ran slower takes fewer of them). Boundaries but n fall on multiples of
 * `align`; the sizes never grow.
 */
export function guidedRanges(n: number, threads: number, minUnits = 1, align = 1): [number, number][] {
  const least = Math.max(align, Math.ceil(Math.max(minUnits, n / MAX_GUIDED_RANGES) / align) * align);
  const out: [number, number][] = [];
  for (let i0 = 0; i0 < n; ) {
    const size = Math.max(least, Math.ceil((n - i0) / (2 * threads) / align) * align);
    const i1 = Math.min(n, i0 + size);
    out.push([i0, i1]);
    i0 = i1;
  }
  return out;
}
