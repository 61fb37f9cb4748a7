// onnxruntime-web 1.30 with its wasm backend (the SIMD128 build, ort-wasm-simd-threaded.wasm),
// running the models of bench/infer-models.mjs as exported by tensorlane's exportOnnx. Graph
// optimizations are ORT's default ("all": it fuses Conv + BatchNormalization + Relu and packs
// the weights once, when the session is created). The thread count is fixed when ORT's wasm
// starts, once per process: bench/infer.mjs runs the 2-thread rows in a child process.
import { Unavailable } from "../harness.mjs";
import { inferInput, inferModel, referenceScores } from "../infer-models.mjs";

/** max |a - b| over max |b|, and whether every row's argmax agrees. */
function agreement(actual, expected, classes) {
  let worst = 0;
  let scale = 0;
  let argmaxSame = true;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  for (let r = 0; r < expected.length / classes; r++) {
    let a = 0;
    let e = 0;
    for (let j = 1; j < classes; j++) {
      if (actual[r * classes + j] > actual[r * classes + a]) a = j;
      if (expected[r * classes + j] > expected[r * classes + e]) e = j;
    }
    argmaxSame &&= a === e;
  }
  return { relative: scale > 0 ? worst / scale : worst, argmaxSame };
}

export async function load({ threads = 1 } = {}) {
  let ort;
  try {
    ort = await import("onnxruntime-web");
  } catch (error) {
    const reason = `failed to load: ${error.message.split("\n")[0]}`;
    return [{ name: "onnxruntime-web", note: reason, kinds: ["ortInfer"], prepare: () => Promise.reject(new Unavailable(reason)) }];
  }
  ort.env.wasm.numThreads = threads; // 1: no worker is started
  ort.env.wasm.simd = true; // the fixed-width SIMD128 build (its only one in 1.30), as tensorlane's
  ort.env.logLevel = "error";
  return [
    {
      name: "onnxruntime-web",
      note: `onnxruntime-web ${ort.env.versions?.web ?? "?"}, wasm backend (SIMD128), numThreads ${threads}, graph optimizations "all"`,
      kinds: ["ortInfer"],
      async prepare(c) {
        const { bytes, def } = await inferModel(c.model);
        const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
        const { data, shape } = inferInput(def, c.batch);
        const run = async () => (await session.run({ x: new ort.Tensor("float32", data, shape) })).scores.data;
        const scores = await run();
        const expected = await referenceScores(c.model, c.batch);
        const { relative, argmaxSame } = agreement(scores, expected, expected.length / c.batch);
        return {
          async: true,
          step: async () => void (await run()), // the caller gets the scores as a Float32Array
          note: `scores vs tensorlane: max |Δ| ${relative.toExponential(1)} of max |score|${argmaxSame ? ", same argmax" : ", ARGMAX DIFFERS"}`,
          dispose: () => void session.release(),
        };
      },
    },
  ];
}
