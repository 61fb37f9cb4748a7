// Runs the scenario on the ESM bundle, unchanged, in Node, Deno and Bun:
//   node run-esm.js [threads] | deno run run-esm.js [threads] | bun run-esm.js [threads]
// Prints one JSON line: the scenario's result, the thread count the library runs with, and the
// runtime's own timing of it. With a thread count the library starts its workers first.
import * as tl from "../../dist/tensorlane.js";
import { scenario } from "./scenario.js";

const arg = (globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2))[0];
const threads = arg === undefined ? undefined : Number(arg);

const t0 = performance.now();
await tl.init(threads === undefined ? { float64: true } : { threads, float64: true });
const t1 = performance.now();
const result = await scenario(tl);
const t2 = performance.now();
const info = tl.runtimeInfo();
tl.dispose();
// With threads, also run real kernels through the pool (a second instance, built from src).
const dispatch = threads > 1 ? await (await import("./dispatch-probe.js")).dispatchProbe(await import("./.probe/lib.js")) : undefined;
console.log(JSON.stringify({ ...result, threads: info.threads, wait: info.wait, dispatch, initMs: t1 - t0, runMs: t2 - t1 }));
