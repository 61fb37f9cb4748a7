// Counter-based random numbers, computed entirely in wasm so a seed gives the same bits in every
// JS engine. Element i of stream (seed, offset) is a pure function of (seed, offset + i): the
// SplitMix64 output function (Steele, Lea, Flood 2014; passes BigCrush) applied to the counter.
// No state lives here: the host keeps (seed, offset) and advances the offset by what it drew.
import { cosBounded } from "./cos";

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

/** Uniform f32 in [0, 1) with 24 random bits. */
@inline export function uniformAt(key: u64, ctr: u64): f32 {
  return <f32>(randomBits(key, ctr) >> 40) * (1.0 / 16777216.0);
}

/** Standard normal by Box-Muller from one 64-bit draw (32 bits per uniform, |z| < 6.7). */
@inline export function normalAt(key: u64, ctr: u64): f32 {
  const bits = randomBits(key, ctr);
  const u1 = (<f64>(bits >> 32) + 1.0) * (1.0 / 4294967296.0); // (0, 1]
  const u2 = <f64>(bits & 0xffffffff) * (1.0 / 4294967296.0); // [0, 1)
  return <f32>(Math.sqrt(-2.0 * Math.log(u1)) * cosBounded(TWO_PI * u2));
}

/** y[i] = uniform [0, 1) at counter offset + i of stream `seed`. y: (n) */
export function f32_rand_uniform(y: usize, n: usize, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  for (let i: usize = 0; i < n; i++) {
    store<f32>(y + (i << 2), uniformAt(key, base + i));
  }
}

/** y[i] = mean + std * normal at counter offset + i of stream `seed`. y: (n) */
export function f32_rand_normal(y: usize, n: usize, seed: u32, offset: f64, mean: f32, std: f32): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  for (let i: usize = 0; i < n; i++) {
    store<f32>(y + (i << 2), mean + std * normalAt(key, base + i));
  }
}

/**
 * Inverted-dropout mask: mask[i] = 0 with probability p (the DROP probability), else 1 / (1 - p).
 * Precondition: 0 <= p < 1. mask: (n)
 */
export function f32_dropout_mask(mask: usize, n: usize, p: f32, seed: u32, offset: f64): void {
  const key = streamKey(seed);
  const base = <u64>offset;
  const keep: f32 = 1.0 / (1.0 - p);
  for (let i: usize = 0; i < n; i++) {
    store<f32>(mask + (i << 2), uniformAt(key, base + i) < p ? 0 : keep);
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
