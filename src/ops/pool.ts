// Host side of max pooling: split by planes (N·C images of H x W). Each plane's outputs, argmax
// (an index within the plane) and gradient are its own, so any split gives the same bits.
// Both dtypes run the same kernels (assembly/pool.ts over `real`) with one argmax convention: the
// argmax tensor has the pooled tensor's dtype and holds each winner's index in its plane as an
// exact integer (H·W <= 2^24, exact in float32 and float64); only the element size differs.
import { bytesPerElement, type DType } from "../core/dtype.js";
import { POOL_KERNELS, useFamily } from "../core/kernel-families.js";
import { kernels } from "../core/runtime.js";
import { runTasks } from "../core/threads/dispatch.js";
import { MIN_POOL_ELEMENTS_PER_TASK } from "../core/threads/thresholds.js";
import { splitRange, taskCount } from "./split.js";

/** Pool sizes: planes = N·C, each H x W, window ph x pw, stride, output Ho x Wo. */
export interface PoolSizes {
  planes: number;
  H: number;
  W: number;
  ph: number;
  pw: number;
  stride: number;
  Ho: number;
  Wo: number;
}

function planeRanges(s: PoolSizes): [number, number][] {
  return splitRange(s.planes, taskCount(s.planes * s.H * s.W, MIN_POOL_ELEMENTS_PER_TASK, s.planes));
}

/** out, argmax (planes, Ho, Wo) from x (planes, H, W); argmax 0: out only. */
export function maxPoolForward(out: number, argmax: number, x: number, s: PoolSizes, dtype: DType): void {
  useFamily(POOL_KERNELS);
  const B = bytesPerElement(dtype);
  const inB = s.H * s.W * B,
    outB = s.Ho * s.Wo * B;
  runTasks(
    dtype,
    "maxpool_forward",
    planeRanges(s).map(([p0, p1]) => [out + p0 * outB, argmax ? argmax + p0 * outB : 0, x + p0 * inB, p1 - p0, s.H, s.W, s.ph, s.pw, s.stride, s.Ho, s.Wo]),
  );
}

/** dx (planes, H, W) overwritten from dout, argmax (planes, Ho, Wo). */
export function maxPoolBackward(dx: number, dout: number, argmax: number, s: PoolSizes, dtype: DType): void {
  useFamily(POOL_KERNELS);
  const B = bytesPerElement(dtype);
  const inB = s.H * s.W * B,
    outB = s.Ho * s.Wo * B;
  runTasks(
    dtype,
    "maxpool_backward",
    planeRanges(s).map(([p0, p1]) => [dx + p0 * inB, dout + p0 * outB, argmax + p0 * outB, p1 - p0, s.H, s.W, s.ph, s.pw, s.stride, s.Ho, s.Wo]),
  );
}

/**
 * x (planes, H, W) copied into the middle of frame (planes, H + 2·pad, W + 2·pad), whose border is
 * left as it is (padded max pooling fills it with -Infinity once per forward).
 */
export function framePlanes(frame: number, x: number, planes: number, H: number, W: number, pad: number, dtype: DType): void {
  const B = bytesPerElement(dtype);
  const Wp = W + 2 * pad;
  useFamily(POOL_KERNELS);
  kernels().copy_planes(frame + (pad * Wp + pad) * B, (H + 2 * pad) * Wp * B, Wp * B, x, H * W * B, W * B, planes, H, W * B);
}

/** The middle H x W of each plane of frame (planes, H + 2·pad, W + 2·pad) copied out into x (planes, H, W). */
export function cropPlanes(x: number, frame: number, planes: number, H: number, W: number, pad: number, dtype: DType): void {
  const B = bytesPerElement(dtype);
  const Wp = W + 2 * pad;
  useFamily(POOL_KERNELS);
  kernels().copy_planes(x, H * W * B, W * B, frame + (pad * Wp + pad) * B, (H + 2 * pad) * Wp * B, Wp * B, planes, H, W * B);
}
