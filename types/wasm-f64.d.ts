// `tensorlane/wasm-f64`: the standalone float64 kernel module. Runtimes that import .wasm as a
// module binding (Cloudflare Workers / workerd) hand it over precompiled beside the core:
//   import wasm from "tensorlane/wasm";
//   import wasmF64 from "tensorlane/wasm-f64";
//   await tl.init({ module: wasm, float64: { module: wasmF64 } });
declare const module: WebAssembly.Module;
export default module;
