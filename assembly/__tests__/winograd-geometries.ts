// The geometries and bounds the Winograd specs share (winograd.spec.ts, winograd-dw.spec.ts).
import { FLOAT32 } from "../real";
import { firstDifference, guardIntact } from "./helpers";

// Geometries (C, H, W, pad): odd and even maps (a last tile row or column half outside), maps of
// 1 and 2 outputs, rows of tiles below, at and past a vector (TW = 1 .. 14), pad 0, 1 and 2, and
// the small ResNet's 28x28, 14x14, 7x7 and 4x4 maps, and a map large enough to run in bands.
export const GEOMETRIES: i32[][] = [
  [1, 3, 3, 1],
  [2, 4, 4, 1],
  [3, 5, 7, 1],
  [2, 7, 7, 1],
  [3, 14, 14, 1],
  [1, 2, 2, 1],
  [1, 1, 1, 1],
  [2, 6, 9, 0],
  [2, 5, 3, 2],
  [4, 9, 16, 1],
  [2, 28, 28, 1],
  [5, 4, 4, 1],
  [3, 3, 20, 1],
  [6, 8, 5, 0],
  // A map in bands of tile rows (bandRows: 256 KB of V and M hold 5 of its 32 tile rows at F = 9,
  // 9 at F = 1), the last band and tile row short.
  [10, 63, 64, 1],
];

/** Within rounding of the direct sums: max |a-b|/(1+|b|) below this. */
export const LOOSE: f64 = FLOAT32 ? 1e-5 : 1e-13;

/** a and b (n reals) the same bits, and nothing written past a's end. */
export function same(name: string, a: usize, b: usize, n: i32): void {
  expect<i32>(firstDifference(a, b, n)).toBe(-1, name);
  expect<bool>(guardIntact(a, n)).toBe(true, name + " wrote past the end");
}
