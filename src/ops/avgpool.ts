// Host side of average pooling (assembly/avgpool.ts): split by planes (N·C images of H x W).
// Each plane's outputs and gradient are its own (the global pool's sum stays inside one plane), so
// any split gives the same bits, in both dtypes.
import { bytesPerElement, type DType } from "../core/dtype.js";
import { POOL_KERNELS, useFamily } from "../core/kernel-families.js";
import { runTasks } from "../core/threads/dispatch.js";
import { MIN_POOL_ELEMENTS_PER_TASK } from "../core/threads/thresholds.js";
import { splitRange, taskCount } from "./split.js";
import { checkWindowSizes } from "./window.js";

/**
 * Sizes of an average pool (PyTorch's nn.AvgPool2d, floor mode): planes = N·C, each H x W; window
 * kh x kw, strides sh, sw, zero padding ph, pw (at most half the window: PyTorch's rule), output
 * Ho = floor((H + 2ph - kh) / sh) + 1 by Wo likewise; countIncludePad: divide by kh·kw (PyTorch's
 * default) or by the number of real pixels in the window.
 */
export interface AvgPoolSizes {
  planes: number;
  H: number;
  W: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  countIncludePad: boolean;
  Ho: number;
  Wo: number;
}

/**
 * The sizes of an average pool over x (N, C, H, W) (planes = N·C), PyTorch's rules: kernel, stride
 * >= 1; 0 <= padding <= kernel / 2; the window fits the padded input. Throws a RangeError naming
 * `fn` otherwise.
 */
export function avgPoolSizes(
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
  countIncludePad: boolean,
): AvgPoolSizes {
  checkWindowSizes(fn, N, C, H, W, kh, kw, sh, sw, ph, pw);
  if (2 * ph > kh || 2 * pw > kw) throw new RangeError(`${fn}: padding ${ph}, ${pw} must be at most half the ${kh}x${kw} kernel (PyTorch's rule)`);
  if (H + 2 * ph < kh || W + 2 * pw < kw) throw new RangeError(`${fn}: the ${kh}x${kw} window does not fit the ${H}x${W} input with padding ${ph}, ${pw}`);
  return {
    planes: N * C,
    H,
    W,
    kh,
    kw,
    sh,
    sw,
    ph,
    pw,
    countIncludePad,
    Ho: Math.floor((H + 2 * ph - kh) / sh) + 1,
    Wo: Math.floor((W + 2 * pw - kw) / sw) + 1,
  };
}

function planeRanges(planes: number, work: number): [number, number][] {
  return splitRange(planes, taskCount(work, MIN_POOL_ELEMENTS_PER_TASK, planes));
}

/** out (planes, Ho, Wo) = average pool of x (planes, H, W). out must not be x. */
export function avgPoolForward(out: number, x: number, s: AvgPoolSizes, dtype: DType): void {
  useFamily(POOL_KERNELS);
  const B = bytesPerElement(dtype);
  const inB = s.H * s.W * B,
    outB = s.Ho * s.Wo * B;
  runTasks(
    dtype,
    "avgpool_forward",
    planeRanges(s.planes, s.planes * s.Ho * s.Wo * s.kh * s.kw).map(([p0, p1]) => [
      out + p0 * outB,
      x + p0 * inB,
      p1 - p0,
      s.H,
      s.W,
      s.kh,
      s.kw,
      s.sh,
      s.sw,
      s.ph,
      s.pw,
      s.countIncludePad ? 1 : 0,
      s.Ho,
      s.Wo,
    ]),
  );
}

/** dx (planes, H, W) overwritten with the average-pool gradient of dout (planes, Ho, Wo). Needs nothing saved from the forward. */
export function avgPoolBackward(dx: number, dout: number, s: AvgPoolSizes, dtype: DType): void {
  useFamily(POOL_KERNELS);
  const B = bytesPerElement(dtype);
  const inB = s.H * s.W * B,
    outB = s.Ho * s.Wo * B;
  runTasks(
    dtype,
    "avgpool_backward",
    planeRanges(s.planes, s.planes * s.H * s.W * s.kh * s.kw).map(([p0, p1]) => [
      dx + p0 * inB,
      dout + p0 * outB,
      p1 - p0,
      s.H,
      s.W,
      s.kh,
      s.kw,
      s.sh,
      s.sw,
      s.ph,
      s.pw,
      s.countIncludePad ? 1 : 0,
      s.Ho,
      s.Wo,
    ]),
  );
}

/** out (planes) = the mean of each plane of x (planes, HW): nn.AdaptiveAvgPool2d(1) with the (N, C, 1, 1) output flattened to (N·C). */
export function globalAvgPoolForward(out: number, x: number, planes: number, HW: number, dtype: DType): void {
  useFamily(POOL_KERNELS);
  const B = bytesPerElement(dtype);
  runTasks(
    dtype,
    "global_avgpool_forward",
    planeRanges(planes, planes * HW).map(([p0, p1]) => [out + p0 * B, x + p0 * HW * B, p1 - p0, HW]),
  );
}

/** dx (planes, HW) overwritten with dout[p] / HW on every pixel of plane p. dout: (planes). */
export function globalAvgPoolBackward(dx: number, dout: number, planes: number, HW: number, dtype: DType): void {
  useFamily(POOL_KERNELS);
  const B = bytesPerElement(dtype);
  runTasks(
    dtype,
    "global_avgpool_backward",
    planeRanges(planes, planes * HW).map(([p0, p1]) => [dx + p0 * HW * B, dout + p0 * B, p1 - p0, HW]),
  );
}
