// Host side of the depthwise convolution (assembly/depthwise.ts), split over threads with the same
// bits for any count:
//   forward:  by planes (n, c): each output plane is its own sum, taken in ranges by whichever
//             thread is free (runChunks), each thread framing its planes in its own scratch;
//   backward: dx by images; dw and db (sums over the batch) in chunks of G images fixed by the
//             sizes alone (depthwiseChunkImages), each chunk's sums in its own slice of a partial
//             buffer, then added in chunk order (depthwise_sum_chunks, split by elements).
// Both dtypes take the same path (the float64 module has the same kernels).
import { bytesPerElement, type DType } from "../core/dtype.js";
import { CONV_KERNELS, useFamily } from "../core/kernel-families.js";
import { realKernels } from "../core/runtime.js";
import { runChunks, runTasks, threadScratch } from "../core/threads/dispatch.js";
import { MIN_DEPTHWISE_MACS_PER_TASK, MIN_ELEMENTS_PER_TASK } from "../core/threads/thresholds.js";
import { sharedScratch } from "./scratch.js";
import { guidedRanges, splitRange, taskCount } from "./split.js";
import { checkWindowSizes } from "./window.js";

/**
 * Sizes of a depthwise conv, PyTorch's nn.Conv2d(C, C, (kh, kw), stride=(sh, sw),
 * padding=(ph, pw), groups=C): x (N, C, H, W), weight (C, 1, kh, kw), bias (C), out (N, C, Ho, Wo).
 */
export interface DepthwiseSizes {
  N: number;
  C: number;
  H: number;
  W: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  Ho: number;
  Wo: number;
}

/**
 * The sizes of a depthwise conv of x (N, C, H, W) with a (kh, kw) kernel, stride and padding per
 * axis; Ho = floor((H + 2ph - kh) / sh) + 1, Wo likewise. Throws a RangeError naming `fn` when a
 * size is not a positive integer (padding: non-negative) or the window does not fit.
 */
export function depthwiseSizes(
  fn: string,
  N: number,
  C: number,
  H: number,
  W: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  ph: number,
  pw: number,
): DepthwiseSizes {
  checkWindowSizes(fn, N, C, H, W, kh, kw, sh, sw, ph, pw);
  if (H + 2 * ph < kh || W + 2 * pw < kw) {
    throw new RangeError(`${fn}: the ${kh}x${kw} kernel does not fit the ${H}x${W} input with padding ${ph}, ${pw}`);
  }
  return { N, C, H, W, kh, kw, sh, sw, ph, pw, Ho: Math.floor((H + 2 * ph - kh) / sh) + 1, Wo: Math.floor((W + 2 * pw - kw) / sw) + 1 };
}

// These two decide the chunking, hence the bits of dw and db (never the thread count): changing
// them changes results. As the conv's: 32 chunks keep 2..16 threads busy; the cap bounds the
// partial buffer.
/** Most chunks a depthwise backward cuts its batch into. */
export const DEPTHWISE_MAX_CHUNKS = 32;
/** Most reals of partial sums (chunks x (C·K + C)). */
export const DEPTHWISE_MAX_PARTIAL_REALS = 1 << 22;

/** Images per chunk of the depthwise backward: depends on N, C and K = kh·kw only. */
export function depthwiseChunkImages(N: number, C: number, K: number): number {
  const maxChunks = Math.max(1, Math.min(DEPTHWISE_MAX_CHUNKS, Math.floor(DEPTHWISE_MAX_PARTIAL_REALS / (C * K + C))));
  return Math.max(1, Math.ceil(N / maxChunks));
}

function workBytes(s: DepthwiseSizes, dtype: DType): number {
  return realKernels(dtype).depthwise_work_bytes(s.H, s.W, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.Ho, s.Wo);
}

/**
 * out (N, C, Ho, Wo) = depthwise conv of x (N, C, H, W) with w (C, 1, kh, kw) plus b (C); b = 0:
 * no bias. out must not be x. Pointers into wasm memory, sizes from depthwiseSizes.
 */
export function depthwiseForward(out: number, x: number, w: number, b: number, s: DepthwiseSizes, dtype: DType): void {
  useFamily(CONV_KERNELS);
  const planes = s.N * s.C;
  const tasks = taskCount(planes * s.Ho * s.Wo * s.kh * s.kw, MIN_DEPTHWISE_MACS_PER_TASK, planes);
  const work = threadScratch(workBytes(s, dtype));
  runChunks(
    dtype,
    "depthwise_forward",
    [out, x, w, b, s.C, s.H, s.W, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.Ho, s.Wo, 0, 0, 0],
    15,
    guidedRanges(planes, tasks),
    tasks,
    17,
    work,
  );
}

/**
 * The depthwise conv's gradients from dout (N, C, Ho, Wo) and what the forward read: x (N, C, H, W)
 * and w (C, 1, kh, kw). Overwrites dw (C, 1, kh, kw) and db (C) with the sums over the batch, and dx
 * (N, C, H, W) with the input gradient. dx = 0 skips dx (a first layer); db = 0 skips db (no bias).
 */
export function depthwiseBackward(dx: number, dw: number, db: number, dout: number, x: number, w: number, s: DepthwiseSizes, dtype: DType): void {
  useFamily(CONV_KERNELS);
  const B = bytesPerElement(dtype);
  const K = s.kh * s.kw;
  const G = depthwiseChunkImages(s.N, s.C, K);
  const chunks = Math.ceil(s.N / G);
  const slice = s.C * K + s.C;
  const partials = sharedScratch("depthwise backward partials", chunks * slice * B);
  const work = threadScratch(workBytes(s, dtype));
  const tasks = taskCount(s.N * s.C * s.Ho * s.Wo * K * (dx ? 2 : 1), MIN_DEPTHWISE_MACS_PER_TASK, chunks);
  runChunks(
    dtype,
    "depthwise_backward_chunks",
    [dx, partials, dout, x, w, s.N, s.C, s.H, s.W, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.Ho, s.Wo, G, 0, 0, 0],
    18,
    guidedRanges(chunks, tasks),
    tasks,
    20,
    work,
  );
  sumChunks(dtype, dw, partials, chunks, slice, s.C * K);
  if (db) sumChunks(dtype, db, partials + s.C * K * B, chunks, slice, s.C);
}

/** dst[e] = Σ_q src[q·stride + e] in chunk order for e in [0, len), split by elements (each element's sum is one task's). */
function sumChunks(dtype: DType, dst: number, src: number, chunks: number, stride: number, len: number): void {
  const tasks = taskCount(len * chunks, MIN_ELEMENTS_PER_TASK, Math.ceil(len / 4));
  runTasks(
    dtype,
    "depthwise_sum_chunks",
    splitRange(len, tasks, 4).map(([e0, e1]) => [dst, src, chunks, stride, e0, e1]),
  );
}
