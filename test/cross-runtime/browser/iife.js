// The plain <script> build: the page only sees the global `tensorlane`.
import { report, run } from "/cross-runtime/browser/report.js";

const tl = globalThis.tensorlane;
report(tl ? run(tl, () => tl.init({ float64: true })) : Promise.reject(new Error("the script build defined no global `tensorlane`")));
