import * as tl from "/dist/tensorlane.js";
import { run } from "/cross-runtime/browser/report.js";

// The ESM bundle in a module Web Worker of a cross-origin isolated page, with 2 threads: the
// library starts dist/tensorlane-worker.js (found beside the bundle) and blocks in Atomics.wait.
run(tl, () => tl.init({ threads: 2 })).then(
  (result) => {
    const info = tl.runtimeInfo();
    tl.dispose();
    postMessage({ result: { ...result, threads: info.threads, wait: info.wait } });
  },
  (error) => postMessage({ error: String(error && error.stack ? error.stack : error) }),
);
