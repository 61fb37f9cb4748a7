import * as tl from "/dist/tensorlane.js";
import { run } from "/cross-runtime/browser/report.js";
import { dispatchProbe } from "/cross-runtime/dispatch-probe.js";

// The ESM bundle in a module Web Worker of a cross-origin isolated page, with 2 threads: the
// library starts dist/tensorlane-worker.js (found beside the bundle) and blocks in Atomics.wait.
run(tl, () => tl.init({ threads: 2, float64: true })).then(
  async (result) => {
    const info = tl.runtimeInfo();
    tl.dispose();
    const dispatch = await dispatchProbe(await import("/cross-runtime/.probe/lib.js"));
    postMessage({ result: { ...result, threads: info.threads, wait: info.wait, dispatch } });
  },
  (error) => postMessage({ error: String(error?.stack ? error.stack : error) }),
);
