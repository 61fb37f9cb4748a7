// The models of the `infer` section (issue 22): built once with tensorlane (dist/tensorlane.js),
// exported with tensorlane's own exportOnnx (dist/onnx.js), and run by both contenders: tensorlane
// on the model object, onnxruntime-web on the exported bytes. Both start from the same JS
// Float32Array and end with the scores in a JS Float32Array.
//
// Adding a model: one entry in INFER_MODELS with `make(tl)` returning a model that has
// loss(X) -> scores (test mode) and that exportOnnx accepts. `make` throws Unavailable while the
// API it needs does not exist, and the bench shows "not yet available" in that model's rows.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Unavailable, randomArray } from "./harness.mjs";

const BUNDLE = new URL("../dist/tensorlane.js", import.meta.url);
const ONNX = new URL("../dist/onnx.js", import.meta.url);

export const INFER_BATCHES = [1, 8, 64];

/**
 * FLOPs of a k x k convolution (3x3 with padding 1, or 1x1 without) from C to F channels on an
 * H x W map, stride s (one image).
 */
const conv = (C, F, H, W, stride = 1, k = 3) => {
  const pad = k === 3 ? 1 : 0;
  const out = (n) => Math.floor((n + 2 * pad - k) / stride) + 1;
  return 2 * F * out(H) * out(W) * C * k * k;
};

export const INFER_MODELS = [
  {
    id: "fc",
    label: "FC 784-256-128-10",
    input: [784],
    flopsPerSample: 2 * (784 * 256 + 256 * 128 + 128 * 10),
    make: (tl) => new tl.FullyConnectedNet({ hiddenDims: [256, 128], inputDim: 784, numClasses: 10, weightScale: "kaiming", seed: 1 }),
  },
  {
    id: "conv",
    label: "conv 32-64-128 BN pools, 1x28x28",
    input: [1, 28, 28],
    // 28x28 -> pool 14 -> pool 7 -> pool 3 (floor), then a 128·3·3 -> 10 linear layer.
    flopsPerSample: conv(1, 32, 28, 28) + conv(32, 64, 14, 14) + conv(64, 128, 7, 7) + 2 * 128 * 3 * 3 * 10,
    make: (tl) =>
      withRunningStatistics(
        new tl.DeepConvNet({
          inputDims: [1, 28, 28],
          numFilters: [32, 64, 128],
          maxPools: [0, 1, 2],
          batchnorm: true,
          weightScale: "kaiming",
          seed: 1,
        }),
      ),
  },
  {
    // Issue 22's third model: tl.models.resnet({ inputShape: [1, 28, 28], widths: [32, 64, 128],
    // downsampleFirst: true }) (the model of the resnet section): a 3x3 stem (1 -> 32), then one
    // basic block per stage, each halving the map (28 -> 14 -> 7 -> 4) with a strided 1x1
    // shortcut, global average pooling, linear 128 -> 10. Batch norm's running statistics start
    // at mean 0, variance 1 (PyTorch's), so test mode needs no adjustment.
    id: "resnet",
    label: "ResNet 32-64-128, 1x28x28",
    input: [1, 28, 28],
    flopsPerSample:
      conv(1, 32, 28, 28) +
      conv(32, 32, 28, 28, 2) +
      conv(32, 32, 14, 14) +
      conv(32, 32, 28, 28, 2, 1) +
      conv(32, 64, 14, 14, 2) +
      conv(64, 64, 7, 7) +
      conv(32, 64, 14, 14, 2, 1) +
      conv(64, 128, 7, 7, 2) +
      conv(128, 128, 4, 4) +
      conv(64, 128, 7, 7, 2, 1) +
      2 * 128 * 10,
    make: (tl) => {
      if (typeof tl.models?.resnet !== "function") throw new Unavailable("not yet available (tl.models.resnet)");
      return tl.models.resnet({ inputShape: [1, 28, 28], widths: [32, 64, 128], downsampleFirst: true, seed: 1 });
    },
  },
];

/**
 * Batch norm's running statistics start at zeros (the course's convention), so an untrained
 * model in test mode divides by sqrt(eps). Variance 1 and mean 0 keep the scores in a normal
 * range; the timing does not depend on the values.
 */
function withRunningStatistics(model) {
  for (const state of model.bnParams ?? []) state.runningVar.set(new Float32Array(state.runningVar.size).fill(1));
  return model;
}

let library = null;
/**
 * tensorlane and its exportOnnx, from dist/ (the same module instance the tensorlane peer uses).
 * The caller inits tensorlane (with its thread count) before the first inferModel.
 */
export async function inferLibrary() {
  if (!existsSync(BUNDLE) || !existsSync(ONNX)) throw new Unavailable(`${fileURLToPath(BUNDLE)} or dist/onnx.js missing: run \`npm run build\``);
  library ??= Promise.all([import(BUNDLE.href), import(ONNX.href)]).then(([tl, onnx]) => ({ tl, exportOnnx: onnx.exportOnnx }));
  return library;
}

const built = new Map();
/** The model `id` and its ONNX bytes, built on first use and shared by every batch size and contender. */
export async function inferModel(id) {
  const def = INFER_MODELS.find((m) => m.id === id);
  if (!def) throw new Error(`unknown infer model ${id}`);
  if (!built.has(id)) {
    built.set(
      id,
      (async () => {
        const { tl, exportOnnx } = await inferLibrary();
        const model = def.make(tl);
        try {
          return { def, tl, model, bytes: exportOnnx(model) };
        } catch (error) {
          model.dispose?.();
          throw error;
        }
      })(),
    );
  }
  return built.get(id);
}

/** The batch both contenders score: seeded values in [-1, 1), shape (batch, ...input). */
export function inferInput(def, batch) {
  return { data: randomArray(batch * def.input.reduce((a, b) => a * b, 1), 41 + batch), shape: [batch, ...def.input] };
}

/** tensorlane's scores for that batch (what onnxruntime-web's are compared with). */
export async function referenceScores(id, batch) {
  const { tl, model, def } = await inferModel(id);
  const { data, shape } = inferInput(def, batch);
  return tl.tidy(() => model.loss(tl.tensor(data, shape)).toArray());
}

/** Frees the models (end of the section). */
export async function disposeInferModels() {
  for (const p of built.values()) (await p.catch(() => null))?.model?.dispose?.();
  built.clear();
}
