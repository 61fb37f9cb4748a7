// float64 vs float32: the cost of the course's float64 mode, as ratios measured in one run.
//   npm run build && node bench/float64.mjs [--quick]
// Cases (same shapes, seeded inputs, both dtypes through the public API of dist/tensorlane.js):
//   gemm-like    Linear.forward + Linear.backward, x (100, 784) · w (784, 256)
//   fc step      FullyConnectedNet 784-256-128-10 loss(X, y) + one Adam step over the flat params, batch 100
//   conv step    DeepConvNet 1x28x28, filters [16, 32], pools after both, loss(X, y) + Adam, batch 32;
//                the same with batch norm; its inference (loss(X)), batch 100
// The two dtypes take turns (one sample each, starting dtype alternating), 7 rounds; a sample is
// ~0.1 s of repeated calls timed by the process's CPU time; the figure is the median. Ratio =
// float64 time / float32 time. A loaded machine slows both alike within a round.
import * as tl from "../dist/tensorlane.js";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 3 : 7;
const SAMPLE_S = quick ? 0.03 : 0.1;

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function sample(fn, reps) {
  const t0 = cpuSeconds();
  for (let i = 0; i < reps; i++) fn();
  return (cpuSeconds() - t0) / reps;
}

function calibrate(fn) {
  fn();
  let reps = 1;
  for (;;) {
    const t = sample(fn, reps) * reps;
    if (t >= SAMPLE_S / 2 || reps > 1e6) return Math.max(1, Math.round((reps * SAMPLE_S) / Math.max(t, 1e-6)));
    reps *= 4;
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function linearCase(dtype) {
  const x = tl.keep(tl.randn([100, 784], { seed: 1, dtype })),
    w = tl.keep(tl.randn([784, 256], { seed: 2, std: 0.05, dtype }));
  const b = tl.keep(tl.zeros([256], { dtype })),
    dout = tl.keep(tl.randn([100, 256], { seed: 3, dtype }));
  return () => tl.tidy(() => tl.Linear.backward(dout, tl.Linear.forward(x, w, b)[1]));
}

function modelCase(dtype, make, xShape, classes) {
  const model = make(dtype);
  const X = tl.keep(tl.randn(xShape, { seed: 4, dtype }));
  const y = Int32Array.from({ length: xShape[0] }, (_, i) => (i * 7) % classes);
  let config = { learningRate: 1e-3 };
  return () => {
    model.loss(X, y);
    [, config] = tl.adam(model.paramStore.flat, model.paramStore.gradFlat, config);
  };
}

const CASES = {
  "gemm-like (Linear fwd+bwd 100x784x256)": (dtype) => linearCase(dtype),
  "fc step 784-256-128-10, batch 100": (dtype) =>
    modelCase(
      dtype,
      (d) => new tl.FullyConnectedNet({ hiddenDims: [256, 128], inputDim: 784, numClasses: 10, weightScale: "kaiming", seed: 1, dtype: d }),
      [100, 784],
      10,
    ),
  "conv step 1x28x28 [16, 32], batch 32": (dtype) =>
    modelCase(
      dtype,
      (d) => new tl.DeepConvNet({ inputDims: [1, 28, 28], numFilters: [16, 32], maxPools: [0, 1], weightScale: "kaiming", seed: 1, dtype: d }),
      [32, 1, 28, 28],
      10,
    ),
  "conv step, batch norm": (dtype) =>
    modelCase(
      dtype,
      (d) => new tl.DeepConvNet({ inputDims: [1, 28, 28], numFilters: [16, 32], maxPools: [0, 1], batchnorm: true, weightScale: "kaiming", seed: 1, dtype: d }),
      [32, 1, 28, 28],
      10,
    ),
  "conv inference, batch norm, batch 100": (dtype) => {
    const model = new tl.DeepConvNet({
      inputDims: [1, 28, 28],
      numFilters: [16, 32],
      maxPools: [0, 1],
      batchnorm: true,
      weightScale: "kaiming",
      seed: 1,
      dtype,
    });
    const X = tl.keep(tl.randn([100, 1, 28, 28], { seed: 5, dtype }));
    return () => model.loss(X).dispose();
  },
};

await tl.init();
console.log(`float64 vs float32, ${ROUNDS} rounds, CPU time, medians (the machine may be shared: ratios only)`);
for (const [name, build] of Object.entries(CASES)) {
  const fns = { float32: build("float32"), float64: build("float64") };
  const reps = { float32: calibrate(fns.float32), float64: calibrate(fns.float64) };
  const times = { float32: [], float64: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ["float32", "float64"] : ["float64", "float32"];
    for (const d of order) times[d].push(sample(fns[d], reps[d]));
  }
  const m32 = median(times.float32),
    m64 = median(times.float64);
  console.log(
    `${name.padEnd(42)} float32 ${(m32 * 1e3).toFixed(2).padStart(8)} ms   float64 ${(m64 * 1e3).toFixed(2).padStart(8)} ms   ratio ${(m64 / m32).toFixed(2)}`,
  );
}
