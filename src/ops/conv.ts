// Host side of the convolution kernels, split over threads with the same bits for any count.
//   forward:  the weights packed once (shared), then image ranges (each image's outputs are
//             independent sums) that threads take as they come free (runChunks), each thread
//             with its own scratch for the padded images and pixel panels; a batch of one image
//             by ranges of its pixel blocks instead (conv_forward_blocks: each output's sum stays
//             in one task);
//   backward: dx by images; dw and db (sums over all images) in chunks of G images fixed by the
//             sizes alone, each chunk's partial sums in its own slice, then added in chunk order
//             (assembly/conv.ts, "Backward in chunks"). Threads take the chunks as they come free;
//             one thread runs the same chunks.
// Both dtypes take this path (assembly/conv.ts is one source over the element type): the dtype
// picks the kernel module, and byte sizes come from bytesPerElement.
import { bytesPerElement, type DType } from "../core/dtype.js";
import { CONV_KERNELS, useFamily } from "../core/kernel-families.js";
import { realKernels } from "../core/runtime.js";
import { runChunks, runTasks, threadCount, threadScratch } from "../core/threads/dispatch.js";
import { MIN_CONV_PIXEL_MACS_PER_TASK, MIN_ELEMENTS_PER_TASK, MIN_MACS_PER_TASK } from "../core/threads/thresholds.js";
import { sharedScratch } from "./scratch.js";
import { guidedRanges, splitRange, taskCount } from "./split.js";

/** Sizes of a conv pass (as layers/conv.ts's ConvDims). */
export interface ConvSizes {
  N: number;
  C: number;
  H: number;
  W: number;
  F: number;
  HH: number;
  WW: number;
  stride: number;
  pad: number;
  Ho: number;
  Wo: number;
  K: number;
  P: number;
}

// These two decide the chunking, hence the bits of dw and db (never the thread count or the
// dtype): changing them changes results. 32 chunks keep 2..16 threads busy (N = 50 gives 25
// chunks of 2 images); the cap keeps the partial buffer at most 16 MiB (float32; 32 MiB float64).
/** Most chunks a conv backward cuts its batch into. */
export const CONV_MAX_CHUNKS = 32;
/** Most elements of partial sums (chunks x (F·K + F)). */
export const CONV_MAX_PARTIAL_FLOATS = 1 << 22;

/** Images per chunk of the conv backward: depends on N, F and K only. */
export function convChunkImages(N: number, F: number, K: number): number {
  const maxChunks = Math.max(1, Math.min(CONV_MAX_CHUNKS, Math.floor(CONV_MAX_PARTIAL_FLOATS / (F * K + F))));
  return Math.max(1, Math.ceil(N / maxChunks));
}

/**
 * out (N, F, Ho, Wo) = [relu](conv(x, w) + b); pointers into wasm memory, sizes trusted.
 * packed: w already packed by conv_forward_pack (packedConvWeights), or 0 to pack it here.
 * bn: 0, or a batch norm in test mode applied before the ReLU (conv_bn_table's 4·F reals).
 */
export function convForward(out: number, x: number, w: number, b: number, d: ConvSizes, relu: boolean, dtype: DType, packed = 0, bn = 0): void {
  useFamily(CONV_KERNELS);
  const k = realKernels(dtype);
  const { N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, K, P } = d;
  const tasks = taskCount(N * F * K * P, MIN_MACS_PER_TASK, N);
  if (N === 1 && threadCount() > 1) {
    // One image: by blocks of its pixels instead (conv_forward_blocks), when they are worth a split.
    const blocks = Math.ceil(P / (32 / bytesPerElement(dtype))); // blocks of 8 float32 / 4 float64 pixels (assembly/conv.ts's PX)
    const blockTasks = taskCount(F * K * P, MIN_CONV_PIXEL_MACS_PER_TASK, blocks);
    if (blockTasks > 1) {
      convForwardBlocks(out, x, w, b, d, relu, dtype, packed, bn, blocks, blockTasks);
      return;
    }
  }
  if (tasks === 1) {
    if (packed === 0 && bn === 0) {
      const work = threadScratch(k.conv_forward_work_bytes(F, C, H, W, HH, WW, stride, pad, Ho, Wo));
      k.conv_forward(out, x, w, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, work[0]);
      return;
    }
    const imagesBytes = k.conv_forward_images_work_bytes(C, H, W, HH, WW, stride, pad, Ho, Wo);
    const packBytes = packed === 0 ? align16(k.conv_forward_packed_reals(F, K) * bytesPerElement(dtype)) : 0;
    let work = threadScratch(packBytes + imagesBytes)[0];
    if (packed === 0) {
      packed = work;
      k.conv_forward_pack(packed, w, F, K);
      work += packBytes;
    }
    if (bn === 0) k.conv_forward_images(out, x, packed, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, work, 0, N);
    else k.conv_forward_images_bn(out, x, packed, b, bn, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu, work, 0, N);
    return;
  }
  // The weights packed once, read by every thread; image ranges taken by whichever thread is free.
  if (packed === 0) {
    packed = sharedScratch("conv forward weights", k.conv_forward_packed_reals(F, K) * bytesPerElement(dtype));
    k.conv_forward_pack(packed, w, F, K);
  }
  const work = threadScratch(k.conv_forward_images_work_bytes(C, H, W, HH, WW, stride, pad, Ho, Wo));
  if (bn === 0) {
    runChunks(
      dtype,
      "conv_forward_images",
      [out, x, packed, b, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu ? 1 : 0, 0, 0, 0],
      17,
      guidedRanges(N, tasks),
      tasks,
      16,
      work,
    );
  } else {
    runChunks(
      dtype,
      "conv_forward_images_bn",
      [out, x, packed, b, bn, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu ? 1 : 0, 0, 0, 0],
      18,
      guidedRanges(N, tasks),
      tasks,
      17,
      work,
    );
  }
}

/**
 * Whether a conv (or the conv that gives a conv's dx) runs by Winograd's F(2x2, 3x3)
 * (assembly/winograd.ts) instead of the direct tiles: 3x3, stride 1, and enough channels and 2x2
 * output tiles T per image that its 16 products per tile and channel (36 direct) outweigh its
 * transforms. Measured at batch 1, 1 thread (`node bench/winograd.mjs`, C = F unless said): 1.54x
 * at 8 channels and 1.67x at 16 on 28x28, 1.03x at 16 and 1.28x at 32 on 14x14, 1.70x at 64 on 7x7,
 * 1.26x at 32 and 1.30x at 128 on 4x4; 0.46x at C = 1 and 1.05x at C = 3. The products run 4
 * filters at a time, so F = 1 or 2 wastes half or more of them: with its dx by Winograd, the whole
 * backward of a 1-channel layer (32 filters, 28x28, N = 64; the dx conv has 1 filter) ran 0.69x as
 * fast, of a 3-channel one (16 filters, 32x32) 1.2x. Sizes only: the same choice, so the same bits,
 * for any thread count.
 */
export function winogradPays(d: ConvSizes): boolean {
  if (d.HH !== 3 || d.WW !== 3 || d.stride !== 1 || d.C < 8 || d.F < 3) return false;
  const T = Math.ceil(d.Ho / 2) * Math.ceil(d.Wo / 2);
  return T >= 64 || (T >= 4 && d.C * d.F >= 1024);
}

/**
 * out = [relu]([bn](conv(x, w) + b)) by F(2x2, 3x3) (b = 0: no bias): U is w transformed
 * (winogradConvWeights), or 0 to transform it here. Image ranges over threads, or a single
 * image's filters in groups of 4 (each task transforms the image itself: the same bits as one
 * call).
 */
export function convForwardWinograd(out: number, x: number, w: number, U: number, b: number, d: ConvSizes, relu: boolean, dtype: DType, bn = 0): void {
  useFamily(CONV_KERNELS);
  const k = realKernels(dtype);
  const { N, C, H, W, F, pad, K, P } = d;
  if (U === 0) {
    U = sharedScratch("conv winograd weights", k.conv3x3_winograd_packed_reals(F, C) * bytesPerElement(dtype));
    k.conv3x3_winograd_pack(U, w, F, C);
  }
  const work = threadScratch(k.conv3x3_winograd_work_bytes(C, H, W, F, pad));
  const args = [out, x, U, b, bn, N, C, H, W, F, pad, relu ? 1 : 0, 0, 0, N, 0, F];
  const byFilters = N === 1;
  const tasks = byFilters ? taskCount(F * K * P, MIN_CONV_PIXEL_MACS_PER_TASK, Math.ceil(F / 4)) : taskCount(N * F * K * P, MIN_MACS_PER_TASK, N);
  if (tasks === 1) {
    k.conv3x3_winograd(out, x, U, b, bn, N, C, H, W, F, pad, relu, work[0], 0, N, 0, F);
    return;
  }
  if (byFilters) runChunks(dtype, "conv3x3_winograd", args, 15, splitRange(F, tasks, 4), tasks, 12, work);
  else runChunks(dtype, "conv3x3_winograd", args, 13, guidedRanges(N, tasks), tasks, 12, work);
}

/**
 * dx (N, C, H, W) of a stride-1 3x3 conv with weights w (F, C, 3, 3) from dout (N, F, Ho, Wo), by
 * F(2x2, 3x3): dout convolved with w turned by 180 degrees (conv3x3_winograd_pack_flipped), no
 * bias. g: the sizes of that convolution (F channels -> C filters, padding 2 - pad).
 */
export function convInputGradientWinograd(dx: number, dout: number, w: number, g: ConvSizes, dtype: DType): void {
  useFamily(CONV_KERNELS);
  const k = realKernels(dtype);
  const U = sharedScratch("conv winograd dx weights", k.conv3x3_winograd_packed_reals(g.F, g.C) * bytesPerElement(dtype));
  k.conv3x3_winograd_pack_flipped(U, w, g.C, g.F);
  convForwardWinograd(dx, dout, 0, U, 0, g, false, dtype);
}

/**
 * Whether a conv's dw and db go by F(2x2, 3x3) (assembly/winograd-dw.ts) instead of the direct
 * chunked sums: 3x3, stride 1, at least 8 channels (its products run 4 channels at a time, and a
 * 1- or 3-channel conv's transforms outweigh them) and 4 filters. Measured (`node
 * bench/winograd.mjs --pass=dw --batch=128`, 1 thread, the chunks of a 128-image batch, direct /
 * Winograd, 2026-12-08): 1.69x at 16 channels on 28x28, 1.58x at 32 on 14x14, 1.20x at 64 on 7x7
 * (its 16 tiles cover 8x8 outputs), 1.68-1.85x at 16-128 on 4x4; 0.54x at C = 1 and 0.49x at
 * C = 3. Sizes only, so the same choice for any thread count.
 */
export function winogradWeightGradientPays(d: ConvSizes): boolean {
  return d.HH === 3 && d.WW === 3 && d.stride === 1 && d.C >= 8 && d.F >= 4;
}

/**
 * Images per chunk of the F(2x2, 3x3) dw: the direct backward's (convChunkImages), or more where
 * an image has few 2x2 output tiles, so that a chunk sums at least 64 tiles before its transform
 * back (a pass over 16·F·C values, which on a 4x4 map's 4 tiles per image took 40% as long as
 * the products). Sizes only, so the same chunks, hence bits, for any thread count.
 */
export function winogradChunkImages(d: ConvSizes): number {
  const tiles = Math.ceil(d.Ho / 2) * Math.ceil(d.Wo / 2);
  return Math.max(convChunkImages(d.N, d.F, d.K), Math.min(d.N, Math.ceil(64 / tiles)));
}

/**
 * dw (F, C, 3, 3) and db (F) overwritten with the sums over the batch of a stride-1 3x3 conv, by
 * F(2x2, 3x3), in chunks of winogradChunkImages: the same bits for any thread count.
 */
export function convWeightGradientWinograd(dw: number, db: number, dout: number, x: number, d: ConvSizes, dtype: DType): void {
  useFamily(CONV_KERNELS);
  const k = realKernels(dtype);
  const { N, C, H, W, F, pad, K, P } = d;
  const G = winogradChunkImages(d);
  const chunks = Math.ceil(N / G);
  const slice = F * K + F;
  const B = bytesPerElement(dtype);
  const workBytes = k.conv3x3_winograd_dw_work_bytes(C, H, W, F, pad, G);
  const tasks = taskCount(N * F * K * P, MIN_MACS_PER_TASK, chunks);
  if (tasks === 1) {
    k.conv3x3_winograd_dw(dw, db, dout, x, N, C, H, W, F, pad, G, threadScratch(workBytes + slice * B)[0]);
    return;
  }
  const partials = sharedScratch("conv backward partials", chunks * slice * B);
  runChunks(
    dtype,
    "conv3x3_winograd_dw_chunks",
    [partials, dout, x, N, C, H, W, F, pad, G, 0, 0, 0],
    10,
    guidedRanges(chunks, tasks),
    tasks,
    12,
    threadScratch(workBytes),
  );
  sumChunks(dw, partials, chunks, slice, F * K, dtype);
  sumChunks(db, partials + F * K * B, chunks, slice, F, dtype);
}

/** convForward of one image split by pixel blocks over `tasks` threads (the same bits as one call). */
function convForwardBlocks(
  out: number,
  x: number,
  w: number,
  b: number,
  d: ConvSizes,
  relu: boolean,
  dtype: DType,
  packed: number,
  bn: number,
  blocks: number,
  tasks: number,
): void {
  const k = realKernels(dtype);
  const { C, H, W, F, HH, WW, stride, pad, Ho, Wo, K } = d;
  if (packed === 0) {
    packed = sharedScratch("conv forward weights", k.conv_forward_packed_reals(F, K) * bytesPerElement(dtype));
    k.conv_forward_pack(packed, w, F, K);
  }
  const work = threadScratch(k.conv_forward_images_work_bytes(C, H, W, HH, WW, stride, pad, Ho, Wo));
  runChunks(
    dtype,
    "conv_forward_blocks",
    [out, x, packed, b, bn, C, H, W, F, HH, WW, stride, pad, Ho, Wo, relu ? 1 : 0, 0, 0, 0],
    17,
    // Each range copies the image's padded planes again: ranges of at least a quarter of a thread's share.
    guidedRanges(blocks, tasks, Math.ceil(blocks / (4 * tasks))),
    tasks,
    16,
    work,
  );
}

/**
 * table (4·F reals) = conv_bn_table's per-channel [running mean, 1 / sqrt(running variance + eps),
 * gamma, beta] of a batch norm in test mode, for convForward's `bn`.
 */
export function convBatchNormTable(
  table: number,
  gamma: number,
  beta: number,
  runningMean: number,
  runningVar: number,
  eps: number,
  F: number,
  dtype: DType,
): void {
  useFamily(CONV_KERNELS);
  realKernels(dtype).conv_bn_table(table, gamma, beta, runningMean, runningVar, eps, F);
}

function align16(bytes: number): number {
  return (bytes + 15) & ~15;
}

/**
 * dw (F, K) and db (F) overwritten with the sums over the batch, dx (N, C, H, W) with the input
 * gradient (skipped when dx is 0). dout: (N, F, Ho, Wo), x: (N, C, H, W), w: (F, K).
 */
export function convBackward(dx: number, dw: number, db: number, dout: number, x: number, w: number, d: ConvSizes, dtype: DType): void {
  useFamily(CONV_KERNELS);
  const k = realKernels(dtype);
  const { N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, K, P } = d;
  const G = convChunkImages(N, F, K);
  const chunks = Math.ceil(N / G);
  const slice = F * K + F;
  const B = bytesPerElement(dtype);
  const workBytes = k.conv_backward_work_bytes(F, C, H, W, HH, WW, stride, pad, Ho, Wo);
  const tasks = taskCount(N * F * K * P * (dx ? 2 : 1), MIN_MACS_PER_TASK, chunks);
  // wᵀ packed once for every thread's dx products.
  let wt = 0;
  if (dx) {
    wt = sharedScratch("conv backward weights", k.conv_backward_packed_reals(F, K) * B);
    k.conv_backward_pack(wt, w, F, K);
  }
  if (tasks === 1) {
    // One thread runs the chunks in order and adds each partial as it comes: the same sums.
    const work = threadScratch(workBytes + slice * B);
    k.conv_backward(dx, dw, db, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, work[0]);
    return;
  }
  const partials = sharedScratch("conv backward partials", chunks * slice * B);
  const work = threadScratch(workBytes);
  // The chunks (fixed by the sizes) go to whichever thread is free, a few at a time: each writes
  // only its own partial slice and its own images' dx.
  runChunks(
    dtype,
    "conv_backward_chunks",
    [dx, partials, dout, x, wt, N, C, H, W, F, HH, WW, stride, pad, Ho, Wo, G, 0, 0, 0],
    17,
    guidedRanges(chunks, tasks),
    tasks,
    19,
    work,
  );
  sumChunks(dw, partials, chunks, slice, F * K, dtype);
  sumChunks(db, partials + F * K * B, chunks, slice, F, dtype);
}

/** dst[e] = Σ_q src[q·stride + e] in chunk order, for e in [0, len), split by elements (on whole v128: 4 float32, 2 float64). */
export function sumChunks(dst: number, src: number, chunks: number, stride: number, len: number, dtype: DType): void {
  const lanes = 16 / bytesPerElement(dtype);
  const tasks = taskCount(len * chunks, MIN_ELEMENTS_PER_TASK, Math.ceil(len / lanes));
  runTasks(
    dtype,
    "sum_chunks",
    splitRange(len, tasks, lanes).map(([e0, e1]) => [dst, src, chunks, stride, e0, e1]),
  );
}
