// The workerd entry. The standalone .wasm arrives as a module binding (a WebAssembly.Module),
// because workerd refuses to compile wasm bytes at run time.
//   GET /init-from-bytes  init() with the bundle's inlined bytes: must fail with a clear message
//   GET /                 init({ module, float64: { module } }), then the scenario
// (performance.now() does not advance during a request on workerd: the test times the round trip.)
import wasm from "./tensorlane.wasm";
import wasmF64 from "./tensorlane-f64.wasm";
import * as tl from "./tensorlane.js";
import { scenario } from "./scenario.js";

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    try {
      if (path === "/init-from-bytes") {
        await tl.init();
        return Response.json({ initialized: true });
      }
      await tl.init({ module: wasm, float64: { module: wasmF64 } });
      return Response.json(await scenario(tl));
    } catch (error) {
      return Response.json({ error: String(error?.message ? error.message : error) }, { status: 500 });
    }
  },
};
