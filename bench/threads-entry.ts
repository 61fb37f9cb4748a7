// What bench/threads.mjs needs beyond the public API: the dispatch seam and the host GEMM (which
// splits over threads once its plan calls runTasks). Bundled by bench/threads.mjs with esbuild.
export * from "../src/index.js";
export { currentPool, runTasks, threadCount, threadScratch } from "../src/core/threads/dispatch.js";
export { gemm, gemmBlocks, gemmRowChunks, gemmSplit } from "../src/ops/gemm.js";
export { kernels } from "../src/core/runtime.js";
