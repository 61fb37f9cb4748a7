// The demo's training worker, built on the library alone: tensorlane's IDX/gzip readers load the
// data set, splitTrainVal holds out a validation split, computeNormalization (on the training
// split) normalizes every split, a Solver trains (seeded sampling, onProgress), model.predict
// scores the test set once training ends.
// Messages in:  { type: "train", config } | { type: "stop" } | { type: "initExperiment", width }
//               | { type: "finetune", onnx: ArrayBuffer | null, name, epochs, learningRate }
// Messages out: { type: "ready" | "started" | "progress" | "eval" | "done" | "invalid" | "init" | "initDone" | "error"
//               | "finetuneStarted" | "finetuneProgress" | "finetuneDone" | "finetuneError", ... }
import * as tl from "/dist/tensorlane.js";
import { importOnnx, onnxMetadata } from "/dist/onnx.js";
import * as tlData from "/dist/data.js";
import { runInitExperiment } from "/dist/experiments.js";

const VAL_COUNT = 1000; // held out from the training images, for the validation curve and the best-epoch pick
const TRAIN_EVAL = 1000; // the training-accuracy curve is measured on this many training images
const SHOWN_TEST = 16;
const MAPS_OF = 9; // the shown test image the conv filters' responses are drawn for (an ankle boot: edges in every direction)
const EVALS_PER_EPOCH = 8; // points on the accuracy chart per epoch
const SLICE_MS = 40;
const EVAL_SHARE = 4; // train at least 4x as long as the last accuracy point took before taking another // train this long, then let messages (Stop) in

/** The data once loaded: ImageDatasets, the normalization, and the tensors the Solver reads. */
let data = null;
let runId = 0; // a new train or stop bumps it; a run whose id is stale ends

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "train") train(message.config).catch(fail);
  else if (message.type === "stop") runId++;
  else if (message.type === "augmentPreview") augmentPreview(message);
  else if (message.type === "initExperiment") initExperiment(message).catch(fail);
  else if (message.type === "finetune") finetune(message).catch((error) => postMessage({ type: "finetuneError", message: String(error?.message ?? error) }));
};

function fail(error) {
  postMessage({ type: "error", message: String(error?.message ? error.message : error) });
}

// ---- data -------------------------------------------------------------------------------------

async function fetchBytes(name) {
  const response = await fetch(`/data/${name}`);
  if (!response.ok) throw new Error(`could not load /data/${name} (${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}

/** One split from its gzipped IDX files, read by the library (gunzip, header checks, label range). */
async function loadSplit(prefix) {
  const imagesName = `${prefix}-images-idx3-ubyte.gz`;
  const labelsName = `${prefix}-labels-idx1-ubyte.gz`;
  const [images, labels] = await Promise.all([fetchBytes(imagesName), fetchBytes(labelsName)]);
  return tlData.readIdxDataset(images, labels, { imagesName, labelsName, numClasses: 10, classes: tlData.FASHION_MNIST_CLASSES });
}

/** The first n images of a data set (all when n is null or larger). */
function firstImages(ds, n) {
  const size = tlData.datasetSize(ds);
  if (n === null || n >= size) return ds;
  return tlData.subset(
    ds,
    Int32Array.from({ length: n }, (_, i) => i),
  );
}

async function start() {
  // Every core where the page is cross-origin isolated (the demo server sends COOP/COEP); 1 thread
  // elsewhere (runtimeInfo().reason says why). Same results either way.
  await tl.init({ threads: "auto" });
  const runtime = tl.runtimeInfo();
  const index = await (await fetch("/data/index.json")).json();
  const capabilities = {
    models: ["fc-100", "fc-256-128", "fc-100x3", "conv"],
    updateRules: ["sgd", "sgdMomentum", "adagrad", "rmsprop", "adam"],
    initExperiment: true,
    finetune: typeof importOnnx === "function",
    augment: typeof tl.randomFlip === "function", // the augmentation API (issue 14)
  };
  if (index.files.length === 0) {
    postMessage({ type: "ready", data: null, capabilities, runtime });
    return;
  }
  const params = new URLSearchParams(self.location.search);
  const trainLimit = params.has("trainImages") ? Number(params.get("trainImages")) : null;
  if (trainLimit !== null && !(Number.isInteger(trainLimit) && trainLimit >= 1)) {
    throw new RangeError(`?trainImages must be a positive integer (got ${JSON.stringify(params.get("trainImages"))})`);
  }
  const [full, test] = await Promise.all([loadSplit("train"), loadSplit("t10k")]);
  // Validation comes out of the training images (seed fixed: the same split every run); the test
  // images are only scored once a run ends.
  const split = tlData.splitTrainVal(full, { valCount: VAL_COUNT, seed: 0 });
  const train = firstImages(split.train, trainLimit);
  const normalization = tlData.computeNormalization(train);
  const { XTrain, yTrain, XVal, yVal } = tlData.toSolverData(train, split.val, normalization); // (N, 1, 28, 28) each
  const XTest = tlData.toTensor(test, { normalization }); // (Ntest, 1, 28, 28)
  const yTest = tlData.labelsOf(test);
  const trainEvalCount = Math.min(TRAIN_EVAL, tlData.datasetSize(train));
  const XTrainEval = tlData.toTensor(train, { indices: Int32Array.from({ length: trainEvalCount }, (_, i) => i), normalization });
  const yTrainEval = yTrain.slice(0, trainEvalCount);
  const nTest = tlData.datasetSize(test);
  const shownIndices = Int32Array.from({ length: SHOWN_TEST }, (_, i) => Math.floor((i * nTest) / SHOWN_TEST));
  const XShown = tlData.toTensor(test, { indices: shownIndices, normalization }); // (16, 1, 28, 28)
  const pixels = 28 * 28;
  const shown = Array.from(shownIndices, (k) => ({ index: k, label: yTest[k], pixels: test.images.slice(k * pixels, (k + 1) * pixels) }));
  data = { train, val: split.val, test, normalization, XTrain, yTrain, XVal, yVal, XTest, yTest, XTrainEval, yTrainEval, XShown };
  postMessage({
    type: "ready",
    runtime,
    capabilities,
    data: {
      train: tlData.datasetSize(train),
      val: tlData.datasetSize(split.val),
      test: nTest,
      source: index.source,
      classes: tlData.FASHION_MNIST_CLASSES,
      normalization,
      shown,
    },
  });
}

// ---- training ---------------------------------------------------------------------------------

const HIDDEN = { "fc-100": [100], "fc-256-128": [256, 128], "fc-100x3": [100, 100, 100] };

function makeModel(config) {
  const weightScale = config.weightScale === "kaiming" || config.weightScale === "xavier" ? config.weightScale : Number(config.weightScale);
  if (config.model === "conv") {
    // 16 first-layer filters over the raw image: edge and blob detectors, drawn with what they see.
    return new tl.DeepConvNet({ inputDims: [1, 28, 28], numFilters: [16, 32], maxPools: [0, 1], numClasses: 10, weightScale, seed: config.seed });
  }
  const hiddenDims = HIDDEN[config.model];
  if (!hiddenDims) throw new TypeError(`unknown model ${config.model}`);
  return new tl.FullyConnectedNet({ hiddenDims, inputDim: 784, numClasses: 10, dropout: config.dropout, weightScale, seed: config.seed });
}

/** Which form field a library error is about, from the option it names (null: none of them). */
function fieldOf(message) {
  const fields = [
    [/learningRate/, "learningRate"],
    [/numEpochs/, "epochs"],
    [/batchSize/, "batchSize"],
    [/dropout/, "dropout"],
    [/seed/, "seed"],
    [/weightScale/, "weightScale"],
    [/padding/, "cropPadding"],
    [/\.size/, "cutoutSize"],
    [/alpha/, "mixupAlpha"],
  ];
  return fields.find(([pattern]) => pattern.test(message))?.[1] ?? null;
}

/** Fraction of predictions equal to the labels. */
function accuracy(predicted, labels) {
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) right++;
  return right / predicted.length;
}

/** The first layer's weights: (784, H) for a fully connected net, (F, 1, 3, 3) for the conv net. */
function firstLayer(model) {
  const W1 = model.params.W1;
  return { weights: W1.toArray(), shape: [...W1.shape] };
}

/** What each first-layer conv filter sees in shown test image MAPS_OF: its ReLU'd response maps (F, 28, 28). */
function featureMaps(model) {
  const { W1, b1 } = model.params; // (F, 1, 3, 3), (F)
  const image = tl.tensor(data.XShown.toArray().subarray(MAPS_OF * 784, (MAPS_OF + 1) * 784), [1, 1, 28, 28]);
  try {
    const [out, cache] = tl.ConvReLU.forward(image, W1, b1, { stride: 1, pad: 1 }); // out: (1, F, 28, 28)
    cache.reluCache.x.dispose(); // the conv output before the ReLU; the cache's x, w, b are not ours
    const maps = out.toArray();
    out.dispose();
    return maps;
  } finally {
    image.dispose();
  }
}

function postEval(model, step, epoch, trainAcc, valAcc) {
  const { weights, shape } = firstLayer(model);
  const maps = shape.length === 4 ? featureMaps(model) : null;
  const predictions = model.predict(data.XShown);
  const transfer = [weights.buffer, ...(maps ? [maps.buffer] : [])];
  postMessage(
    { type: "eval", step, epoch, trainAcc, valAcc, weights, weightShape: shape, maps, mapsOf: MAPS_OF, predictions: Array.from(predictions) },
    transfer,
  );
}

// Thrown from onProgress to hand the thread back between slices: Solver.train() resumes at the
// next iteration when called again (it continues from lossHistory.length), so a run pauses
// without a training loop of its own.
const PAUSE = Symbol("pause");

async function train(config) {
  if (!data) throw new Error("no data set loaded");
  const id = ++runId;
  let model;
  let solver;
  try {
    model = makeModel(config);
    solver = new tl.Solver(
      model,
      { XTrain: data.XTrain, yTrain: data.yTrain, XVal: data.XVal, yVal: data.yVal },
      {
        updateRule: config.updateRule,
        optimConfig: { learningRate: config.learningRate },
        batchSize: config.batchSize,
        numEpochs: config.epochs,
        seed: config.seed,
        verbose: false,
        ...(config.augment.length > 0 ? { augment: config.augment } : {}),
      },
    );
  } catch (error) {
    model?.dispose?.();
    // The library's own check said no: show it next to the field it names, train nothing.
    if (error instanceof TypeError || error instanceof RangeError) {
      postMessage({ type: "invalid", field: fieldOf(error.message), message: error.message });
      return;
    }
    throw error;
  }
  const perEpoch = solver.iterationsPerEpoch;
  const totalSteps = perEpoch * config.epochs;
  const evalEvery = Math.max(1, Math.floor(perEpoch / EVALS_PER_EPOCH));
  let losses = [];
  let sliceEnd = performance.now() + SLICE_MS;
  // Accuracy points cost forward passes over 2,000 images (seconds for the conv net on a slow
  // machine): between the Solver's own checks, take one only after training for EVAL_SHARE times
  // as long as the last one took, so the run spends most of its time training.
  let lastEvalEnd = 0;
  let lastEvalCost = 0;
  solver.onProgress = (e) => {
    losses.push(e.loss);
    const now = performance.now();
    const solverChecked = e.valAcc !== undefined;
    const due = e.iteration % evalEvery === 0 && now - lastEvalEnd >= EVAL_SHARE * lastEvalCost;
    if (solverChecked || due) {
      postMessage({ type: "progress", step: e.iteration, epoch: e.epoch, losses, learningRate: e.learningRate });
      losses = [];
      // Validation accuracy over the whole held-out split, training accuracy on a fixed sample:
      // checkAccuracy without a sample count draws no random numbers, so the run is the same with or without these points.
      const trainAcc = e.trainAcc ?? solver.checkAccuracy(data.XTrainEval, data.yTrainEval);
      const valAcc = e.valAcc ?? solver.checkAccuracy(data.XVal, data.yVal);
      postEval(model, e.iteration, e.iteration / perEpoch, trainAcc, valAcc);
      lastEvalEnd = performance.now();
      lastEvalCost = lastEvalEnd - now;
    }
    if (performance.now() > sliceEnd) throw PAUSE;
  };
  const initial = firstLayer(model); // the page can draw what training changed: W1 - W1 at initialization
  postMessage({ type: "started", totalSteps, stepsPerEpoch: perEpoch, evalEvery, config, augment: solver.augment ?? [], initialWeights: initial.weights }, [
    initial.weights.buffer,
  ]);
  let stopped = false;
  let done;
  try {
    for (;;) {
      try {
        solver.train(); // restores the best parameters (by validation accuracy) when it finishes
        break;
      } catch (error) {
        if (error !== PAUSE) throw error;
      }
      if (losses.length > 0) postMessage({ type: "progress", step: solver.iteration, epoch: solver.epoch, losses });
      losses = [];
      await new Promise((r) => setTimeout(r, 0));
      sliceEnd = performance.now() + SLICE_MS;
      if (id !== runId) {
        stopped = true;
        break;
      }
    }
    let bestValAcc = solver.valAccHistory.length > 0 ? solver.bestValAcc : null;
    if (stopped) {
      // The Solver keeps the best parameters of its own checks (epoch ends); stopped midway, the
      // current ones may be better: keep whichever does better on validation.
      const valNow = solver.checkAccuracy(data.XVal, data.yVal);
      if (bestValAcc !== null && bestValAcc > valNow) solver.restoreBest();
      else bestValAcc = valNow;
    }
    // The test set, once, with the parameters the validation split picked.
    const testPredictions = model.predict(data.XTest, { batchSize: 500 });
    const testAcc = accuracy(testPredictions, data.yTest);
    postEval(model, solver.iteration, solver.iteration / perEpoch, null, null); // the pictures of the restored parameters
    done = { type: "done", step: solver.iteration, stopped, testAcc, bestValAcc };
  } finally {
    solver.dispose();
    model.dispose?.();
  }
  postMessage({ ...done, memory: tl.memory() }); // what stays allocated between runs: the data set's tensors
}

// ---- fine-tuning a pretrained model -----------------------------------------------------------

const PRETRAINED = "/assets/pretrained-0to4.onnx";
const OLD_CLASSES = [0, 1, 2, 3, 4]; // what the shipped model was trained on

/** Test accuracy on classes 0-4, 5-9 and all ten, from predictions over the whole test set. */
function groupAccuracy(predicted) {
  const groups = { old: [0, 0], new: [0, 0], all: [0, 0] };
  for (let i = 0; i < predicted.length; i++) {
    const label = data.yTest[i];
    const right = predicted[i] === label ? 1 : 0;
    for (const g of [OLD_CLASSES.includes(label) ? "old" : "new", "all"]) {
      groups[g][0] += right;
      groups[g][1] += 1;
    }
  }
  return Object.fromEntries(Object.entries(groups).map(([g, [right, n]]) => [g, n === 0 ? null : right / n]));
}

/**
 * Imports an ONNX model (the shipped one, or the user's) with a new 10-class head, freezes all
 * but that head, and trains it on the training images of all ten classes; reports test accuracy
 * before and after, and whether every frozen parameter kept its bits.
 */
async function finetune({ onnx, name, epochs, learningRate }) {
  if (!data) throw new Error("no data set loaded");
  const bytes = onnx ? new Uint8Array(onnx) : new Uint8Array(await (await fetch(PRETRAINED)).arrayBuffer());
  const source = onnx ? name : "pretrained-0to4.onnx (shipped with the demo)";
  // The scaling the model was trained with, when the file records it (tensorlane export does).
  const recorded = onnxMetadata(bytes).normalization;
  const normalization = recorded ? tlData.decodeNormalization(tlData.encodeNormalization(JSON.parse(recorded))) : data.normalization;
  const model = importOnnx(bytes, { numClasses: 10, seed: 1 });
  let solver = null;
  let XTest = null;
  try {
    const inputShape = model.config.inputShape;
    if (inputShape.join() !== "1,28,28") throw new RangeError(`${source} takes inputs of ${inputShape.join("x")}; this page's images are 1x28x28`);
    const headModule = model.modules.filter((m) => Object.keys(m.params).length > 0).at(-1);
    const head = new Set(model.parameterNames.slice(-Object.keys(headModule.params).length));
    model.freeze((n) => !head.has(n));
    const frozenBefore = model.getParameters();
    XTest = tlData.toTensor(data.test, { normalization });
    const before = groupAccuracy(model.predict(XTest, { batchSize: 500 }));
    postMessage({
      type: "finetuneStarted",
      source,
      summary: model.summary(),
      before,
      normalized: recorded ? "as the file records" : "with this page's training split (the file records no scaling)",
      frozen: model.frozen.length,
      trained: head.size,
    });
    solver = new tl.Solver(
      model,
      { train: data.train, val: data.val, normalization },
      {
        updateRule: "adam",
        optimConfig: { learningRate },
        batchSize: 64,
        numEpochs: epochs,
        seed: 2,
        verbose: false,
        onProgress: (e) => {
          if (e.valAcc !== undefined && e.iteration > 1) postMessage({ type: "finetuneProgress", epoch: e.epoch, epochs, loss: e.loss, valAcc: e.valAcc });
        },
      },
    );
    const started = performance.now();
    solver.train();
    const seconds = (performance.now() - started) / 1000;
    const after = groupAccuracy(model.predict(XTest, { batchSize: 500 }));
    // Frozen parameters: compared as 32-bit words, so a -0 or a NaN payload would count too.
    const frozenAfter = model.getParameters();
    const words = [new Uint32Array(frozenBefore.buffer), new Uint32Array(frozenAfter.buffer)];
    const headStart = model.parameterNames.filter((n) => !head.has(n)).reduce((sum, n) => sum + model.params[n].size, 0);
    let unchanged = true;
    for (let i = 0; i < headStart; i++) if (words[0][i] !== words[1][i]) unchanged = false;
    postMessage({ type: "finetuneDone", before, after, frozenUnchanged: unchanged, frozenValues: headStart, seconds, bestValAcc: solver.bestValAcc });
  } finally {
    solver?.dispose();
    XTest?.dispose();
    model.dispose();
  }
}

// ---- augmentation preview ---------------------------------------------------------------------

const PREVIEW = 8;

/**
 * The first PREVIEW training images through the chosen augmentations, in order, with the library's
 * functions (augmentation j draws from stream seed + j). Mixup also mixes the labels: each sample
 * reports its classes with their weights.
 */
function augmentPreview({ augment, seed }) {
  if (!data) return;
  const indices = Int32Array.from({ length: PREVIEW }, (_, i) => i);
  let x = tlData.toTensor(data.train, { indices, normalization: data.normalization }); // (8, 1, 28, 28)
  let soft = null; // (8, 10) after a mixup
  const labels = tlData.labelsOf(data.train, indices);
  try {
    augment.forEach((a, j) => {
      const stream = { seed: (seed + j) >>> 0 };
      let next;
      if (a.type === "randomFlip") next = tl.randomFlip(x, { ...stream, p: a.p });
      else if (a.type === "randomCrop") next = tl.randomCrop(x, { ...stream, padding: a.padding });
      else if (a.type === "cutout") next = tl.cutout(x, { ...stream, size: a.size });
      else if (a.type === "mixup") {
        const [xm, ym] = tl.mixup(x, soft ?? labels, { ...stream, alpha: a.alpha, numClasses: 10 });
        soft?.dispose();
        soft = ym;
        next = xm;
      } else throw new TypeError(`unknown augmentation ${a.type}`);
      x.dispose();
      x = next;
    });
    const augmented = x.toArray();
    const weights = soft?.toArray();
    const pixels = 784;
    const samples = Array.from(indices, (k, i) => {
      const mix = weights
        ? Array.from(weights.subarray(i * 10, (i + 1) * 10), (w, c) => [c, w])
            .filter(([, w]) => w > 0.005)
            .sort((a, b) => b[1] - a[1])
        : [[labels[i], 1]];
      return { original: data.train.images.slice(k * pixels, (k + 1) * pixels), augmented: augmented.slice(i * pixels, (i + 1) * pixels), mix };
    });
    postMessage({ type: "augmentPreview", augment, samples });
  } finally {
    x.dispose();
    soft?.dispose();
  }
}

// ---- weight initialization experiment ---------------------------------------------------------

// The course's experiment, as the library runs it: random data through a deep stack of wide
// tanh / ReLU layers, per-layer activation statistics and histograms for each initialization.
async function initExperiment({ width }) {
  const result = runInitExperiment({ width });
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
