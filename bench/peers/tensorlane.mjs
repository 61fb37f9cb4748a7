// tensorlane through its public API, loaded from the built bundle dist/tensorlane.js.
// Every piece is feature-detected: what is not written yet reports "not yet available" instead of
// failing, so the harness runs at every stage of the project. GEMM is timed at the kernel level
// (the exported gemm_* (float32) of dist/tensorlane.wasm on raw pointers): no host code in the way.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ADAM, CONV, FC, RESNET } from "../cases.mjs";
import { Unavailable, randomArray, randomLabels } from "../harness.mjs";
import { inferInput, inferModel } from "../infer-models.mjs";

const BUNDLE = new URL("../../dist/tensorlane.js", import.meta.url);
const WASM = new URL("../../dist/tensorlane.wasm", import.meta.url);

// The kernel ABI this file was written against: (c, a, b, m, n, k, bias, accumulate, work).
const GEMM_ARITY = 9;

/** A private instance of the standalone kernel module, for the GEMM cases (and bench/layers.mjs). */
export async function gemmKernels() {
  const { instance } = await WebAssembly.instantiate(readFileSync(WASM), {
    env: {
      abort() {
        throw new Error("tensorlane kernel aborted");
      },
    },
  });
  return instance.exports;
}

/** A runner for C = op(A)·op(B) once, c: { variant, m, n, k }, on the raw kernel. */
export function gemmRunner(k, c) {
  const fn = k[`gemm_${c.variant}`];
  if (typeof fn !== "function" || typeof k.gemm_work_bytes !== "function" || typeof k.alloc !== "function") {
    throw new Unavailable(`not yet available (no gemm_${c.variant} export)`);
  }
  if (fn.length !== GEMM_ARITY) {
    throw new Unavailable(`gemm_${c.variant} takes ${fn.length} arguments, bench/peers/tensorlane.mjs expects ${GEMM_ARITY}`);
  }
  const { m, n, k: depth } = c;
  const a = k.alloc(m * depth * 4);
  const b = k.alloc(depth * n * 4);
  const out = k.alloc(m * n * 4);
  const work = k.alloc(Math.max(16, Number(k.gemm_work_bytes(m, n, depth))));
  // Views after every allocation: growth detaches the old ones.
  const f32 = new Float32Array(k.memory.buffer);
  f32.set(randomArray(m * depth, 11), a >>> 2);
  f32.set(randomArray(depth * n, 12), b >>> 2);
  return {
    step: () => fn(out, a, b, m, n, depth, 0, false, work),
    dispose: () => [a, b, out, work].forEach((p) => k.free(p)),
  };
}

/**
 * Trains with tl.adam the way tl.Solver does: one call over the model's flat parameter and
 * gradient regions when it has a paramStore (every parameter in one kernel), else one per parameter.
 */
function trainer(tl, model, x, y) {
  const store = model.paramStore;
  const flat = store?.flat && store.gradFlat;
  const names = Object.keys(model.params);
  const configs = flat ? { all: { ...ADAM } } : Object.fromEntries(names.map((name) => [name, { ...ADAM }]));
  let live0 = null;
  return {
    note: flat ? "Adam over paramStore.flat (as tl.Solver)" : "Adam per parameter",
    step() {
      let loss;
      tl.tidy(() => {
        const [l, grads] = model.loss(x, y);
        loss = l;
        if (flat) configs.all = tl.adam(store.flat, store.gradFlat, configs.all)[1];
        else {
          for (const name of names) {
            const [next, config] = tl.adam(model.params[name], grads[name], configs[name]);
            configs[name] = config;
            if (next !== model.params[name]) throw new Error("tl.adam returned a new tensor: SPEC says it updates w in place");
          }
        }
        return configs; // the optimizer state outlives the step
      });
      live0 ??= tl.memory().liveTensors;
      return loss;
    },
    summary: () => leakNote(tl, live0),
    dispose() {
      for (const config of Object.values(configs)) for (const v of Object.values(config)) v?.dispose?.(); // m, v
      x.dispose();
      model.dispose?.();
    },
  };
}

function inferrer(tl, model, x) {
  let live0 = null;
  return {
    step() {
      tl.tidy(() => model.loss(x).toArray()); // the caller reads the scores
      live0 ??= tl.memory().liveTensors;
    },
    summary: () => leakNote(tl, live0),
    dispose() {
      x.dispose();
      model.dispose?.();
    },
  };
}

/**
 * Deployment-style inference (the `infer` section): the batch arrives as a JS Float32Array and
 * the scores leave as one, as with onnxruntime-web's session.run. tl.tensor copies the batch in.
 */
async function deployInferrer(tl, c) {
  const { model, def } = await inferModel(c.model);
  const { data, shape } = inferInput(def, c.batch);
  let live0 = null;
  return {
    note: "tl.tensor(x) -> model.loss(X) -> toArray()",
    step() {
      tl.tidy(() => model.loss(tl.tensor(data, shape)).toArray());
      live0 ??= tl.memory().liveTensors;
    },
    summary: () => leakNote(tl, live0),
  };
}

function leakNote(tl, live0) {
  const grown = live0 === null ? 0 : tl.memory().liveTensors - live0;
  return grown > 0 ? `LEAK: ${grown} more live tensors than after the first step` : undefined;
}

function requireApi(tl, names) {
  const missing = names.filter((n) => typeof tl[n] !== "function");
  if (missing.length > 0) throw new Unavailable(`not yet available (${missing.map((n) => `tl.${n}`).join(", ")})`);
}

function prepareWith(tl, kernels, c) {
  if (c.kind === "ortInfer") return deployInferrer(tl, c);
  if (c.kind === "gemm") {
    if (!kernels) throw new Unavailable("not yet available (dist/tensorlane.wasm missing)");
    return gemmRunner(kernels, c);
  }
  if (c.kind === "fcTrain" || c.kind === "fcInfer") {
    requireApi(tl, ["FullyConnectedNet", "adam", "tensor", "tidy"]);
    const model = new tl.FullyConnectedNet({
      hiddenDims: FC.hiddenDims,
      inputDim: FC.inputDim,
      numClasses: FC.numClasses,
      weightScale: "kaiming", // the std the peers use (sqrt(2 / fanIn))
      seed: 1,
    });
    const x = tl.tensor(randomArray(FC.batch * FC.inputDim, 21), [FC.batch, FC.inputDim]); // (N, D)
    const y = randomLabels(FC.batch, FC.numClasses, 22); // (N)
    return c.kind === "fcTrain" ? trainer(tl, model, x, y) : inferrer(tl, model, x);
  }
  if (c.kind === "convTrain" || c.kind === "convInfer") {
    requireApi(tl, ["DeepConvNet", "adam", "tensor", "tidy"]);
    // {conv3x3 - relu - pool} x 2 - linear: numFilters has one entry per conv layer, and both pool.
    const model = new tl.DeepConvNet({
      inputDims: CONV.inputDims,
      numFilters: CONV.numFilters,
      maxPools: [0, 1],
      numClasses: CONV.numClasses,
      weightScale: "kaiming", // the std the peers use (sqrt(2 / fanIn))
      seed: 1,
    });
    const [ch, h, w] = CONV.inputDims;
    const x = tl.tensor(randomArray(CONV.batch * ch * h * w, 31), [CONV.batch, ch, h, w]); // (N, C, H, W)
    const y = randomLabels(CONV.batch, CONV.numClasses, 32);
    return c.kind === "convTrain" ? trainer(tl, model, x, y) : inferrer(tl, model, x);
  }
  if (c.kind === "resnetTrain") {
    if (typeof tl.models?.resnet !== "function") throw new Unavailable("not yet available (tl.models.resnet)");
    const model = tl.models.resnet({ inputShape: RESNET.inputDims, widths: RESNET.widths, downsampleFirst: true, numClasses: RESNET.numClasses, seed: 1 });
    const [ch, h, w] = RESNET.inputDims;
    const x = tl.tensor(randomArray(RESNET.batch * ch * h * w, 41), [RESNET.batch, ch, h, w]);
    const y = randomLabels(RESNET.batch, RESNET.numClasses, 42);
    return trainer(tl, model, x, y);
  }
  throw new Unavailable(`unknown case kind ${c.kind}`);
}

/** threads: 1 (the default) or more (tl.init({ threads }): the `infer` section's child process). */
export async function load({ threads = 1 } = {}) {
  let tl = null;
  let kernels = null;
  let missing = null;
  if (!existsSync(BUNDLE)) missing = `${fileURLToPath(BUNDLE)} missing: run \`npm run build\``;
  else {
    tl = await import(BUNDLE.href);
    await tl.init(threads > 1 ? { threads } : undefined);
    if (existsSync(WASM)) kernels = await gemmKernels();
  }
  const running = tl?.runtimeInfo?.().threads ?? threads;
  return [
    {
      name: "tensorlane",
      note: `dist/tensorlane.js (wasm SIMD128, ${running} thread${running === 1 ? "" : "s"})`,
      kinds: ["gemm", "fcTrain", "fcInfer", "convTrain", "convInfer", "resnetTrain", "ortInfer"],
      prepare(c) {
        if (missing) throw new Unavailable(missing);
        return prepareWith(tl, kernels, c);
      },
    },
  ];
}
