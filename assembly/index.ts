// The core module's exports (build/tensorlane.wasm, built with real = f32): the dtype-neutral
// entry points, only here, and the floating-point kernels (kernels.ts) in float32. The float64
// module (f64.ts) exports the same floating-point kernels in float64; the host picks the module
// by dtype (src/core/runtime.ts realKernels). Pointers and sizes only: the host owns all memory.
export { alloc, free, copy_bytes, copy_planes, heap_root } from "./memory";
export { i32_rand_below } from "./random";
export { f64_mean, f64_sum } from "./reduce";
export { f64_sqrt, f64_cos_pi } from "./scalar";
export { i32_random_permutation, f64_random_beta } from "./augment";
export * from "./kernels";
