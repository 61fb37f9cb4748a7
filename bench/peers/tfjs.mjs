// TensorFlow.js 4.22.0: tfjs-core with the wasm backend (single thread) and the cpu backend (plain
// JS). Both backends live in this process; each runner switches to its own backend before every
// sample, and creates its tensors under that backend so none are copied between them.
// The FC and conv models are written as a tfjs user would without tfjs-layers: fused matMul/conv2d
// (bias + ReLU in one kernel where the backend fuses), NHWC (tfjs's native layout), tf.train.adam,
// optimizer.minimize. The ResNet is built with tfjs-layers' functional API (as a Keras user
// would: conv, batch norm, add, global pooling) and trained with model.trainOnBatch.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { getThreadsCount, setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { ADAM, CONV, FC, RESNET, SLOW_GEMM_MAX_SQUARE } from "../cases.mjs";
import { Unavailable, randomArray, randomLabels } from "../harness.mjs";
import { registerTfjsGradients } from "./tfjs-gradients.mjs";

const require = createRequire(import.meta.url);

/** The folder holding tfjs-backend-wasm's .wasm files, as a file path prefix (Node reads it from disk). */
export function tfjsWasmDir() {
  return `${dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"))}/`;
}

let ready = null;
async function setup() {
  ready ??= (async () => {
    await registerTfjsGradients();
    setWasmPaths(tfjsWasmDir());
    setThreadsCount(1);
    if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend failed to initialize");
    const threads = getThreadsCount();
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    if (!(await tf.setBackend("cpu"))) throw new Error("tfjs: the cpu backend failed to initialize");
    tf.backend().firstUse = false; // skips the cpu backend's "install tfjs-node" banner
    return { threads, simd, multithread: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT") };
  })();
  return ready;
}

// tidy frees the initial values; the variables survive it.
function xavier(shape, fanIn, seed) {
  return tf.tidy(() =>
    tf.variable(
      tf.tensor(
        randomArray(
          shape.reduce((a, b) => a * b, 1),
          seed,
          Math.sqrt(6 / fanIn),
        ),
        shape,
      ),
    ),
  );
}

function zerosVariable(n) {
  return tf.tidy(() => tf.variable(tf.zeros([n])));
}

function oneHot(labels, classes) {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), classes));
}

function fcModel() {
  const dims = [FC.inputDim, ...FC.hiddenDims, FC.numClasses];
  const layers = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    layers.push({ w: xavier([dims[l], dims[l + 1]], dims[l], 1 + l), b: zerosVariable(dims[l + 1]) });
  }
  const forward = (x) => layers.reduce((h, { w, b }, l) => tf.fused.matMul({ a: h, b: w, bias: b, activation: l + 1 < layers.length ? "relu" : "linear" }), x);
  const dispose = () => layers.forEach(({ w, b }) => (w.dispose(), b.dispose()));
  return { forward, dispose };
}

function convModel() {
  const [c, h, w] = CONV.inputDims;
  const blocks = [];
  let cin = c;
  CONV.numFilters.forEach((f, i) => {
    blocks.push({ w: xavier([3, 3, cin, f], cin * 9, 1 + i), b: zerosVariable(f) });
    cin = f;
  });
  const flat = cin * (h >> blocks.length) * (w >> blocks.length);
  const fw = xavier([flat, CONV.numClasses], flat, 9);
  const fb = zerosVariable(CONV.numClasses);
  const forward = (x) => {
    let y = x; // (N, H, W, C)
    for (const blk of blocks) {
      y = tf.fused.conv2d({ x: y, filter: blk.w, strides: 1, pad: "same", bias: blk.b, activation: "relu" });
      y = tf.maxPool(y, 2, 2, "valid");
    }
    return tf.fused.matMul({ a: tf.reshape(y, [y.shape[0], flat]), b: fw, bias: fb });
  };
  const dispose = () => [...blocks.flatMap((b) => [b.w, b.b]), fw, fb].forEach((v) => v.dispose());
  return { forward, dispose };
}

/** tl.models.resnet's network in tfjs-layers (NHWC; "same" padding gives PyTorch's output sizes here). */
function resnetModel() {
  const [c, h, w] = RESNET.inputDims;
  const conv = (filters, size, strides) =>
    tfl.layers.conv2d({ filters, kernelSize: size, strides, padding: "same", useBias: false, kernelInitializer: "heNormal" });
  const bn = () => tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 });
  const relu = () => tfl.layers.reLU();
  const input = tfl.input({ shape: [h, w, c] });
  let x = relu().apply(bn().apply(conv(RESNET.widths[0], 3, 1).apply(input)));
  for (const out of RESNET.widths) {
    // One basic block per stage; every stage halves the image (the first too: downsampleFirst).
    let body = relu().apply(bn().apply(conv(out, 3, 2).apply(x)));
    body = bn().apply(conv(out, 3, 1).apply(body));
    const shortcut = bn().apply(conv(out, 1, 2).apply(x));
    x = relu().apply(tfl.layers.add().apply([body, shortcut]));
  }
  x = tfl.layers.globalAveragePooling2d({}).apply(x);
  const scores = tfl.layers.dense({ units: RESNET.numClasses }).apply(x);
  const model = tfl.model({ inputs: input, outputs: scores });
  model.compile({
    optimizer: tf.train.adam(ADAM.learningRate, ADAM.beta1, ADAM.beta2, ADAM.epsilon),
    loss: (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
  });
  return model;
}

function resnetTrainer(x, y) {
  const model = resnetModel();
  return {
    note: "tfjs-layers functional model, model.trainOnBatch",
    async: true,
    async step() {
      return await model.trainOnBatch(x, y);
    },
    dispose() {
      model.optimizer.dispose();
      model.dispose();
    },
  };
}

function trainer(model, x, y) {
  const optimizer = tf.train.adam(ADAM.learningRate, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
  return {
    step() {
      const cost = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)), true);
      const loss = cost.dataSync()[0];
      cost.dispose();
      return loss;
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}

function inferrer(model, x) {
  return {
    step() {
      const scores = tf.tidy(() => model.forward(x));
      scores.dataSync(); // the caller reads the scores
      scores.dispose();
    },
    dispose: () => model.dispose(),
  };
}

function prepareOn(backend, c, ctx) {
  const owned = [];
  const keep = (t) => (owned.push(t), t);
  let runner;
  if (c.kind === "gemm") {
    if (backend === "cpu" && c.m === c.n && c.n === c.k && c.m > SLOW_GEMM_MAX_SQUARE) {
      throw new Unavailable(`skipped: plain-JS backend, squares above ${SLOW_GEMM_MAX_SQUARE}`);
    }
    const { m, n, k, variant } = c;
    const ta = variant === "tn";
    const tb = variant === "nt";
    const a = keep(tf.tensor(randomArray(m * k, 11), ta ? [k, m] : [m, k]));
    const b = keep(tf.tensor(randomArray(k * n, 12), tb ? [n, k] : [k, n]));
    runner = { step: () => tf.matMul(a, b, ta, tb).dispose() };
  } else if (c.kind === "fcTrain" || c.kind === "fcInfer") {
    const x = keep(tf.tensor(randomArray(FC.batch * FC.inputDim, 21), [FC.batch, FC.inputDim]));
    const y = keep(oneHot(randomLabels(FC.batch, FC.numClasses, 22), FC.numClasses));
    runner = c.kind === "fcTrain" ? trainer(fcModel(), x, y) : inferrer(fcModel(), x);
  } else if (c.kind === "convTrain" || c.kind === "convInfer") {
    if (c.kind === "convTrain" && !tf.getKernel("Conv2DBackpropFilter", backend)) {
      throw new Unavailable(`cannot train conv layers: no Conv2DBackpropFilter kernel in tfjs-backend-${backend}`);
    }
    // tfjs-cpu's Conv2DBackpropFilter takes about a second per sample here: a full batch of 50
    // would take most of the run, so it trains on a smaller batch (its cost is linear in N).
    const slow = backend === "cpu" && c.kind === "convTrain";
    const batch = slow ? (ctx.quick ? 1 : 4) : CONV.batch;
    const [ch, h, w] = CONV.inputDims;
    const x = keep(tf.tensor(randomArray(batch * ch * h * w, 31), [batch, h, w, ch]));
    const y = keep(oneHot(randomLabels(batch, CONV.numClasses, 32), CONV.numClasses));
    runner = c.kind === "convTrain" ? trainer(convModel(), x, y) : inferrer(convModel(), x);
    if (slow) Object.assign(runner, { work: batch, warmupSteps: 1, reps: ctx.quick ? 1 : 3, note: `batch ${batch}: about 1 s per sample` });
  } else if (c.kind === "resnetTrain") {
    if (!tf.getKernel("Conv2DBackpropFilter", backend)) {
      throw new Unavailable(`cannot train conv layers: no Conv2DBackpropFilter kernel in tfjs-backend-${backend}`);
    }
    // The plain-JS backend takes about a second per sample: a small batch (cost is linear in N).
    const slow = backend === "cpu";
    const batch = slow ? (ctx.quick ? 1 : 4) : RESNET.batch;
    const [ch, h, w] = RESNET.inputDims;
    const x = keep(tf.tensor(randomArray(batch * ch * h * w, 41), [batch, h, w, ch]));
    const y = keep(oneHot(randomLabels(batch, RESNET.numClasses, 42), RESNET.numClasses));
    runner = resnetTrainer(x, y);
    if (slow) Object.assign(runner, { work: batch, warmupSteps: 1, reps: ctx.quick ? 1 : 3, note: `batch ${batch}, tfjs-layers, model.trainOnBatch` });
  } else {
    throw new Unavailable(`unknown case kind ${c.kind}`);
  }
  const inner = runner.dispose;
  return {
    ...runner,
    enter: () => tf.setBackend(backend).then(() => undefined),
    dispose() {
      tf.setBackend(backend);
      inner?.();
      owned.forEach((t) => t.dispose());
    },
  };
}

function contender(name, backend, note) {
  return {
    name,
    note,
    kinds: ["gemm", "fcTrain", "fcInfer", "convTrain", "convInfer", "resnetTrain"],
    async prepare(c, ctx = {}) {
      await tf.setBackend(backend);
      return prepareOn(backend, c, ctx);
    },
  };
}

export async function load() {
  const info = await setup();
  // tfjs turns wasm threads off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there, tfjs
  // issue 3830; forcing the flag fails to start its workers), so its default thread count runs
  // the same single-threaded SIMD build as tfjs-wasm-1t: listed, not run twice.
  const defaultThreads = {
    name: "tfjs-wasm-default",
    note: info.multithread
      ? "threads reported available but not wired: the wasm backend can only start once per process"
      : "not run: tfjs disables wasm threads under Node, so its default is the tfjs-wasm-1t build",
    kinds: [],
    prepare() {
      throw new Unavailable("not run");
    },
  };
  return [
    contender("tfjs-wasm-1t", "wasm", `tfjs-backend-wasm 4.22.0, SIMD ${info.simd ? "on" : "OFF"}, ${info.threads} thread`),
    defaultThreads,
    contender("tfjs-cpu", "cpu", "tfjs-backend-cpu 4.22.0 (plain JS)"),
  ];
}

export { tf };
