// The seeded computation every runtime runs; the cross-runtime test requires identical results.
// Plain ESM with no imports: each runtime hands in the library (`tl`, already initialized) however
// it loads it (ESM bundle, <script> global, or the standalone .wasm on workerd).
//
// A few hundred Adam steps of a small FullyConnectedNet with dropout, on seeded random data.
// Returns { steps, lossHistory, hash, bytes, float64, convs }:
//   lossHistory  the training loss of every step
//   hash         FNV-1a 64 (hex) over the raw float32 bytes of the final weights, in name order
//   bytes        how many bytes the hash covered
//   float64      the same for the float64 run (scenario64): a float64 FullyConnectedNet with batch
//                norm and dropout under Adam, then a float64 DeepConvNet (conv, spatial batch
//                norm, max-pool) under SGD with momentum, and a float64 tanh; its hash covers the
//                raw float64 bytes of both nets' final weights and the tanh output
//   convs        the same for a float32 tl.sequential whose 3x3 convs run by Winograd's F(2x2, 3x3)
//                (scenarioConvs: forward, and the second conv's dx) under Adam
// Only integer math and exact float copies happen here: every number that decides a result comes
// from wasm, so the same bundle must give the same bits everywhere.

const N = 200; // examples
const D = 20; // input features
const C = 5; // classes
const BATCH = 50;
const STEPS = 300;

export async function scenario(tl) {
  const X = tl.randn([N, D], { seed: 11 }); // X: (N, D)
  const xs = X.toArray();
  const y = teacherLabels(tl, xs);
  const model = new tl.FullyConnectedNet({
    hiddenDims: [32, 32],
    inputDim: D,
    numClasses: C,
    dropout: 0.2,
    weightScale: 0.05,
    seed: 1,
  });
  const names = Object.keys(model.params).sort();
  const configs = {};
  for (const name of names) configs[name] = { learningRate: 5e-3 };
  const lossHistory = [];
  for (let step = 0; step < STEPS; step++) {
    const start = (step * BATCH) % N; // N is a multiple of BATCH: batches never wrap
    const xb = tl.tensor(xs.subarray(start * D, (start + BATCH) * D), [BATCH, D]); // xb: (BATCH, D)
    const yb = y.subarray(start, start + BATCH);
    const [loss, grads] = model.loss(xb, yb);
    lossHistory.push(loss);
    for (const name of names) {
      const [, config] = tl.adam(model.params[name], grads[name], configs[name]);
      configs[name] = config;
    }
    xb.dispose();
  }
  const augmented = augmentations(tl, X, y);
  X.dispose();
  const result = { steps: STEPS, lossHistory, ...hashTensors([...names.map((n) => model.params[n]), ...augmented]) };
  for (const t of augmented) t.dispose();
  model.dispose();
  return { ...result, float64: scenario64(tl, xs, y), convs: scenarioConvs(tl, y) };
}

const CONV_STEPS = 3;

/** A float32 Sequential with two 8 -> 8 3x3 convs on 16x16 maps (both taken by Winograd; see the top). */
function scenarioConvs(tl, y) {
  const model = tl.sequential(
    [tl.nn.conv2d(8, 8, 3, { padding: 1 }), tl.nn.relu(), tl.nn.conv2d(8, 8, 3, { padding: 1 }), tl.nn.globalAvgPool(), tl.nn.flatten(), tl.nn.linear(8, C)],
    { inputShape: [8, 16, 16], seed: 4 },
  );
  // 16 images: 2.4 million multiply-adds per conv, which 2 threads split by images (fewer run as one task)
  const images = tl.randn([16, 8, 16, 16], { seed: 14 });
  const names = Object.keys(model.params).sort();
  const configs = {};
  for (const name of names) configs[name] = { learningRate: 1e-2 };
  const lossHistory = [];
  for (let step = 0; step < CONV_STEPS; step++) {
    const [loss, grads] = model.loss(images, y.subarray(0, 16));
    lossHistory.push(loss);
    for (const name of names) [, configs[name]] = tl.adam(model.params[name], grads[name], configs[name]);
  }
  const hashed = hashTensors(names.map((n) => model.params[n]));
  for (const name of names) {
    configs[name].m.dispose();
    configs[name].v.dispose();
  }
  images.dispose();
  model.dispose();
  return { steps: CONV_STEPS, lossHistory, ...hashed };
}

const STEPS64 = 100;
const CONV_STEPS64 = 4;

/** The float64 run (see the top). xs, y: the float32 run's data, widened exactly to float64. */
function scenario64(tl, xs, y) {
  const f64 = { dtype: "float64" };
  const model = new tl.FullyConnectedNet({
    hiddenDims: [24, 16],
    inputDim: D,
    numClasses: C,
    dropout: 0.1,
    normalization: "batchnorm",
    weightScale: "kaiming",
    seed: 2,
    dtype: "float64",
  });
  const lossHistory = [];
  let config = { learningRate: 5e-3 };
  for (let step = 0; step < STEPS64; step++) {
    const start = (step * BATCH) % N;
    const xb = tl.tensor(xs.subarray(start * D, (start + BATCH) * D), [BATCH, D], f64); // xb: (BATCH, D)
    const [loss] = model.loss(xb, y.subarray(start, start + BATCH));
    lossHistory.push(loss);
    [, config] = tl.adam(model.paramStore.flat, model.paramStore.gradFlat, config); // one update over all params
    xb.dispose();
  }
  const conv = new tl.DeepConvNet({
    inputDims: [1, 4, 5],
    numFilters: [4, 6],
    maxPools: [0],
    batchnorm: true,
    numClasses: C,
    weightScale: "kaiming",
    seed: 3,
    dtype: "float64",
  });
  const images = tl.tensor(xs.subarray(0, 10 * D), [10, 1, 4, 5], f64); // 10 rows of X as 4x5 images
  let convConfig = { learningRate: 1e-2 };
  for (let step = 0; step < CONV_STEPS64; step++) {
    const [loss] = conv.loss(images, y.subarray(0, 10));
    lossHistory.push(loss);
    [, convConfig] = tl.sgdMomentum(conv.paramStore.flat, conv.paramStore.gradFlat, convConfig);
  }
  const [t] = tl.Tanh.forward(images);
  const hashed = hashTensors([
    ...Object.keys(model.params)
      .sort()
      .map((n) => model.params[n]),
    ...Object.keys(conv.params)
      .sort()
      .map((n) => conv.params[n]),
    t,
  ]);
  for (const s of [config.m, config.v, convConfig.velocity, images, t]) s.dispose();
  model.dispose();
  conv.dispose();
  return { steps: STEPS64 + CONV_STEPS64, lossHistory, ...hashed };
}

// The augmentations on X seen as (N, 1, 4, 5) images: flip, crop, cutout, then mixup (its λ comes
// from Gamma draws: log, exp, sqrt and cos in wasm) and the soft-label loss of its labels.
function augmentations(tl, X, y) {
  const images = X.reshape([N, 1, 4, 5]);
  const flipped = tl.randomFlip(images, { seed: 21 });
  const cropped = tl.randomCrop(flipped, { padding: 2, seed: 22 });
  const cut = tl.cutout(cropped, { size: 3, seed: 23 });
  const [mixed, soft] = tl.mixup(cut, y, { alpha: 0.3, numClasses: C, seed: 24 });
  const scores = mixed.reshape([N * 4, C]).sliceView(0, [N, C]); // any (N, C) numbers will do
  const [, dscores] = tl.softmaxLoss(scores, soft);
  scores.dispose();
  images.dispose();
  return [flipped, cropped, cut, mixed, soft, dscores];
}

// Labels from a fixed random linear teacher, so that there is something to learn. The scores are
// plain JS sums of products of float32 values: IEEE double + and * are exact-rounded in every
// engine (no fused multiply-add in JS), so the labels are the same everywhere.
function teacherLabels(tl, xs) {
  const T = tl.randn([D, C], { seed: 12 }); // T: (D, C)
  const ts = T.toArray();
  T.dispose();
  const y = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += xs[i * D + d] * ts[d * C + c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    y[i] = best;
  }
  return y;
}

/** FNV-1a 64 over the raw float32 or float64 bytes (little-endian, as wasm stores them) of the tensors. */
export function hashTensors(tensors) {
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  let hash = 0xcbf29ce484222325n;
  let bytes = 0;
  for (const t of tensors) {
    const values = t.toArray();
    const view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    for (let i = 0; i < view.length; i++) hash = ((hash ^ BigInt(view[i])) * prime) & mask;
    bytes += view.length;
  }
  return { hash: hash.toString(16).padStart(16, "0"), bytes };
}
