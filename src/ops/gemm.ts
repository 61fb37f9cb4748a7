// Host side of the GEMM kernels: picks the variant, splits C into blocks of whole rows or whole
// columns (never k: every element's sum stays in one task, so the bits do not depend on the
// split), and gives each thread its own packing scratch (threadScratch). Row splits are balanced
// (gemmRowChunks: op(B) packed once, row blocks taken by whichever thread is free); column splits
// are one static block per thread. Fewer than 4 rows (batch 1-3) take the GEMV kernels, which give
// every row the bits the 4-row microkernel gives it. Both dtypes take the same path
// (assembly/gemm.ts is one source over the element type; the float64 module has the same entry points).
import { realKernels } from "../core/runtime.js";
import { runChunks, runTasks, threadScratch, type KernelName } from "../core/threads/dispatch.js";
import { MIN_MACS_PER_TASK } from "../core/threads/thresholds.js";
import { sharedScratch } from "./scratch.js";
import { guidedRanges, splitRange, taskCount } from "./split.js";
import { bytesPerElement, type DType } from "../core/dtype.js";

export type GemmVariant = "nn" | "tn" | "nt";

export interface GemmOptions {
  /** Pointer to n elements added to every row of C (0 or omitted: none). */
  bias?: number;
  /** Add the product to C instead of overwriting it. */
  accumulate?: boolean;
  /** Element type of A, B, C and bias. */
  dtype: DType;
  /** Store max(C, 0) (the fused Linear + ReLU): the bits of gemm followed by relu. */
  relu?: boolean;
  /** op(B) already packed by gemm_pack_b (see packed-weights.ts): b is not read. "nn" and "nt" only. */
  packedB?: number;
}

/** The kernels' `act` argument (assembly/gemm.ts): 0 none, 1 ReLU. */
const ACT_RELU = 1;

/** The microkernel's tile (assembly/gemm.ts MR x NR): split boundaries fall on whole tiles. */
const MR = 4;
/** NR: two v128 of the dtype per tile row, 8 float32 or 4 float64 columns. */
export function tileCols(dtype: DType): number {
  return 32 / bytesPerElement(dtype);
}

const RANGE_KERNEL: Record<GemmVariant, KernelName> = { nn: "gemm_nn_range", tn: "gemm_tn_range", nt: "gemm_nt_range" };
/** Name of the buffer op(B) is packed into once per call, shared by the threads. */
const PACKED_B = "gemm packed B";
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
  const byRows = rowsPreferred ? rowsFit || (!colsFit && m >= n / 2) : !colsFit && (rowsFit || m >= n / 2);
  if (byRows) return splitRange(m, tasks, MR).map(([i0, i1]) => [i0, i1, 0, n]);
  return splitRange(n, tasks, NR).map(([j0, j1]) => [0, m, j0, j1]);
}

/**
 * C(m,n) (+)= op(A) · op(B) (+ bias) on raw pointers into wasm memory, where
 * "nn": A(m,k)·B(k,n); "tn": A(k,m)ᵀ·B(k,n); "nt": A(m,k)·B(n,k)ᵀ. The caller checks shapes.
 * Split over threadCount() tasks when the product is large enough (MIN_MACS_PER_TASK).
 */
export function gemm(variant: GemmVariant, c: number, a: number, b: number, m: number, n: number, k: number, options: GemmOptions): void {
  if (m < MR && variant !== "tn") {
    gemv(variant, c, a, b, m, n, k, options);
    return;
  }
  const tiles = Math.ceil(m / MR) * Math.ceil(n / tileCols(options.dtype));
  const tasks = taskCount(m * n * k, MIN_MACS_PER_TASK, tiles);
  const packed = options.packedB ?? 0;
  if (packed !== 0 && variant !== "tn") {
    // Weights packed beforehand: rows over them, whatever the variant packed ("nt" packs Bᵀ to the same panels).
    if (tasks > 1) gemmRowChunks(variant, c, a, b, m, n, k, options, tasks);
    else {
      const work = threadScratch(realKernels(options.dtype).gemm_work_bytes(m, n, k))[0];
      realKernels(options.dtype).gemm_nn_rows_packed(c, a, packed, m, n, k, options.bias ?? 0, options.accumulate === true, work, 0, m, act(options));
    }
    return;
  }
  const blocks = gemmBlocks(variant, m, n, tasks, options.dtype);
  if (blocks.length > 1 && variant !== "nt" && blocks[0][3] === n) gemmRowChunks(variant, c, a, b, m, n, k, options, blocks.length);
  else gemmSplit(variant, c, a, b, m, n, k, options, blocks);
}

function act(options: GemmOptions): number {
  return options.relu === true ? ACT_RELU : 0;
}

/**
 * m < 4 rows, one at a time (gemv_nn_range: B read in place; gemv_packed_range: op(B) packed, by
 * the caller once per weight version or here for "nt"), split by columns (NR-aligned) when large:
 * the same bits as the 4-row microkernel for any split.
 */
function gemv(variant: "nn" | "nt", c: number, a: number, b: number, m: number, n: number, k: number, options: GemmOptions): void {
  const { dtype } = options;
  const K = realKernels(dtype);
  const bias = options.bias ?? 0;
  const accumulate = options.accumulate === true;
  const NR = tileCols(dtype);
  const tasks = taskCount(m * n * k, MIN_MACS_PER_TASK, Math.ceil(n / NR));
  let packed = options.packedB ?? 0;
  if (packed === 0 && variant === "nt") {
    // Bᵀ read in place would need a transpose per k step: pack it (as the 4-row path would) and stream it.
    packed = sharedScratch(PACKED_B, K.gemm_packed_b_bytes(n, k));
    packB(dtype, packed, b, n, k, true, tasks);
  }
  if (tasks === 1) {
    if (packed !== 0) K.gemv_packed_range(c, a, packed, m, n, k, bias, accumulate, act(options), 0, n);
    else K.gemv_nn_range(c, a, b, m, n, k, bias, accumulate, act(options), 0, n);
    return;
  }
  const flag = accumulate ? 1 : 0;
  runTasks(
    dtype,
    packed !== 0 ? "gemv_packed_range" : "gemv_nn_range",
    splitRange(n, tasks, NR).map(([j0, j1]) => [c, a, packed !== 0 ? packed : b, m, n, k, bias, flag, act(options), j0, j1]),
  );
}

/** Packs op(B) (B (k, n), or stored (n, k) when transposed) into `packed` (gemm_packed_b_bytes), over up to `threads` threads. */
export function packB(dtype: DType, packed: number, b: number, n: number, k: number, transposed: boolean, threads: number): void {
  const K = realKernels(dtype);
  const blocks = K.gemm_pack_b_blocks(n, k);
  if (threads <= 1 || blocks <= 1) K.gemm_pack_b(packed, b, n, k, transposed, 0, blocks);
  else runChunks(dtype, "gemm_pack_b", [packed, b, n, k, transposed ? 1 : 0, 0, 0], 5, splitRange(blocks, Math.min(blocks, 4 * threads)), threads);
}

/**
 * A row split with load balancing ("nn", "tn"; "nt" with op(B) prepacked): the threads first pack op(B) once, together, into
 * a shared buffer, then take small blocks of rows (chunkRows) from a shared counter until none is
 * left. A thread slowed by something else on its core takes fewer blocks instead of holding up
 * the call, and no task repacks op(B). Same bits as any other split (see gemmBlocks).
 */
export function gemmRowChunks(
  variant: GemmVariant,
  c: number,
  a: number,
  b: number,
  m: number,
  n: number,
  k: number,
  options: GemmOptions,
  threads: number,
): void {
  const { dtype } = options;
  const K = realKernels(dtype);
  const bias = options.bias ?? 0;
  const accumulate = options.accumulate === true ? 1 : 0;
  let packed = options.packedB ?? 0;
  if (packed === 0) {
    packed = sharedScratch(PACKED_B, K.gemm_packed_b_bytes(n, k));
    packB(dtype, packed, b, n, k, variant === "nt", threads);
  }
  // Every block streams all of packed op(B) (which need not fit in a core's L2): guided blocks
  // read it rarely while large and even out threads of different speeds once small.
  const ranges = guidedRanges(m, threads, chunkRows(n, k), MR);
  const work = threadScratch(K.gemm_work_bytes(ranges[0][1] - ranges[0][0], n, k)); // the first range is the largest
  // A prepacked "nt" operand is op(B) itself: the "nn" rows kernel reads it.
  const kernel = variant === "tn" ? ROWS_PACKED_KERNEL.tn : ROWS_PACKED_KERNEL.nn;
  runChunks(dtype, kernel, [c, a, packed, m, n, k, bias, accumulate, 0, 0, 0, act(options)], 9, ranges, threads, 8, work);
}

/** Multiply-adds in one block of rows of a balanced row split: a few dispatch costs' worth (~25 µs). */
const MACS_PER_CHUNK = 1 << 19;

/** The fewest rows in a block of gemmRowChunks: whole micro-panels, about MACS_PER_CHUNK. */
export function chunkRows(n: number, k: number): number {
  return Math.max(MR, Math.ceil(MACS_PER_CHUNK / (MR * n * Math.max(k, 1))) * MR);
}

/** gemm with an explicit plan (tests use it to try any cut). Blocks must tile C exactly once. */
export function gemmSplit(
  variant: GemmVariant,
  c: number,
  a: number,
  b: number,
  m: number,
  n: number,
  k: number,
  options: GemmOptions,
  blocks: GemmBlocks,
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
    blocks.map(([i0, i1, j0, j1], t) => [c, a, b, m, n, k, bias, accumulate, work[t], i0, i1, j0, j1, act(options)]),
  );
}
