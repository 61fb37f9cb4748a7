// The element type of the floating-point kernels. Every kernel family is written once over the
// alias `real`, and the build compiles the source twice (scripts/build-wasm.mjs):
//   --use real=f32   the core module (tensorlane.wasm): float32 kernels
//   --use real=f64   the float64 module (tensorlane-f64.wasm), loaded by init({ float64: true })
// Kernels read and write `real` values and use the lane-generic SIMD builtins (v128.add<real>,
// v128.splat<real>, ...). Where an algorithm needs the lane count (4 f32 or 2 f64 per v128),
// LANES and the compile-time constant FLOAT32 select the code at compile time: the other branch
// is not in the binary. Sums that become one number (a loss, a batch statistic) accumulate in
// f64 for both types.

// @inline: asc substitutes these values where they are used, so `if (FLOAT32)` drops the other
// branch before anything is compiled and `i << SHIFT` is `i << 2` in the float32 build. A plain
// exported const stays a wasm global that only Binaryen folds, late enough to change the shape of
// the optimized code (compare-kernels found three batch-norm exports reordered that way).

/** Values of `real` per v128: 4 (f32) or 2 (f64). */
@inline export const LANES: usize = 16 / sizeof<real>();
/** log2 of sizeof<real>(): element index << SHIFT is the byte offset. */
@inline export const SHIFT: usize = sizeof<real>() == 4 ? 2 : 3;
/** True in the float32 build: selects lane-count-specific code at compile time. */
@inline export const FLOAT32: bool = sizeof<real>() == 4;

/** e^x in `real` precision (musl's expf / exp, compiled into the module: the same bits everywhere). */
@inline export function expReal(x: real): real {
  return FLOAT32 ? <real>Mathf.exp(<f32>x) : <real>Math.exp(<f64>x);
}

/** ln x in `real` precision (musl's logf / log). */
@inline export function logReal(x: real): real {
  return FLOAT32 ? <real>Mathf.log(<f32>x) : <real>Math.log(<f64>x);
}

/** sqrt x, correctly rounded (the wasm instruction). */
@inline export function sqrtReal(x: real): real {
  return FLOAT32 ? <real>Mathf.sqrt(<f32>x) : <real>Math.sqrt(<f64>x);
}
