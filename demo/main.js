// The demo page: controls, live charts (uPlot), first-layer weights, predictions and the
// weight-initialization experiment. All training happens in worker.js.
import uPlot from "/vendor/uplot/uPlot.esm.js";

const $ = (id) => document.getElementById(id);
const status = (text, error = false) => {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
};

// What tests (and curious people) can read: window.__demo.
const state = { ready: false, running: false, steps: 0, losses: [], evals: [], initDone: false, error: null, data: null };
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
    { label: "test", stroke: "#e0671b", width: 2 },
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

/** First-layer weights: one tile per hidden unit (columns of W1: (784, H)), blue < 0 < red. */
function drawWeights(weights, shape) {
  const canvas = $("weights");
  const ctx = canvas.getContext("2d");
  let tiles = [];
  let side = 28;
  if (shape.length === 2) {
    const [D, H] = shape;
    $("weightsHint").textContent = `Each tile is one hidden unit's ${D} input weights, drawn as a 28×28 image (blue negative, red positive).`;
    for (let j = 0; j < Math.min(H, 32); j++) tiles.push(Array.from({ length: D }, (_, i) => weights[i * H + j]));
  } else {
    const [F, , K] = shape; // conv filters (F, C, K, K): the first input channel of each
    side = K;
    $("weightsHint").textContent = `Each tile is one ${K}×${K} filter of the first convolution (blue negative, red positive).`;
    const per = weights.length / F;
    for (let f = 0; f < Math.min(F, 32); f++) tiles.push(Array.from(weights.subarray(f * per, f * per + K * K)));
  }
  const cols = 16;
  const cell = 40;
  canvas.width = cols * cell;
  canvas.height = Math.ceil(tiles.length / cols) * cell;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const tile = document.createElement("canvas");
  tile.width = side;
  tile.height = side;
  const tctx = tile.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  tiles.forEach((w, t) => {
    let scale = 1e-12;
    for (const v of w) scale = Math.max(scale, Math.abs(v));
    const img = tctx.createImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const a = w[i] / scale; // [-1, 1]
      const r = a > 0 ? 255 : Math.round(255 * (1 + a));
      const b = a < 0 ? 255 : Math.round(255 * (1 - a));
      const g = Math.round(255 * (1 - Math.abs(a)));
      img.data.set([r, g, b, 255], i * 4);
    }
    tctx.putImageData(img, 0, 0);
    ctx.drawImage(tile, (t % cols) * cell + 2, Math.floor(t / cols) * cell + 2, cell - 4, cell - 4);
  });
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
  title.textContent = `${scheme}: per-layer mean / std ` + layers.map((l) => `${l.mean.toFixed(3)} / ${l.std.toFixed(3)}`).join(", ");
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

// ---- worker -----------------------------------------------------------------------------------

const worker = new Worker("/worker.js", { type: "module" });
worker.onerror = (event) => {
  state.error = event.message || "the worker failed to start";
  status(`Error: ${state.error}`, true);
};
worker.onmessage = ({ data: m }) => {
  switch (m.type) {
    case "ready": {
      state.capabilities = m.capabilities;
      if (m.capabilities.models.includes("conv")) $("model").append(new Option("DeepConvNet [8, 16] (pool after 2nd)", "conv"));
      for (const option of $("updateRule").options) option.disabled = !m.capabilities.updateRules.includes(option.value);
      $("runInit").disabled = !m.capabilities.initExperiment;
      if (!m.data) {
        status("No data set found: build the package's data set (or apt-get install dataset-fashion-mnist), then reload.", true);
        break;
      }
      state.data = m.data;
      state.ready = true;
      showTestImages(m.data);
      $("train").disabled = false;
      status(`Ready: ${m.data.train} training and ${m.data.test} test images (Fashion-MNIST). Press Train.`);
      break;
    }
    case "started":
      state.totalSteps = m.totalSteps;
      break;
    case "progress":
      for (const loss of m.losses) {
        state.losses.push(loss);
        lossData[0].push(lossData[0].length + 1);
        lossData[1].push(loss);
      }
      state.steps = m.step;
      lossChart.setData(lossData);
      status(`Training: step ${m.step} of ${state.totalSteps}, loss ${m.losses.at(-1)?.toFixed(4) ?? "…"}`);
      break;
    case "eval":
      state.evals.push({ step: m.step, trainAcc: m.trainAcc, valAcc: m.valAcc });
      accData[0].push(m.step);
      accData[1].push(m.trainAcc);
      accData[2].push(m.valAcc);
      accChart.setData(accData);
      drawWeights(m.weights, m.weightShape);
      showPredictions(m.predictions);
      break;
    case "done": {
      state.running = false;
      state.finished = true;
      $("train").disabled = false;
      $("stop").disabled = true;
      const last = state.evals.at(-1);
      status(`${m.stopped ? "Stopped" : "Done"} after ${m.step} steps: test accuracy ${last ? (100 * last.valAcc).toFixed(1) : "?"}%.`);
      break;
    }
    case "init":
      drawHistograms(m.scheme, m.layers);
      break;
    case "initDone":
      state.initDone = true;
      status("Initialization experiment done.");
      $("runInit").disabled = false;
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
  const config = {
    model: $("model").value,
    dropout: Number($("dropout").value),
    weightScale: $("weightScale").value,
    updateRule: $("updateRule").value,
    learningRate: Number($("learningRate").value),
    batchSize: Number($("batchSize").value),
    epochs: Number($("epochs").value),
    seed: Number($("seed").value),
  };
  state.running = true;
  state.finished = false;
  state.steps = 0;
  state.losses = [];
  state.evals = [];
  for (const series of [...lossData, ...accData]) series.length = 0;
  lossChart.setData(lossData);
  accChart.setData(accData);
  $("train").disabled = true;
  $("stop").disabled = false;
  status("Starting…");
  worker.postMessage({ type: "train", config });
});

$("stop").addEventListener("click", () => worker.postMessage({ type: "stop" }));

$("runInit").addEventListener("click", () => {
  $("runInit").disabled = true;
  state.initDone = false;
  $("initResults").replaceChildren();
  const width = Number(new URLSearchParams(location.search).get("initWidth") ?? $("initWidth").value);
  status(`Running the initialization experiment (width ${width})…`);
  worker.postMessage({ type: "initExperiment", width });
});
