// The library plus its dispatch seam, bundled by the harness (esbuild) into
// test/cross-runtime/.probe/lib.js with the worker script beside it: what dispatch-probe.js runs.
export * from "../../src/index.js";
export { runTasks, threadScratch } from "../../src/core/threads/dispatch.js";
export { kernels } from "../../src/core/runtime.js";
