// Memory-bandwidth probe: the STREAM triad a[i] = b[i] + s·c[i] on f32x4, the yardstick for the
// memory-bound kernels (batch norm, pooling, softmax loss, optimizers) as the register-only
// ceiling (ceiling.ts) is for the compute-bound ones. Two streams read, one written: 12 bytes
// per float moved (write-allocate traffic not counted, as STREAM counts). Run on arrays whose
// total size matches a kernel's footprint, it gives the bandwidth of the same cache level.

/** A bump allocation (runtime "stub"): the host takes its arrays once and keeps them. */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

/**
 * `reps` passes of a[i] = b[i] + s·c[i] over n floats (n a multiple of 16; a, b, c 16-byte
 * aligned, not overlapping). Returns a[0] so the work cannot be dropped.
 */
export function triad(a: usize, b: usize, c: usize, n: usize, s: f32, reps: i32): f32 {
  const sv = f32x4.splat(s);
  const bytes = n << 2;
  for (let r = 0; r < reps; r++) {
    for (let o: usize = 0; o < bytes; o += 64) {
      v128.store(a + o, f32x4.add(v128.load(b + o), f32x4.mul(sv, v128.load(c + o))), 0);
      v128.store(a + o, f32x4.add(v128.load(b + o, 16), f32x4.mul(sv, v128.load(c + o, 16))), 16);
      v128.store(a + o, f32x4.add(v128.load(b + o, 32), f32x4.mul(sv, v128.load(c + o, 32))), 32);
      v128.store(a + o, f32x4.add(v128.load(b + o, 48), f32x4.mul(sv, v128.load(c + o, 48))), 48);
    }
  }
  return load<f32>(a);
}
