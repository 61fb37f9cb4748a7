// `tensorlane/wasm`: the standalone kernel module. Runtimes that import .wasm as a module binding
// (Cloudflare Workers / workerd, wrangler) hand it over precompiled:
//   import wasm from "tensorlane/wasm";
//   await tl.init({ module: wasm });
declare const module: WebAssembly.Module;
export default module;
