// f64 versions of helpers.ts: deterministic data and exact comparisons over 8-byte elements.

/** A buffer of n f64 values with a fixed pseudo-random pattern in [-1, 1) (53-bit), including exact zeros. */
export function pattern64(n: i32, salt: i32): usize {
  const p = heap.alloc(<usize>max(n, 1) << 3);
  let s: u64 = <u64>(salt * 2654435761 + 12345);
  for (let i = 0; i < n; i++) {
    s = s * 6364136223846793005 + 1442695040888963407;
    let v = <f64>(s >> 11) / 4503599627370496.0 - 1.0;
    if (i % 7 == 3) v = 0;
    store<f64>(p + (<usize>i << 3), v);
  }
  return p;
}

/** A zeroed buffer of n f64 plus one guard element set to a sentinel, to catch overruns. */
export function buffer64(n: i32): usize {
  const p = heap.alloc((<usize>n + 1) << 3);
  memory.fill(p, 0, <usize>n << 3);
  store<f64>(p + (<usize>n << 3), 12345.0);
  return p;
}

export function guardIntact64(p: usize, n: i32): bool {
  return load<f64>(p + (<usize>n << 3)) == 12345.0;
}

/** Index of the first bitwise difference of two f64 arrays, or -1. */
export function firstDifference64(a: usize, b: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    if (load<u64>(a + (<usize>i << 3)) != load<u64>(b + (<usize>i << 3))) return i;
  }
  return -1;
}

/** Copies n f64 values. */
export function copy64(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 3);
}
