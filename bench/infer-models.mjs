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

/** FLOPs of a 3x3 pad-1 stride-s convolution from C to F channels on an H x W map (one image). */
const conv3x3 = (C, F, H, W, stride = 1) => 2 * F * Math.floor((H - 1) / stride + 1) * Math.floor((W - 1) / stride + 1) * C * 9;

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
    flopsPerSample: conv3x3(1, 32, 28, 28) + conv3x3(32, 64, 14, 14) + conv3x3(64, 128, 7, 7) + 2 * 128 * 3 * 3 * 10,
    make: (tl) => withRunningStatistics(new tl.DeepConvNet({
      inputDims: [1, 28, 28], numFilters: [32, 64, 128], maxPools: [0, 1, 2], batchnorm: true, weightScale: "kaiming", seed: 1,
    })),
  },
  {
    // Issue 22's third model: a small ResNet composed with tl.sequential / tl.nn (exportOnnx
    // writes it for ONNX Runtime).
    id: "resnet",
    label: "small ResNet (2 residual blocks), 1x28x28",
    input: [1, 28, 28],
    flopsPerSample: conv3x3(1, 32, 28, 28) + 2 * conv3x3(32, 32, 28, 28) + conv3x3(32, 64, 28, 28, 2) + 2 * conv3x3(64, 64, 14, 14) + 2 * 64 * 10,
    make: (tl) => {
      if (typeof tl.sequential !== "function" || typeof tl.nn !== "object") {
        throw new Unavailable("not yet available (tl.sequential, tl.nn: the composable-models work)");
      }
      const { nn } = tl;
      const block = (c) => nn.residual([
        nn.conv2d(c, c, 3, { padding: 1 }), nn.batchNorm2d(c), nn.relu(), nn.conv2d(c, c, 3, { padding: 1 }), nn.batchNorm2d(c),
      ]);
      return tl.sequential([
        nn.conv2d(1, 32, 3, { padding: 1 }), nn.batchNorm2d(32), nn.relu(),
        block(32), nn.relu(),
        nn.conv2d(32, 64, 3, { padding: 1, stride: 2 }), nn.batchNorm2d(64), nn.relu(),
        block(64), nn.relu(),
        nn.globalAvgPool(), nn.flatten(), nn.linear(64, 10),
      ], { inputShape: [1, 28, 28], seed: 1 });
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
    built.set(id, (async () => {
      const { tl, exportOnnx } = await inferLibrary();
      const model = def.make(tl);
      try {
        return { def, tl, model, bytes: exportOnnx(model) };
      } catch (error) {
        model.dispose?.();
        throw error;
      }
    })());
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
