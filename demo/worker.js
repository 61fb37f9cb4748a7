// The demo's training worker: loads the built-in data set, trains the chosen model with the chosen
// update rule, and reports progress, accuracy, first-layer weights and test predictions.
// Messages in:  { type: "train", config } | { type: "stop" } | { type: "initExperiment" }
// Messages out: { type: "ready" | "progress" | "eval" | "done" | "init" | "error", ... }
import * as tl from "/dist/tensorlane.js";

const TRAIN_LIMIT = 10000; // the built-in subset's size; a larger source is cut to it
const TEST_LIMIT = 2000;
const TRAIN_EVAL = 1000; // training accuracy is measured on this many training images
const PIXELS = 28 * 28;
const CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
const SHOWN_TEST = 16;

let data = null; // { train: { x: Float32Array, y: Int32Array, raw: Uint8Array }, test: {...} }
let runId = 0; // a new train or stop bumps it; a loop whose id is stale ends

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "train") train(message.config).catch(fail);
  else if (message.type === "stop") runId++;
  else if (message.type === "initExperiment") initExperiment(message).catch(fail);
};

function fail(error) {
  postMessage({ type: "error", message: String(error && error.message ? error.message : error) });
}

// ---- data -------------------------------------------------------------------------------------

/** Reads one gzipped IDX file: returns [dims, bytes]. */
async function fetchIdx(name) {
  const response = await fetch(`/data/${name}`);
  if (!response.ok) throw new Error(`could not load /data/${name} (${response.status})`);
  const stream = response.body.pipeThrough(new DecompressionStream("gzip"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  const view = new DataView(bytes.buffer);
  if (view.getUint16(0) !== 0 || bytes[2] !== 0x08) throw new Error(`${name} is not an unsigned-byte IDX file`);
  const dims = Array.from({ length: bytes[3] }, (_, i) => view.getUint32(4 + 4 * i));
  return [dims, bytes.subarray(4 + 4 * dims.length)];
}

// Fashion-MNIST's pixel mean and std: a 256-entry table keeps normalization exact and identical.
const NORMALIZE = Float32Array.from({ length: 256 }, (_, v) => (v / 255 - 0.286) / 0.353);

async function loadSplit(prefix, limit) {
  const [[n], labels] = await fetchIdx(`${prefix}-labels-idx1-ubyte.gz`);
  const [dims, pixels] = await fetchIdx(`${prefix}-images-idx3-ubyte.gz`);
  if (dims[0] !== n || dims[1] * dims[2] !== PIXELS) throw new Error(`${prefix}: unexpected shapes ${dims} / ${n}`);
  const count = Math.min(n, limit);
  const raw = pixels.slice(0, count * PIXELS);
  const x = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) x[i] = NORMALIZE[raw[i]];
  return { n: count, raw, x, y: Int32Array.from(labels.subarray(0, count)) };
}

async function start() {
  // Every core where the page is cross-origin isolated (the demo server sends COOP/COEP); 1 thread
  // elsewhere. Same results either way.
  await tl.init({ threads: "auto" });
  const index = await (await fetch("/data/index.json")).json();
  const capabilities = {
    models: ["fc-100", "fc-256-128", "fc-100x3", ...(typeof tl.DeepConvNet === "function" ? ["conv"] : [])],
    updateRules: ["sgd", "sgdMomentum", "adagrad", "rmsprop", "adam"].filter((r) => typeof tl[r] === "function"),
    initExperiment: typeof tl.runInitExperiment === "function",
  };
  if (index.files.length === 0) {
    postMessage({ type: "ready", data: null, capabilities });
    return;
  }
  const [trainSplit, testSplit] = await Promise.all([loadSplit("train", TRAIN_LIMIT), loadSplit("t10k", TEST_LIMIT)]);
  data = { train: trainSplit, test: testSplit };
  const shown = Array.from({ length: SHOWN_TEST }, (_, i) => {
    const k = Math.floor((i * testSplit.n) / SHOWN_TEST);
    return { index: k, label: testSplit.y[k], pixels: testSplit.raw.slice(k * PIXELS, (k + 1) * PIXELS) };
  });
  postMessage({ type: "ready", data: { train: trainSplit.n, test: testSplit.n, source: index.source, classes: CLASSES, shown }, capabilities });
}

// ---- training ---------------------------------------------------------------------------------

function makeModel(config) {
  const weightScale = config.weightScale === "kaiming" || config.weightScale === "xavier" ? config.weightScale : Number(config.weightScale);
  if (config.model === "conv") {
    return new tl.DeepConvNet({ inputDims: [1, 28, 28], numFilters: [8, 16], maxPools: [0, 1], numClasses: 10, weightScale, seed: config.seed });
  }
  const hiddenDims = { "fc-100": [100], "fc-256-128": [256, 128], "fc-100x3": [100, 100, 100] }[config.model];
  if (!hiddenDims) throw new Error(`unknown model ${config.model}`);
  return new tl.FullyConnectedNet({ hiddenDims, inputDim: PIXELS, numClasses: 10, dropout: config.dropout, weightScale, seed: config.seed });
}

/** A seeded shuffle (integer xorshift: the order is the same in every browser). */
function permutation(n, seed) {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let s = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Predicted classes for the first n rows of a split (model.predict: test mode, argmax in wasm), 500 images at a time. */
function predict(model, split, n) {
  const out = new Int32Array(n);
  const chunk = 500;
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const x = tl.tensor(split.x.subarray(start * PIXELS, (start + m) * PIXELS), [m, 1, 28, 28]);
    out.set(model.predict(x, { batchSize: chunk }), start);
    x.dispose();
  }
  return out;
}

function accuracy(predicted, labels) {
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) right++;
  return right / predicted.length;
}

function evaluate(model, step, epoch) {
  const { train: tr, test: te } = data;
  const testPredictions = predict(model, te, te.n);
  const W1 = model.params.W1;
  const weights = W1.toArray();
  postMessage(
    {
      type: "eval",
      step,
      epoch,
      trainAcc: accuracy(predict(model, tr, TRAIN_EVAL), tr.y.subarray(0, TRAIN_EVAL)),
      valAcc: accuracy(testPredictions, te.y),
      weights,
      weightShape: [...W1.shape],
      predictions: Array.from({ length: SHOWN_TEST }, (_, i) => testPredictions[Math.floor((i * te.n) / SHOWN_TEST)]),
    },
    [weights.buffer],
  );
}

async function train(config) {
  if (!data) throw new Error("no data set loaded");
  const id = ++runId;
  const model = makeModel(config);
  const rule = tl[config.updateRule];
  if (typeof rule !== "function") throw new Error(`unknown update rule ${config.updateRule}`);
  const names = Object.keys(model.params);
  const optim = Object.fromEntries(names.map((n) => [n, { learningRate: config.learningRate }]));
  const B = config.batchSize;
  const { train: tr } = data;
  const stepsPerEpoch = Math.floor(tr.n / B);
  const totalSteps = stepsPerEpoch * config.epochs;
  const evalEvery = Math.max(10, Math.floor(stepsPerEpoch / 4));
  const xb = tl.zeros([B, 1, 28, 28]); // xb: (B, 1, 28, 28), refilled every step
  const batch = new Float32Array(B * PIXELS);
  const yb = new Int32Array(B);
  let order = permutation(tr.n, config.seed);
  let losses = [];
  let step = 0;
  postMessage({ type: "started", totalSteps, stepsPerEpoch });
  evaluate(model, 0, 0);
  try {
    while (step < totalSteps) {
      const sliceEnd = performance.now() + 40; // train ~40 ms, then let messages (Stop) in
      while (step < totalSteps && performance.now() < sliceEnd) {
        const epoch = Math.floor(step / stepsPerEpoch);
        const within = step % stepsPerEpoch;
        if (within === 0 && step > 0) order = permutation(tr.n, config.seed + epoch);
        for (let i = 0; i < B; i++) {
          const k = order[within * B + i];
          batch.set(tr.x.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
          yb[i] = tr.y[k];
        }
        xb.set(batch);
        const [loss, grads] = model.loss(xb, yb);
        for (const name of names) optim[name] = rule(model.params[name], grads[name], optim[name])[1];
        losses.push(loss);
        step++;
        if (step % evalEvery === 0 || step === totalSteps) {
          postMessage({ type: "progress", step, losses });
          losses = [];
          evaluate(model, step, step / stepsPerEpoch);
        }
      }
      if (losses.length > 0) postMessage({ type: "progress", step, losses });
      losses = [];
      await new Promise((r) => setTimeout(r, 0));
      if (id !== runId) break;
    }
  } finally {
    xb.dispose();
    model.dispose?.();
    for (const c of Object.values(optim)) for (const v of Object.values(c)) if (v instanceof tl.Tensor) v.dispose();
    const stopped = step < totalSteps;
    postMessage({ type: "done", step, stopped, memory: tl.memory() });
  }
}

// ---- weight initialization experiment ---------------------------------------------------------

// The course's experiment, as the library runs it: random data through a deep stack of wide
// tanh / ReLU layers, per-layer activation statistics and histograms for each initialization.
async function initExperiment({ width }) {
  if (typeof tl.runInitExperiment !== "function") throw new Error("this build has no runInitExperiment");
  const result = tl.runInitExperiment({ width });
  for (const { scheme, layers } of result.schemes) {
    postMessage({
      type: "init",
      scheme: scheme.name,
      activation: scheme.activation,
      layers: layers.map((l) => ({ mean: l.mean, std: l.std, min: l.edges[0], max: l.edges.at(-1), bins: l.counts })),
    });
  }
  postMessage({ type: "initDone", depth: result.depth });
}

start().catch(fail);
