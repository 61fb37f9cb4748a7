// What bench/threads.mjs and bench/train-layers.mjs need beyond the public API: the dispatch seam,
// its kernel trace and the host GEMM (which splits over threads once its plan calls runTasks).
// Bundled by bench/threads.mjs with esbuild.
export * from "../src/index.js";
export { currentPool, runTasks, threadCount, threadScratch, traceKernels } from "../src/core/threads/dispatch.js";
export { gemm, gemmBlocks, gemmRowChunks, gemmSplit } from "../src/ops/gemm.js";
export { kernels } from "../src/core/runtime.js";
