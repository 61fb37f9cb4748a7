// Shared helpers for the kernel specs: deterministic test data and exact comparisons over `real`
// elements (f32 in the float32 run of the specs, f64 in the float64 run; see assembly/real.ts).
import { FLOAT32, SHIFT } from "../real";

/** Awkward lengths: empty, below, at and above the 4-lane width, and long. */
export const LENGTHS: i32[] = [0, 1, 3, 4, 5, 17, 1000];

/**
 * A buffer of n values with a fixed pseudo-random pattern in [-1, 1), including exact zeros:
 * 24 random bits per f32, 53 per f64. Room for one more element, so a spec can put a guard there.
 */
export function pattern(n: i32, salt: i32): usize {
  const p = heap.alloc(<usize>(n + 1) << SHIFT);
  if (FLOAT32) {
    let s: u32 = <u32>(salt * 2654435761 + 12345);
    for (let i = 0; i < n; i++) {
      s = s * 1664525 + 1013904223;
      let v = <f32>(s >> 8) / 8388608.0 - 1.0;
      if (i % 7 == 3) v = 0;
      store<f32>(p + (<usize>i << 2), v);
    }
  } else {
    let s: u64 = <u64>(salt * 2654435761 + 12345);
    for (let i = 0; i < n; i++) {
      s = s * 6364136223846793005 + 1442695040888963407;
      let v = <f64>(s >> 11) / 4503599627370496.0 - 1.0;
      if (i % 7 == 3) v = 0;
      store<f64>(p + (<usize>i << 3), v);
    }
  }
  return p;
}

/** A zeroed buffer of n values (plus one guard element set to a sentinel, to catch overruns). */
export function buffer(n: i32): usize {
  const p = heap.alloc((<usize>n + 1) << SHIFT);
  memory.fill(p, 0, <usize>n << SHIFT);
  store<real>(p + (<usize>n << SHIFT), 12345.0);
  return p;
}

/** Index of the first differing element (bitwise), or -1 when a and b agree exactly. */
export function firstDifference(a: usize, b: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << SHIFT;
    const same = FLOAT32 ? load<u32>(a + o) == load<u32>(b + o) : load<u64>(a + o) == load<u64>(b + o);
    if (!same) return i;
  }
  return -1;
}

/** Largest |a - b| over n elements. */
export function maxAbsDiff(a: usize, b: usize, n: i32): real {
  let m: real = 0;
  for (let i = 0; i < n; i++) {
    m = max(m, abs(load<real>(a + (<usize>i << SHIFT)) - load<real>(b + (<usize>i << SHIFT))));
  }
  return m;
}

/** Largest |a - b| / (1 + |b|) over n elements, in f64. */
export function maxRelErr(a: usize, b: usize, n: i32): f64 {
  let m: f64 = 0;
  for (let i = 0; i < n; i++) {
    const x = <f64>load<real>(a + (<usize>i << SHIFT)), y = <f64>load<real>(b + (<usize>i << SHIFT));
    m = Math.max(m, Math.abs(x - y) / (1 + Math.abs(y)));
  }
  return m;
}

export function guardIntact(p: usize, n: i32): bool {
  return load<real>(p + (<usize>n << SHIFT)) == 12345.0;
}

/** Copies n values. */
export function copyReals(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << SHIFT);
}

/** The dtype's name, for messages that must say which run failed. */
export const DTYPE: string = FLOAT32 ? "float32" : "float64";

/** A zeroed buffer of n i32 (labels, indices) plus a guard word. */
export function ints(n: i32): usize {
  const p = heap.alloc((<usize>n + 1) << 2);
  memory.fill(p, 0, <usize>n << 2);
  store<i32>(p + (<usize>n << 2), 0x5a5a5a5a);
  return p;
}

export function intsGuardIntact(p: usize, n: i32): bool {
  return load<i32>(p + (<usize>n << 2)) == 0x5a5a5a5a;
}

/** The first i with a[i] != b[i] over n i32, or -1. */
export function firstIntDifference(a: usize, b: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) if (load<i32>(a + (<usize>i << 2)) != load<i32>(b + (<usize>i << 2))) return i;
  return -1;
}
