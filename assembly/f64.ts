// The float64 module's exports (build/tensorlane-f64.wasm, built with real = f64): the
// floating-point kernels (kernels.ts) under the same names as the core module's float32 ones. It
// imports the core's memory and has no allocator and no static data (scripts/build-wasm.mjs
// checks), so instantiating it writes nothing into the core's heap.
export * from "./kernels";
