// The ESM bundle on a cross-origin isolated page's main thread, with 2 threads: Atomics.wait is
// forbidden there, so the library waits for its workers by spinning (runtimeInfo().wait "spin").
import * as tl from "/dist/tensorlane.js";
import { report, run } from "/cross-runtime/browser/report.js";

report(
  run(tl, () => tl.init({ threads: 2 })).then((result) => {
    const info = tl.runtimeInfo();
    tl.dispose();
    return { ...result, threads: info.threads, wait: info.wait };
  }),
);
