// Counter-based random numbers, computed entirely in wasm so a seed gives the same bits in every
// JS engine. Element i of stream (seed, offset) is a pure function of (seed, offset + i): the
// SplitMix64 output function (Steele, Lea, Flood 2014; passes BigCrush) applied to the counter.
// No state lives here: the host keeps (seed, offset) and advances the offset by what it drew.
import { cosBounded } from "./cos";
import { FLOAT32, SHIFT } from "./real";

const GOLDEN: u64 = 0x9e3779b97f4a7c15;
const TWO_PI: f64 = 6.283185307179586;

@inline export function mix64(z: u64): u64 {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** The stream key for a seed: mixed so that nearby seeds give unrelated streams. */
@inline export function streamKey(seed: u32): u64 {
  return mix64((<u64>seed) * GOLDEN + 0x632be59bd9b4e019);
}

/** 64 random bits for counter `ctr` of the stream with key `key`. */
@inline export function randomBits(key: u64, ctr: u64): u64 {
  return mix64(key + (ctr + 1) * GOLDEN);
}

/** Uniform f32 in [0, 1) with 24 random bits: the uniform the dropout masks of both dtypes compare with p. */
@inline export function uniformAt(key: u64, ctr: u64): f32 {
  return <f32>(randomBits(key, ctr) >> 40) * (1.0 / 16777216.0);
}

/**
 * Standard normal in f64 by Box-Muller from one 64-bit draw (32 bits per uniform, |z| < 6.7). Both
 * dtypes draw this value; float32 rounds it to f32, so an f64 tensor and an f32 one drawn with the
 * same seed hold the same normals up to that rounding.
 */
@inline function normal64At(key: u64, ctr: u64): f64 {
  const bits = randomBits(key, ctr);
  const u1 = (<f64>(bits >> 32) + 1.0) * (1.0 / 4294967296.0); // (0, 1]
  const u2 = <f64>(bits & 0xffffffff) * (1.0 / 4294967296.0); // [0, 1)
  return Math.sqrt(-2.0 * Math.log(u1)) * cosBounded(TWO_PI * u2);
}

/**
 * Uniform in [0, 1) in `real`: 24 random bits (f32) or 53 (f64), the top bits of the same draw.
 */
@inline function uniformReal(key: u64, ctr: u64): real {
  return FLOAT32 ? <real>uniformAt(key, ctr) : <real>(<f64>(randomBits(key, ctr) >> 11) * (1.0 / 9007199254740992.0));
}

/**
 * y[i] = low + (high - low) * u, u uniform in [0, 1) at counter offset + i of stream `seed`
 * (low 0, high 1: u itself, bit for bit). y: (n)
 */
export function rand_uniform(y: usize, n: usize, seed: u32, offset: f64, low: real, high: real): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  const width = high - low;
  for (let i: usize = 0; i < n; i++) {
    store<real>(y + (i << SHIFT), low + width * uniformReal(key, base + i));
  }
}

/** y[i] = mean + std * normal at counter offset + i of stream `seed` (the normal rounded to `real` first). y: (n) */
export function rand_normal(y: usize, n: usize, seed: u32, offset: f64, mean: real, std: real): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  for (let i: usize = 0; i < n; i++) {
    store<real>(y + (i << SHIFT), mean + std * <real>normal64At(key, base + i));
  }
}

/**
 * Inverted-dropout mask: mask[i] = 0 with probability p (the DROP probability), else 1 / (1 - p).
 * Both dtypes compare the same 24-bit uniform with p, so an f64 mask drops exactly the units an
 * f32 mask of the same stream drops. Precondition: 0 <= p < 1. mask: (n)
 */
export function dropout_mask(mask: usize, n: usize, p: real, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  const keep: real = 1.0 / (1.0 - p);
  for (let i: usize = 0; i < n; i++) {
    store<real>(mask + (i << SHIFT), <real>uniformAt(key, base + i) < p ? 0 : keep);
  }
}

/** out[i] = integer uniform in [0, bound) at counter offset + i (multiply-high of 32 bits). out: i32 (n) */
export function i32_rand_below(out: usize, n: usize, bound: u32, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  for (let i: usize = 0; i < n; i++) {
    store<i32>(out + (i << 2), <i32>(((randomBits(key, base + i) >> 32) * <u64>bound) >> 32));
  }
}
