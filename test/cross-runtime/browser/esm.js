// The ESM bundle imported by a page (served with a strict CSP: no eval, no network).
import * as tl from "/dist/tensorlane.js";
import { report, run } from "/cross-runtime/browser/report.js";

report(run(tl, () => tl.init({ float64: true })));
