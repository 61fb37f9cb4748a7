// Runs the scenario on the ESM bundle, unchanged, in Node, Deno and Bun:
//   node run-esm.js | deno run run-esm.js | bun run-esm.js
// Prints one JSON line: the scenario's result plus the runtime's own timing of it.
import * as tl from "../../dist/tensorlane.js";
import { scenario } from "./scenario.js";

const t0 = performance.now();
await tl.init();
const t1 = performance.now();
const result = await scenario(tl);
const t2 = performance.now();
console.log(JSON.stringify({ ...result, initMs: t1 - t0, runMs: t2 - t1 }));
