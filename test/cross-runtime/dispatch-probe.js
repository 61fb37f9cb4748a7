// Runs real kernels through the worker pool (runTasks) on 2 threads and checks them against the
// same calls on 1 thread: ReLU over two ranges, and a GEMM split by output rows with each thread
// packing into its own scratch. `lib` is test/cross-runtime/.probe/lib.js (the library built from
// src with its dispatch seam exported), loaded next to the scenario's own instance.
export async function dispatchProbe(lib) {
  await lib.init({ threads: 2 });
  const n = 10007;
  const half = 5000;
  const x = lib.randn([n], { seed: 7 });
  const y = lib.zeros([n]);
  lib.runTasks("float32", "relu", [
    [y.ptr, x.ptr, half],
    [y.ptr + half * 4, x.ptr + half * 4, n - half],
  ]);
  const xs = x.toArray();
  const ys = y.toArray();
  let reluOk = true;
  for (let i = 0; i < n; i++) if (ys[i] !== Math.max(xs[i], 0)) reluOk = false;

  const [m, cols, k] = [103, 37, 300];
  const a = lib.randn([m, k], { seed: 21 });
  const b = lib.randn([k, cols], { seed: 22 });
  const split = lib.zeros([m, cols]);
  const single = lib.zeros([m, cols]);
  const scratch = lib.threadScratch(lib.kernels().gemm_work_bytes(m, cols, k));
  lib.kernels().gemm_nn(single.ptr, a.ptr, b.ptr, m, cols, k, 0, false, scratch[0]);
  const rows = 52; // a multiple of the microkernel's 4 rows
  lib.runTasks("float32", "gemm_nn", [
    [split.ptr, a.ptr, b.ptr, rows, cols, k, 0, 0, scratch[0]],
    [split.ptr + rows * cols * 4, a.ptr + rows * k * 4, b.ptr, m - rows, cols, k, 0, 0, scratch[1]],
  ]);
  const s = split.toArray();
  const r = single.toArray();
  let gemmSameBits = true;
  for (let i = 0; i < s.length; i++) if (!Object.is(s[i], r[i])) gemmSameBits = false;
  const threads = lib.runtimeInfo().threads;
  lib.dispose();
  return { threads, reluOk, gemmSameBits };
}
