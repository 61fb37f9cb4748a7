// Host side of the column sums (the bias gradients of linear layers): split by columns, each
// column summed over all rows in order by one task, so any split gives the same bits.
import { runTasks } from "../threads/dispatch.js";
import { MIN_ELEMENTS_PER_TASK } from "../threads/thresholds.js";
import { splitRange, taskCount } from "./split.js";

/** y (cols) (+)= Σ_rows x (rows, cols). */
export function sumRows(y: number, x: number, rows: number, cols: number, accumulate = false): void {
  const ranges = splitRange(cols, taskCount(rows * cols, MIN_ELEMENTS_PER_TASK, Math.ceil(cols / 4)), 4);
  runTasks("f32_sum_rows_range", ranges.map(([j0, j1]) => [y, x, rows, cols, accumulate ? 1 : 0, j0, j1]));
}
