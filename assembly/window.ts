// Sliding-window helpers over `real` shared by the pooling, depthwise and Winograd kernels
// (avgpool.ts, depthwise.ts, winograd.ts). A window of k taps at output o, stride s, padding p covers inputs
// [o·s - p, o·s - p + k) along one axis; the "inside" outputs are those whose whole window lies
// within [0, size): a kernel runs SIMD over consecutive inside outputs and scalar code elsewhere.
import { FLOAT32, SHIFT } from "./real";

/** First output whose window starts at or after input 0: ceil(p / s), at most outSize. p >= 0, s >= 1. */
@inline export function firstInside(s: i32, p: i32, outSize: i32): i32 {
  return min((p + s - 1) / s, outSize);
}

/** One past the last output whose window ends at or before input `size`, at least `lo` and at most outSize. */
@inline export function endInside(size: i32, k: i32, s: i32, p: i32, outSize: i32, lo: i32): i32 {
  const room = size + p - k;
  return room < 0 ? lo : max(lo, min(room / s + 1, outSize));
}

/**
 * The LANES values at p, p + 2, p + 4, ... (every other `real`), reading only [p, p + 2·LANES - 1):
 * two loads and one shuffle, never past the last value used (so a window at the end of a buffer
 * reads nothing beyond it).
 */
@inline export function loadEven(p: usize): v128 {
  if (FLOAT32) return v128.shuffle<u32>(v128.load(p), v128.load(p, 3 << SHIFT), 0, 2, 5, 7);
  return v128.shuffle<u64>(v128.load(p), v128.load(p, 1 << SHIFT), 0, 3);
}

/** LANES values from p with stride 1 or 2 (compile-time constant after inlining). */
@inline export function loadStrided(p: usize, stride2: bool): v128 {
  return stride2 ? loadEven(p) : v128.load(p);
}

/** Stores LANES even-column and LANES odd-column values interleaved: 2·LANES values at p. */
@inline export function storeInterleaved(p: usize, even: v128, odd: v128): void {
  if (FLOAT32) {
    v128.store(p, v128.shuffle<u32>(even, odd, 0, 4, 1, 5));
    v128.store(p, v128.shuffle<u32>(even, odd, 2, 6, 3, 7), 16);
  } else {
    v128.store(p, v128.shuffle<u64>(even, odd, 0, 2));
    v128.store(p, v128.shuffle<u64>(even, odd, 1, 3), 16);
  }
}
