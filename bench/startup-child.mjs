// One cold start, in a fresh process: node bench/startup-child.mjs <tensorlane|tfjs-wasm|tfjs-cpu>.
// Prints {"importMs", "initMs"}: loading the library's modules, then making it ready to compute.
import { createRequire } from "node:module";
import { dirname } from "node:path";

const which = process.argv[2];
const t0 = performance.now();
let t1;
if (which === "tensorlane") {
  const tl = await import(new URL("../dist/tensorlane.js", import.meta.url).href);
  t1 = performance.now();
  await tl.init();
} else if (which === "tfjs-wasm") {
  const tf = await import("@tensorflow/tfjs-core");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  t1 = performance.now();
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(`${dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"))}/`);
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs wasm backend failed to initialize");
} else if (which === "tfjs-cpu") {
  const tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-cpu");
  t1 = performance.now();
  if (!(await tf.setBackend("cpu"))) throw new Error("tfjs cpu backend failed to initialize");
} else {
  throw new Error(`startup-child: unknown contender ${which}`);
}
const t2 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, initMs: t2 - t1 }));
