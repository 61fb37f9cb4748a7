// Host side of the GEMM kernels: picks the variant, splits C into blocks of whole rows or whole
// columns (never k: every element's sum stays in one task, so the bits do not depend on the
// split), and gives each thread its own packing scratch (threadScratch). Row splits are balanced
// (gemmRowChunks: op(B) packed once, row blocks taken by whichever thread is free); column splits
// are one static block per thread. Both dtypes take the same path (assembly/gemm.ts is one source
// over the element type; the float64 module has the same entry points).
import { realKernels } from "../runtime.js";
import { runChunks, runTasks, threadScratch, type KernelName } from "../threads/dispatch.js";
import { MIN_MACS_PER_TASK } from "../threads/thresholds.js";
import { sharedScratch } from "./scratch.js";
import { guidedRanges, splitRange, taskCount } from "./split.js";
import { bytesPerElement, type DType } from "../dtype.js";

export type GemmVariant = "nn" | "tn" | "nt";

export interface GemmOptions {
  /** Pointer to n elements added to every row of C (0 or omitted: none). */
  bias?: number;
  /** Add the product to C instead of overwriting it. */
  accumulate?: boolean;
  /** Element type of A, B, C and bias. */
  dtype: DType;
}

/** The microkernel's tile (assembly/gemm.ts MR x NR): split boundaries fall on whole tiles. */
const MR = 4;
/** NR: two v128 of the dtype per tile row, 8 float32 or 4 float64 columns. */
export function tileCols(dtype: DType): number {
  return 32 / bytesPerElement(dtype);
}

const RANGE_KERNEL: Record<GemmVariant, KernelName> = { nn: "gemm_nn_range", tn: "gemm_tn_range", nt: "gemm_nt_range" };
const ROWS_PACKED_KERNEL: Record<"nn" | "tn", KernelName> = { nn: "gemm_nn_rows_packed", tn: "gemm_tn_rows_packed" };

/** A plan: blocks of C as [i0, i1, j0, j1]. */
export type GemmBlocks = [number, number, number, number][];

/**
 * How C(m,n) is cut for `tasks` tasks, by whole rows or whole columns. Either way one operand is
 * packed by every task: a row split repacks all of op(B) (k x n elements) in each task, a column
 * split repacks all of op(A), which "nn"/"nt" store splatted (m x k x L elements, L = 4 float32 or
 * 2 float64 per v128, written inside the first tile of each micro-panel). So "nn"/"nt" split rows
 * when L·m > n, columns otherwise; "tn" packs its own rows of Aᵀ a block at a time and splits rows.
 * Measured with 2 threads (this machine, microbenchmark of gemmSplit, float32): nn 100x100x3072 by
 * columns 1.71x, by rows 1.80x; nt 100x3072x100 by columns 1.92x, by rows 1.85x; tn 3072x100x100
 * by rows 1.98x. A split that leaves a task less than two tiles along its axis falls back to the
 * other axis. Any cut gives the same bits; dtype (default float32: its tiles are whole float64
 * tiles too) only moves the cut points onto that dtype's tiles.
 */
export function gemmBlocks(variant: GemmVariant, m: number, n: number, tasks: number, dtype: DType = "float32"): GemmBlocks {
  const NR = tileCols(dtype);
  const rowsPreferred = variant === "tn" || (16 / bytesPerElement(dtype)) * m > n;
  const rowsFit = m >= 2 * MR * tasks;
  const colsFit = n >= 2 * NR * tasks;
  const byRows = rowsPreferred ? rowsFit || !colsFit && m >= n / 2 : !colsFit && (rowsFit || m >= n / 2);
  if (byRows) return splitRange(m, tasks, MR).map(([i0, i1]) => [i0, i1, 0, n]);
  return splitRange(n, tasks, NR).map(([j0, j1]) => [0, m, j0, j1]);
}

/**
 * C(m,n) (+)= op(A) · op(B) (+ bias) on raw pointers into wasm memory, where
 * "nn": A(m,k)·B(k,n); "tn": A(k,m)ᵀ·B(k,n); "nt": A(m,k)·B(n,k)ᵀ. The caller checks shapes.
 * Split over threadCount() tasks when the product is large enough (MIN_MACS_PER_TASK).
 */
export function gemm(variant: GemmVariant, c: number, a: number, b: number, m: number, n: number, k: number, options: GemmOptions): void {
  const tiles = Math.ceil(m / MR) * Math.ceil(n / tileCols(options.dtype));
  const tasks = taskCount(m * n * k, MIN_MACS_PER_TASK, tiles);
  const blocks = gemmBlocks(variant, m, n, tasks, options.dtype);
  if (blocks.length > 1 && variant !== "nt" && blocks[0][3] === n) gemmRowChunks(variant, c, a, b, m, n, k, options, blocks.length);
  else gemmSplit(variant, c, a, b, m, n, k, options, blocks);
}

/**
 * A row split with load balancing ("nn", "tn"): the threads first pack op(B) once, together, into
 * a shared buffer, then take small blocks of rows (chunkRows) from a shared counter until none is
 * left. A thread slowed by something else on its core takes fewer blocks instead of holding up
 * the call, and no task repacks op(B). Same bits as any other split (see gemmBlocks).
 */
export function gemmRowChunks(
  variant: "nn" | "tn", c: number, a: number, b: number, m: number, n: number, k: number, options: GemmOptions, threads: number,
): void {
  const { dtype } = options;
  const K = realKernels(dtype);
  const bias = options.bias ?? 0;
  const accumulate = options.accumulate === true ? 1 : 0;
  const packed = sharedScratch("gemm packed B", K.gemm_packed_b_bytes(n, k));
  const packBlocks = K.gemm_pack_b_blocks(n, k);
  runChunks(dtype, "gemm_pack_b", [packed, b, n, k, 0, 0, 0], 5, splitRange(packBlocks, Math.min(packBlocks, 4 * threads)), threads);
  // Every block streams all of packed op(B) (which need not fit in a core's L2): guided blocks
  // read it rarely while large and even out threads of different speeds once small.
  const ranges = guidedRanges(m, threads, chunkRows(n, k), MR);
  const work = threadScratch(K.gemm_work_bytes(ranges[0][1] - ranges[0][0], n, k)); // the first range is the largest
  runChunks(dtype, ROWS_PACKED_KERNEL[variant], [c, a, packed, m, n, k, bias, accumulate, 0, 0, 0], 9, ranges, threads, 8, work);
}

/** Multiply-adds in one block of rows of a balanced row split: a few dispatch costs' worth (~25 µs). */
const MACS_PER_CHUNK = 1 << 19;

/** The fewest rows in a block of gemmRowChunks: whole micro-panels, about MACS_PER_CHUNK. */
export function chunkRows(n: number, k: number): number {
  return Math.max(MR, Math.ceil(MACS_PER_CHUNK / (MR * n * Math.max(k, 1))) * MR);
}

/** gemm with an explicit plan (tests use it to try any cut). Blocks must tile C exactly once. */
export function gemmSplit(
  variant: GemmVariant, c: number, a: number, b: number, m: number, n: number, k: number, options: GemmOptions, blocks: GemmBlocks,
): void {
  const bias = options.bias ?? 0;
  const accumulate = options.accumulate === true ? 1 : 0;
  let rows = 0;
  let cols = 0;
  for (const [i0, i1, j0, j1] of blocks) {
    rows = Math.max(rows, i1 - i0);
    cols = Math.max(cols, j1 - j0);
  }
  const work = threadScratch(realKernels(options.dtype).gemm_work_bytes(rows, cols, k));
  runTasks(
    options.dtype,
    RANGE_KERNEL[variant],
    blocks.map(([i0, i1, j0, j1], t) => [c, a, b, m, n, k, bias, accumulate, work[t], i0, i1, j0, j1]),
  );
}
