// The ESM bundle on a cross-origin isolated page's main thread, with 2 threads: Atomics.wait is
// forbidden there, so the library waits for its workers by spinning (runtimeInfo().wait "spin").
import * as tl from "/dist/tensorlane.js";
import { report, run } from "/cross-runtime/browser/report.js";
import { dispatchProbe } from "/cross-runtime/dispatch-probe.js";

report(
  run(tl, () => tl.init({ threads: 2, float64: true })).then(async (result) => {
    const info = tl.runtimeInfo();
    tl.dispose();
    const dispatch = await dispatchProbe(await import("/cross-runtime/.probe/lib.js"));
    return { ...result, threads: info.threads, wait: info.wait, dispatch };
  }),
);
