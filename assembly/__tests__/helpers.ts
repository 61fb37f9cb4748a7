// Shared helpers for the kernel specs: deterministic test data and exact comparisons.

/** Awkward lengths: empty, below, at and above the 4-lane width, and long. */
export const LENGTHS: i32[] = [0, 1, 3, 4, 5, 17, 1000];

/** A buffer of n f32 values with a fixed pseudo-random pattern in [-1, 1), including exact zeros. */
export function pattern(n: i32, salt: i32): usize {
  const p = heap.alloc(<usize>max(n, 1) << 2);
  let s: u32 = <u32>(salt * 2654435761 + 12345);
  for (let i = 0; i < n; i++) {
    s = s * 1664525 + 1013904223;
    let v = <f32>(s >> 8) / 8388608.0 - 1.0;
    if (i % 7 == 3) v = 0;
    store<f32>(p + (<usize>i << 2), v);
  }
  return p;
}

/** A zeroed buffer of n f32 (plus one guard word set to a sentinel, to catch overruns). */
export function buffer(n: i32): usize {
  const p = heap.alloc((<usize>n + 1) << 2);
  memory.fill(p, 0, <usize>n << 2);
  store<f32>(p + (<usize>n << 2), 12345.0);
  return p;
}

/** Index of the first differing element (bitwise), or -1 when a and b agree exactly. */
export function firstDifference(a: usize, b: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    if (load<u32>(a + (<usize>i << 2)) != load<u32>(b + (<usize>i << 2))) return i;
  }
  return -1;
}

/** Largest |a - b| over n elements. */
export function maxAbsDiff(a: usize, b: usize, n: i32): f32 {
  let m: f32 = 0;
  for (let i = 0; i < n; i++) {
    m = max(m, abs(load<f32>(a + (<usize>i << 2)) - load<f32>(b + (<usize>i << 2))));
  }
  return m;
}

export function guardIntact(p: usize, n: i32): bool {
  return load<f32>(p + (<usize>n << 2)) == 12345.0;
}
