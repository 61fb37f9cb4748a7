// The demo page: controls, live charts (uPlot), first-layer weights, predictions and the
// weight-initialization experiment. All training happens in worker.js.
import uPlot from "/vendor/uplot/uPlot.esm.js";

const $ = (id) => document.getElementById(id);
const status = (text, error = false) => {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
};

// What tests (and curious people) can read: window.__demo.
const state = {
  ready: false,
  running: false,
  finished: false,
  started: false,
  steps: 0,
  losses: [],
  evals: [],
  testAcc: null,
  initDone: false,
  error: null,
  data: null,
  runtime: null,
  invalid: {},
  finetune: null,
  finetuneError: null,
};
window.__demo = state;

// ---- charts -----------------------------------------------------------------------------------

function chart(target, series, yLabel) {
  const width = Math.max(280, target.clientWidth || 400);
  return new uPlot(
    {
      width,
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: "step" }, { label: yLabel }],
      series: [{ label: "step" }, ...series],
    },
    [[], ...series.map(() => [])],
    target,
  );
}

const lossChart = chart($("lossChart"), [{ label: "loss", stroke: "#2457c5", width: 1.5 }], "loss");
const accChart = chart(
  $("accChart"),
  [
    { label: "train", stroke: "#2457c5", width: 2 },
    { label: "validation", stroke: "#e0671b", width: 2 },
  ],
  "accuracy",
);
const lossData = [[], []];
const accData = [[], [], []];

// ---- pictures ---------------------------------------------------------------------------------

/** Draws a grayscale 28x28 image into a canvas. */
function drawDigit(canvas, pixels) {
  canvas.width = 28;
  canvas.height = 28;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = 255 - pixels[i];
    img.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

/** The last first-layer weights drawn (an eval message) and those at initialization (kept off window.__demo: large). */
const pictures = { last: null, initial: null };

/** Blue (negative) - white (0) - red (positive) for a in [-1, 1]. */
function diverging(a) {
  const r = a > 0 ? 255 : Math.round(255 * (1 + a));
  const b = a < 0 ? 255 : Math.round(255 * (1 - a));
  const g = Math.round(255 * (1 - Math.abs(a)));
  return [r, g, b, 255];
}

/** An ImageData of values drawn with `colour`, each value divided by the largest magnitude among them (per unit). */
function unitImage(ctx, values, side, colour) {
  let scale = 1e-12;
  for (const v of values) scale = Math.max(scale, Math.abs(v));
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) img.data.set(colour(values[i] / scale), i * 4);
  return img;
}

/** Draws `tiles` (arrays of side*side values) in a grid of `cell`-pixel cells on the weights canvas. */
function drawTiles(canvas, tiles, side, cols, cell, colour, gap = 1) {
  const ctx = canvas.getContext("2d");
  canvas.width = cols * cell;
  canvas.height = Math.ceil(tiles.length / cols) * cell;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = false;
  const tile = document.createElement("canvas");
  tile.width = side;
  tile.height = side;
  const tctx = tile.getContext("2d");
  tiles.forEach((values, t) => {
    tctx.putImageData(unitImage(tctx, values, side, colour), 0, 0);
    const x = (t % cols) * cell + gap;
    const y = Math.floor(t / cols) * cell + gap;
    ctx.drawImage(tile, x, y, cell - 2 * gap, cell - 2 * gap);
    if (gap > 1) {
      ctx.strokeStyle = "#c9ced6";
      ctx.strokeRect(x - 0.5, y - 0.5, cell - 2 * gap + 1, cell - 2 * gap + 1);
    }
  });
}

const grey = (a) => {
  const v = Math.round(255 * (1 - Math.max(0, a)));
  return [v, v, v, 255];
};

/**
 * Every first-layer unit, each normalised to its own largest weight. A fully connected net's W1 is
 * (784, H): column j is unit j's 28x28 template. The conv net's W1 is (F, 1, 3, 3): each filter,
 * and under it what it responds to in the first test image (maps: (F, 28, 28), after the ReLU).
 */
function drawWeights(trained, shape, maps, mapsOf) {
  const canvas = $("weights");
  // "change": W1 minus its value at initialization, what training has learned so far (the random
  // start dominates the weights themselves for a while, so they look like noise early on).
  const change = $("weightsView").value === "change" && pictures.initial?.length === trained.length;
  const weights = change ? trained.map((w, i) => w - pictures.initial[i]) : trained;
  const what = change ? "their change since initialization" : "the weights";
  const mapsCanvas = $("featureMaps");
  const width = Math.max(320, canvas.parentElement.clientWidth - 32);
  if (shape.length === 2) {
    const [D, H] = shape;
    $("weightsHint").textContent =
      `All ${H} hidden units: each tile is ${change ? "the change since initialization of " : ""}one unit's ${D} input weights as a 28×28 image, scaled to its own largest value (blue negative, white 0, red positive).`;
    const tiles = Array.from({ length: H }, (_, j) => Array.from({ length: D }, (_, i) => weights[i * H + j]));
    const cell = H > 128 ? 30 : 44;
    drawTiles(canvas, tiles, 28, Math.max(1, Math.floor(width / cell)), cell, diverging);
    mapsCanvas.hidden = true;
    $("mapsHint").hidden = true;
    return;
  }
  const [F, C, K] = shape;
  $("weightsHint").textContent =
    `All ${F} filters of the first convolution (${K}×${K}, ${C} input channel): ${what}, each scaled to its own largest value (blue negative, white 0, red positive).`;
  const per = C * K * K;
  const tiles = Array.from({ length: F }, (_, f) => Array.from(weights.subarray(f * per, f * per + K * K)));
  const cell = 56;
  const cols = Math.max(1, Math.min(F, Math.floor(width / cell)));
  drawTiles(canvas, tiles, K, cols, cell, diverging, 5);
  if (maps) {
    const side = Math.round(Math.sqrt(maps.length / F));
    const mapTiles = Array.from({ length: F }, (_, f) => maps.subarray(f * side * side, (f + 1) * side * side));
    drawTiles(mapsCanvas, mapTiles, side, cols, cell, grey, 2);
    const item = state.data.shown[mapsOf];
    $("mapsHintText").textContent = `What each filter responds to in test image ${item.index} (${state.data.classes[item.label]}, in the predictions below)`;
    mapsCanvas.hidden = false;
    $("mapsHint").hidden = false;
  }
}

function showTestImages(data) {
  const box = $("predictions");
  box.replaceChildren();
  for (const item of data.shown) {
    const figure = document.createElement("figure");
    figure.className = "prediction";
    figure.style.margin = "0";
    const canvas = document.createElement("canvas");
    drawDigit(canvas, item.pixels);
    const caption = document.createElement("figcaption");
    caption.textContent = data.classes[item.label];
    figure.append(canvas, caption);
    box.append(figure);
  }
}

function showPredictions(predictions) {
  const figures = $("predictions").children;
  predictions.forEach((p, i) => {
    const item = state.data.shown[i];
    const figure = figures[i];
    figure.classList.toggle("right", p === item.label);
    figure.classList.toggle("wrong", p !== item.label);
    const caption = figure.querySelector("figcaption");
    caption.replaceChildren(document.createTextNode(state.data.classes[item.label]));
    if (p !== item.label) {
      const guess = document.createElement("span");
      guess.className = "wrong-label";
      guess.textContent = ` (said ${state.data.classes[p]})`;
      caption.append(document.createElement("br"), guess);
    }
  });
}

const fmt = (v) => (Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(2) : v.toExponential(0));

function drawHistograms(scheme, layers) {
  const row = document.createElement("div");
  row.className = "init-row";
  const title = document.createElement("h3");
  title.textContent = `${scheme}: per-layer mean / std ${layers.map((l) => `${l.mean.toFixed(3)} / ${l.std.toFixed(3)}`).join(", ")}`;
  const canvas = document.createElement("canvas");
  canvas.width = 150 * layers.length;
  canvas.height = 90;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  layers.forEach((layer, i) => {
    // After a ReLU about half the values are exactly 0: scale to the other bins (the 0 bar is clipped).
    const max = Math.max(...layer.bins.slice(layer.min === 0 ? 1 : 0));
    const x0 = i * 150 + 6;
    ctx.fillStyle = "#2457c5";
    layer.bins.forEach((count, k) => {
      const h = max > 0 ? Math.min(1, count / max) * 70 : 0;
      ctx.fillRect(x0 + k * 3, 76 - h, 2.5, h);
    });
    ctx.fillStyle = "#5b6575";
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillText(`layer ${i + 1}  [${fmt(layer.min)}, ${fmt(layer.max)}]`, x0, 88);
  });
  row.append(title, canvas);
  $("initResults").append(row);
}

// ---- inputs -----------------------------------------------------------------------------------

// The rules the library applies (Solver, FullyConnectedNet), plus what the page adds: an empty
// field is not 0, a learning rate of 0 and 0 epochs would "train" without training.
const NUMBER_FIELDS = {
  learningRate: { name: "Learning rate", min: 0, minExclusive: true, max: 10, why: "a rate of 0 never changes the weights" },
  epochs: { name: "Epochs", integer: true, min: 1, max: 50, why: "0 epochs would finish without training" },
  dropout: { name: "Dropout", min: 0, max: 1, maxExclusive: true },
  seed: { name: "Seed", integer: true, min: 0, max: 2 ** 32 - 1 },
  cropPadding: { name: "Crop padding", integer: true, min: 1, max: 14 },
  cutoutSize: { name: "Cutout size", integer: true, min: 1, max: 28 },
  mixupAlpha: { name: "Mixup alpha", min: 0, minExclusive: true, max: 10, why: "Beta(alpha, alpha) needs alpha > 0" },
};

/** The field's number, or throws a RangeError with the library's wording: what was expected, what it got. */
function readNumber(id) {
  const rule = NUMBER_FIELDS[id];
  const input = $(id);
  const text = input.value.trim();
  const kind = rule.integer ? "an integer" : "a number";
  if (input.validity.badInput || text === "") throw new RangeError(`${rule.name} must be ${kind} (got ${text === "" ? "nothing" : JSON.stringify(text)})`);
  const value = Number(text);
  if (!Number.isFinite(value) || (rule.integer && !Number.isInteger(value))) throw new RangeError(`${rule.name} must be ${kind} (got ${text})`);
  const low = rule.minExclusive ? value <= rule.min : value < rule.min;
  const high = rule.maxExclusive ? value >= rule.max : value > rule.max;
  if (low || high) {
    const range = `in ${rule.minExclusive ? "(" : "["}${rule.min}, ${rule.max}${rule.maxExclusive ? ")" : "]"}`;
    throw new RangeError(`${rule.name} must be ${range} (got ${value})${low && rule.why ? `: ${rule.why}` : ""}`);
  }
  return value;
}

/** Shows (or clears, with null) the message next to a field. */
function fieldError(id, message) {
  const box = $(`${id}-error`);
  if (message === null) delete state.invalid[id];
  else state.invalid[id] = message;
  if (box) {
    box.textContent = message ?? "";
    box.hidden = message === null;
  }
  $(id)?.setAttribute("aria-invalid", String(message !== null));
}

/** Reads every field; null (and the messages shown) when one is invalid. */
function readConfig() {
  const config = {
    model: $("model").value,
    weightScale: $("weightScale").value,
    updateRule: $("updateRule").value,
    batchSize: Number($("batchSize").value),
  };
  let ok = true;
  for (const id of Object.keys(NUMBER_FIELDS)) {
    if ($(id).disabled) {
      fieldError(id, null);
      continue;
    }
    try {
      config[id] = readNumber(id);
      fieldError(id, null);
    } catch (error) {
      fieldError(id, error.message);
      ok = false;
    }
  }
  if (ok) config.augment = augmentList(config);
  return ok ? config : null;
}

/** The Solver's `augment` option from the checked boxes (fields already read into config); [] when off. */
function augmentList(config) {
  if (!$("augment").checked) return [];
  const list = [];
  if ($("augFlip").checked) list.push({ type: "randomFlip", p: 0.5 });
  if ($("augCrop").checked) list.push({ type: "randomCrop", padding: config.cropPadding });
  if ($("augCutout").checked) list.push({ type: "cutout", size: config.cutoutSize });
  if ($("augMixup").checked) list.push({ type: "mixup", alpha: config.mixupAlpha });
  return list;
}

// Each augmentation's number is read only while its box is ticked (and augmentation is on).
const AUGMENT_PARTS = [
  ["augFlip", null],
  ["augCrop", "cropPadding"],
  ["augCutout", "cutoutSize"],
  ["augMixup", "mixupAlpha"],
];
function syncAugment() {
  const on = $("augment").checked;
  for (const [box, field] of AUGMENT_PARTS) {
    $(box).disabled = !on;
    if (field) {
      $(field).disabled = !on || !$(box).checked;
      if ($(field).disabled) fieldError(field, null);
    }
  }
  $("augmentPanel").hidden = !on;
}

/** Asks the worker for a strip of augmented samples with the current choices (when they are valid). */
function previewAugment() {
  syncAugment();
  if (!state.ready || !$("augment").checked) return;
  const config = readConfig();
  if (config === null) return;
  worker.postMessage({ type: "augmentPreview", augment: config.augment, seed: config.seed });
}

/** Grey pixels from normalized values (x - mean) / std, as the net sees them. */
function drawNormalized(canvas, values, { mean: [mean], std: [std] }) {
  const bytes = new Uint8Array(784);
  for (let i = 0; i < 784; i++) bytes[i] = Math.max(0, Math.min(255, Math.round(255 * (values[i] * std + mean))));
  drawDigit(canvas, bytes);
}

function showAugmentStrip(m) {
  const box = $("augmentStrip");
  box.replaceChildren();
  const { classes, normalization } = state.data;
  m.samples.forEach((sample) => {
    const figure = document.createElement("figure");
    const before = document.createElement("canvas");
    drawDigit(before, sample.original);
    const after = document.createElement("canvas");
    after.className = "augmented";
    drawNormalized(after, sample.augmented, normalization);
    const caption = document.createElement("figcaption");
    caption.textContent = sample.mix.map(([label, weight]) => (sample.mix.length > 1 ? `${weight.toFixed(2)} ${classes[label]}` : classes[label])).join(" + ");
    figure.append(before, after, caption);
    box.append(figure);
  });
  $("augmentHint").hidden = false;
  state.augmentPreview = { augment: m.augment, count: m.samples.length, captions: m.samples.map((s) => s.mix) };
}

for (const id of Object.keys(NUMBER_FIELDS)) {
  $(id).addEventListener("input", () => {
    try {
      readNumber(id);
      fieldError(id, null);
    } catch (error) {
      fieldError(id, error.message);
    }
  });
}

for (const id of ["augment", ...AUGMENT_PARTS.map(([box]) => box)]) $(id).addEventListener("change", previewAugment);
for (const id of ["cropPadding", "cutoutSize", "mixupAlpha", "seed"]) $(id).addEventListener("change", previewAugment);
syncAugment();

$("weightsView").addEventListener("change", () => {
  const m = pictures.last;
  if (m) drawWeights(m.weights, m.weightShape, m.maps, m.mapsOf);
});

// DeepConvNet has no dropout.
const syncDropout = () => ($("dropout").disabled = $("model").value === "conv");
$("model").addEventListener("change", syncDropout);
syncDropout();

// ---- worker -----------------------------------------------------------------------------------

function showRuntime(info) {
  state.runtime = info;
  const threads = info.threads === 1 ? "1 thread" : `${info.threads} threads`;
  const text = `Kernels: WebAssembly ${info.simd}, ${threads} (${info.cores} cores reported${info.sharedMemory ? ", shared memory" : ""})`;
  $("runtime").textContent = info.reason ? `${text}. Threads off: ${info.reason}` : `${text}.`;
}

const worker = new Worker(`/worker.js${location.search}`, { type: "module" });
worker.onerror = (event) => {
  state.error = event.message || "the worker failed to start";
  status(`Error: ${state.error}`, true);
};
worker.onmessage = ({ data: m }) => {
  switch (m.type) {
    case "ready": {
      state.capabilities = m.capabilities;
      showRuntime(m.runtime);
      for (const option of $("updateRule").options) option.disabled = !m.capabilities.updateRules.includes(option.value);
      $("runInit").disabled = !m.capabilities.initExperiment;
      $("finetunePanel").hidden = !m.capabilities.finetune;
      $("augmentBox").hidden = !m.capabilities.augment;
      if (!m.capabilities.augment) $("augment").checked = false;
      if (!m.data) {
        status("No data set found: build the package's data set (or apt-get install dataset-fashion-mnist), then reload.", true);
        break;
      }
      state.data = m.data;
      state.ready = true;
      showTestImages(m.data);
      $("train").disabled = false;
      $("finetune").disabled = false;
      const [mean] = m.data.normalization.mean;
      const [std] = m.data.normalization.std;
      previewAugment();
      status(
        `Ready: ${m.data.train} training, ${m.data.val} validation and ${m.data.test} test images (Fashion-MNIST; pixels normalised with the training split's mean ${mean.toFixed(3)}, std ${std.toFixed(3)}). Press Train.`,
      );
      break;
    }
    case "started":
      state.started = true;
      pictures.initial = m.initialWeights;
      state.solverAugment = m.augment; // what the Solver was given, as it reports it
      state.totalSteps = m.totalSteps;
      break;
    case "invalid":
      state.running = false;
      $("train").disabled = false;
      $("stop").disabled = true;
      if (m.field) fieldError(m.field, m.message);
      status(`Not started: ${m.message}`, true);
      break;
    case "progress":
      for (const loss of m.losses) {
        state.losses.push(loss);
        lossData[0].push(lossData[0].length + 1);
        lossData[1].push(loss);
      }
      state.steps = m.step;
      lossChart.setData(lossData);
      status(
        `Training: step ${m.step} of ${state.totalSteps} (epoch ${Math.min(m.epoch + 1, state.config.epochs)} of ${state.config.epochs}), loss ${m.losses.at(-1)?.toFixed(4) ?? "…"}`,
      );
      break;
    case "eval":
      if (m.valAcc !== null) {
        state.evals.push({ step: m.step, trainAcc: m.trainAcc, valAcc: m.valAcc });
        accData[0].push(m.step);
        accData[1].push(m.trainAcc);
        accData[2].push(m.valAcc);
        accChart.setData(accData);
      }
      pictures.last = m;
      drawWeights(m.weights, m.weightShape, m.maps, m.mapsOf);
      showPredictions(m.predictions);
      break;
    case "done": {
      state.running = false;
      state.finished = true;
      state.testAcc = m.testAcc;
      state.memory = m.memory; // tl.memory() after the run's model and Solver are disposed
      $("train").disabled = false;
      $("stop").disabled = true;
      const best = m.bestValAcc === null ? "" : `, with the parameters that scored best on validation (${(100 * m.bestValAcc).toFixed(1)}%)`;
      const text = `Test accuracy ${(100 * m.testAcc).toFixed(1)}% on ${state.data.test} test images${best}.`;
      $("testAcc").textContent = text;
      status(`${m.stopped ? "Stopped" : "Done"} after ${m.step} steps: test accuracy ${(100 * m.testAcc).toFixed(1)}%.`);
      break;
    }
    case "augmentPreview":
      showAugmentStrip(m);
      break;
    case "init":
      drawHistograms(m.scheme, m.layers);
      break;
    case "initDone":
      state.initDone = true;
      status("Initialization experiment done.");
      $("runInit").disabled = false;
      break;
    case "finetuneStarted":
      $("ftTable").hidden = false;
      for (const [g, id] of [
        ["old", "ftOldBefore"],
        ["new", "ftNewBefore"],
        ["all", "ftAllBefore"],
      ])
        $(id).textContent = percent(m.before[g]);
      $("ftSummary").textContent = m.summary;
      $("ftSummaryBox").hidden = false;
      $("ftStatus").textContent = `Imported ${m.source}: ${m.frozen} parameter tensors frozen, ${m.trained} trained; inputs scaled ${m.normalized}. Training…`;
      break;
    case "finetuneProgress":
      $("ftStatus").textContent = `Epoch ${m.epoch} of ${m.epochs}: loss ${m.loss.toFixed(4)}, validation accuracy ${percent(m.valAcc)}`;
      break;
    case "finetuneDone":
      state.finetune = m;
      $("finetune").disabled = false;
      for (const [g, id] of [
        ["old", "ftOldAfter"],
        ["new", "ftNewAfter"],
        ["all", "ftAllAfter"],
      ])
        $(id).textContent = percent(m.after[g]);
      $("ftStatus").textContent = `Done in ${m.seconds.toFixed(1)} s (best validation accuracy ${percent(m.bestValAcc)}).`;
      $("ftFrozen").textContent = m.frozenUnchanged
        ? `Every frozen parameter (${m.frozenValues.toLocaleString("en-US")} values) kept its exact bits.`
        : "A frozen parameter changed: this is a bug, please report it.";
      break;
    case "finetuneError":
      state.finetuneError = m.message;
      $("finetune").disabled = false;
      $("ftError").textContent = m.message;
      $("ftError").hidden = false;
      $("ftStatus").textContent = "";
      break;
    case "error":
      state.error = m.message;
      state.running = false;
      $("train").disabled = !state.ready;
      $("stop").disabled = true;
      status(`Error: ${m.message}`, true);
      break;
  }
};

$("train").addEventListener("click", () => {
  const config = readConfig();
  if (config === null) {
    const count = Object.keys(state.invalid).length;
    status(
      `Not started: ${count === 1 ? "a field needs fixing (see the message under it)" : `${count} fields need fixing (see the messages under them)`}.`,
      true,
    );
    return;
  }
  state.config = config;
  state.running = true;
  state.started = false;
  state.finished = false;
  state.steps = 0;
  state.losses = [];
  state.evals = [];
  state.testAcc = null;
  $("testAcc").textContent = "";
  for (const series of [...lossData, ...accData]) series.length = 0;
  lossChart.setData(lossData);
  accChart.setData(accData);
  $("train").disabled = true;
  $("stop").disabled = false;
  status("Starting…");
  worker.postMessage({ type: "train", config });
});

$("stop").addEventListener("click", () => worker.postMessage({ type: "stop" }));

function percent(x) {
  return x === null || x === undefined ? "-" : `${(100 * x).toFixed(1)}%`;
}

/** The fine-tuning panel: the shipped model, or an .onnx file chosen or dropped on the panel. */
async function startFinetune(file) {
  $("ftError").hidden = true;
  const epochs = Number($("ftEpochs").value);
  const learningRate = Number($("ftLearningRate").value);
  if (!(Number.isInteger(epochs) && epochs >= 1 && epochs <= 20)) return showFtError("Epochs must be a whole number from 1 to 20.");
  if (!(learningRate > 0 && Number.isFinite(learningRate))) return showFtError("The learning rate must be a number above 0, e.g. 0.01.");
  const onnx = file ? await file.arrayBuffer() : null;
  state.finetune = null;
  state.finetuneError = null;
  $("finetune").disabled = true;
  $("ftFrozen").textContent = "";
  for (const id of ["ftOldAfter", "ftNewAfter", "ftAllAfter"]) $(id).textContent = "";
  $("ftStatus").textContent = `Importing ${file ? file.name : "the pretrained model"}…`;
  worker.postMessage({ type: "finetune", onnx, name: file?.name ?? null, epochs, learningRate }, onnx ? [onnx] : []);
}

function showFtError(message) {
  $("ftError").textContent = message;
  $("ftError").hidden = false;
}

$("finetune").addEventListener("click", () => startFinetune($("ftFile").files[0] ?? null));
$("finetunePanel").addEventListener("dragover", (event) => {
  event.preventDefault();
  $("finetunePanel").classList.add("dragging");
});
$("finetunePanel").addEventListener("dragleave", () => $("finetunePanel").classList.remove("dragging"));
$("finetunePanel").addEventListener("drop", (event) => {
  event.preventDefault();
  $("finetunePanel").classList.remove("dragging");
  const file = event.dataTransfer?.files?.[0];
  if (file && !$("finetune").disabled) startFinetune(file);
});

$("runInit").addEventListener("click", () => {
  $("runInit").disabled = true;
  state.initDone = false;
  $("initResults").replaceChildren();
  const width = Number(new URLSearchParams(location.search).get("initWidth") ?? $("initWidth").value);
  status(`Running the initialization experiment (width ${width})…`);
  worker.postMessage({ type: "initExperiment", width });
});
