// assembly/cos.ts is Math.cos without the large-argument reduction: it must give Math.cos's bits
// (as the release build compiles it: -O3, shrinkLevel 1) wherever the kernels call it, so seeded
// normals and cosine schedules keep their numbers. A probe module built with the release options
// compares the two bit for bit on dense grids over the callers' ranges and beyond.
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const release = JSON.parse(readFileSync(resolve(root, "asconfig.json"), "utf8")).targets.release;

const PROBE = `import { cosBounded } from "./cos";
export function mismatches(lo: f64, hi: f64, n: i32): i32 {
  let bad = 0;
  for (let i = 0; i <= n; i++) {
    const x = lo + (hi - lo) * (<f64>i / <f64>n);
    if (reinterpret<u64>(Math.cos(x)) != reinterpret<u64>(cosBounded(x))) bad++;
    if (reinterpret<u64>(Math.cos(-x)) != reinterpret<u64>(cosBounded(-x))) bad++;
  }
  return bad;
}
export function same(x: f64): bool {
  return reinterpret<u64>(Math.cos(x)) == reinterpret<u64>(cosBounded(x));
}`;

it("cosBounded gives Math.cos's bits for |x| < 2^20 pi/2 (release build options)", async () => {
  const { binary, stderr, error } = await asc.compileString(
    { "probe.ts": PROBE, "cos.ts": readFileSync(resolve(root, "assembly", "cos.ts"), "utf8") },
    { optimizeLevel: release.optimizeLevel, shrinkLevel: release.shrinkLevel, noAssert: true, runtime: "stub" },
  );
  expect(error, stderr.toString()).toBeNull();
  const { instance } = await WebAssembly.instantiate(new Uint8Array(binary!) as BufferSource, { env: { abort() {} } });
  const exports = instance.exports as unknown as { mismatches(lo: number, hi: number, n: number): number; same(x: number): number };
  // The callers' ranges: 2pi u (Box-Muller, u in [0, 1)) and pi x (cosine schedule, x in [0, 1]).
  expect(exports.mismatches(0, 2 * Math.PI, 2_000_000)).toBe(0);
  // Every branch of the reduction: tiny, below pi/4, the 2nd and 3rd Cody-Waite iterations near
  // multiples of pi/2, and up to the bound.
  expect(exports.mismatches(0, 1e-8, 10_000)).toBe(0);
  expect(exports.mismatches(0, 1000, 1_000_000)).toBe(0);
  expect(exports.mismatches(1000, 1_647_000, 1_000_000)).toBe(0);
  for (let k = 1; k < 2000; k++) {
    const near = (k * Math.PI) / 2;
    for (const x of [near, near * (1 + 2 ** -52), near * (1 - 2 ** -52), near + 1e-9]) expect(exports.same(x), `x = ${x}`).toBe(1);
  }
  for (const x of [NaN, Infinity, -Infinity, 0, -0, Math.PI, 2 * Math.PI]) expect(exports.same(x), `x = ${x}`).toBe(1);
});
