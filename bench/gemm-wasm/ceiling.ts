// Register-only f32x4 throughput probe: the SIMD128 ceiling the GEMM kernels are measured against.
// CHAINS independent chains acc = acc * s + t (strict mul then add, like the GEMM microkernel),
// all in registers: no memory traffic, so the figure is what the engine's mul/add issue allows.
// Each chain step is 8 flops (4 lanes x mul+add).

/** Runs `iterations` steps of 12 chains; returns a value that depends on all of them. */
export function probe12(iterations: i32, s: f32, t: f32): f32 {
  const sv = f32x4.splat(s), tv = f32x4.splat(t);
  let a0 = f32x4.splat(0.1), a1 = f32x4.splat(0.2), a2 = f32x4.splat(0.3), a3 = f32x4.splat(0.4);
  let a4 = f32x4.splat(0.5), a5 = f32x4.splat(0.6), a6 = f32x4.splat(0.7), a7 = f32x4.splat(0.8);
  let a8 = f32x4.splat(0.9), a9 = f32x4.splat(1.0), a10 = f32x4.splat(1.1), a11 = f32x4.splat(1.2);
  for (let i = 0; i < iterations; i++) {
    a0 = f32x4.add(f32x4.mul(a0, sv), tv); a1 = f32x4.add(f32x4.mul(a1, sv), tv);
    a2 = f32x4.add(f32x4.mul(a2, sv), tv); a3 = f32x4.add(f32x4.mul(a3, sv), tv);
    a4 = f32x4.add(f32x4.mul(a4, sv), tv); a5 = f32x4.add(f32x4.mul(a5, sv), tv);
    a6 = f32x4.add(f32x4.mul(a6, sv), tv); a7 = f32x4.add(f32x4.mul(a7, sv), tv);
    a8 = f32x4.add(f32x4.mul(a8, sv), tv); a9 = f32x4.add(f32x4.mul(a9, sv), tv);
    a10 = f32x4.add(f32x4.mul(a10, sv), tv); a11 = f32x4.add(f32x4.mul(a11, sv), tv);
  }
  const s0 = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const s1 = f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11));
  return f32x4.extract_lane(f32x4.add(s0, s1), 0);
}

/** Same with 8 chains (the GEMM tile's accumulator count). */
export function probe8(iterations: i32, s: f32, t: f32): f32 {
  const sv = f32x4.splat(s), tv = f32x4.splat(t);
  let a0 = f32x4.splat(0.1), a1 = f32x4.splat(0.2), a2 = f32x4.splat(0.3), a3 = f32x4.splat(0.4);
  let a4 = f32x4.splat(0.5), a5 = f32x4.splat(0.6), a6 = f32x4.splat(0.7), a7 = f32x4.splat(0.8);
  for (let i = 0; i < iterations; i++) {
    a0 = f32x4.add(f32x4.mul(a0, sv), tv); a1 = f32x4.add(f32x4.mul(a1, sv), tv);
    a2 = f32x4.add(f32x4.mul(a2, sv), tv); a3 = f32x4.add(f32x4.mul(a3, sv), tv);
    a4 = f32x4.add(f32x4.mul(a4, sv), tv); a5 = f32x4.add(f32x4.mul(a5, sv), tv);
    a6 = f32x4.add(f32x4.mul(a6, sv), tv); a7 = f32x4.add(f32x4.mul(a7, sv), tv);
  }
  const s0 = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s0, 0);
}
