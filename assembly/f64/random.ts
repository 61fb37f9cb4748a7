// f64 samples from the same counter-based streams as random.ts: element i of stream (seed, offset)
// uses counter offset + i, so an f64 tensor and an f32 one drawn with the same seed see the same
// 64 random bits per element, only rounded differently.
//   uniform: 53 random bits (the top ones), in [0, 1)
//   normal:  Box-Muller from the same draw as the f32 normal, without the final rounding to f32
//   dropout: the f32 24-bit uniform against p, so a mask drops exactly the units the f32 mask drops
import { randomBits, uniformAt } from "../random";
import { cosBounded } from "../cos";

const TWO_PI: f64 = 6.283185307179586;
const GOLDEN: u64 = 0x9e3779b97f4a7c15;

// random.ts's stream key, repeated here so that file stays untouched (it is not exported); the
// spec checks that f64 and f32 draws of one seed agree, which fails if the two ever drift apart.
@inline function streamKey(seed: u32): u64 {
  let z = (<u64>seed) * GOLDEN + 0x632be59bd9b4e019;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** y[i] = uniform [0, 1) (53 bits) at counter offset + i of stream `seed`. y: (n) */
export function f64_rand_uniform(y: usize, n: usize, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  for (let i: usize = 0; i < n; i++) {
    store<f64>(y + (i << 3), <f64>(randomBits(key, base + i) >> 11) * (1.0 / 9007199254740992.0));
  }
}

/** y[i] = mean + std * normal at counter offset + i of stream `seed`. y: (n) */
export function f64_rand_normal(y: usize, n: usize, seed: u32, offset: f64, mean: f64, std: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  for (let i: usize = 0; i < n; i++) {
    const bits = randomBits(key, base + i);
    const u1 = (<f64>(bits >> 32) + 1.0) * (1.0 / 4294967296.0); // (0, 1]
    const u2 = <f64>(bits & 0xffffffff) * (1.0 / 4294967296.0); // [0, 1)
    store<f64>(y + (i << 3), mean + std * (Math.sqrt(-2.0 * Math.log(u1)) * cosBounded(TWO_PI * u2)));
  }
}

/**
 * Inverted-dropout mask: mask[i] = 0 where the f32 stream's uniform is < p (the DROP probability,
 * compared in f64), else 1 / (1 - p) in f64. Precondition: 0 <= p < 1. mask: (n)
 */
export function f64_dropout_mask(mask: usize, n: usize, p: f64, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  const keep: f64 = 1.0 / (1.0 - p);
  for (let i: usize = 0; i < n; i++) {
    store<f64>(mask + (i << 3), <f64>uniformAt(key, base + i) < p ? 0 : keep);
  }
}
