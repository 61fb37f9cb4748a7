import * as tl from "/dist/tensorlane.js";
import { run } from "/cross-runtime/browser/report.js";

run(tl, () => tl.init({ float64: true })).then(
  (result) => postMessage({ result }),
  (error) => postMessage({ error: String(error?.stack ? error.stack : error) }),
);
