// The global random stream for calls that give no seed. Numbers themselves are always computed in
// wasm; the host only keeps (seed, offset) and hands out disjoint counter ranges.
// The seed is drawn lazily, on the first unseeded call: Cloudflare Workers (workerd) forbid
// generating random values at module scope, so importing the bundle must not touch crypto.
import { runtime } from "./runtime-state.js";
import { checkSeed } from "./validate.js";

function freshSeed(): number {
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint32Array): Uint32Array } }).crypto;
  if (c?.getRandomValues) return c.getRandomValues(new Uint32Array(1))[0];
  return (Date.now() * 2654435761) >>> 0; // no Web Crypto: not reproducible anyway, just varied
}

/** Makes every later unseeded random call reproducible from `seed` (an integer in [0, 2^32)). */
export function setSeed(seed: number): void {
  runtime.random = { seed: checkSeed("setSeed", "seed", seed), offset: 0 };
}

/** Reserves `count` counters of the global stream: returns [seed, offset]. */
export function drawSeed(count: number): [number, number] {
  const stream = runtime.random;
  stream.seed ??= freshSeed();
  const offset = stream.offset;
  stream.offset += count;
  return [stream.seed, offset];
}

/** Derives an independent sub-seed (e.g. one per layer) from a seed and an index, in integer math. */
export function deriveSeed(seed: number, index: number): number {
  let z = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seed drawn from the global stream, for objects created without one (reproducible after setSeed). */
export function drawSubSeed(): number {
  const [seed, offset] = drawSeed(1);
  return deriveSeed(seed, offset);
}
