// What is measured: the shapes of issue 7, the work each step does, and the targets as ratios.

/** The fully connected net: 3072-100-100-10, ReLU, softmax, Adam. */
export const FC = { batch: 100, inputDim: 3072, hiddenDims: [100, 100], numClasses: 10 };

/** The conv net: 3x32x32, conv3x3 32 - ReLU - pool2 - conv3x3 32 - ReLU - pool2 - linear 10, Adam. */
export const CONV = { batch: 50, inputDims: [3, 32, 32], numFilters: [32, 32], numClasses: 10 };

/**
 * The small ResNet of the README's accuracy recipe (tl.models.resnet): 1x28x28, a 3x3 stem of 32,
 * stages of one basic block at 32, 64 and 128 channels (14x14, 7x7, 4x4: the first stage halves
 * the image too), global average pooling, linear 10; Adam.
 */
export const RESNET = { batch: 32, inputDims: [1, 28, 28], widths: [32, 64, 128], numClasses: 10 };

/** Adam with the course's hyperparameters; every contender uses these. */
export const ADAM = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

const SQUARES = [64, 128, 256, 512, 1024];
const QUICK_SQUARES = [64, 256];
// Scalar JS contenders take seconds per call above this size: they run the training shapes and
// the small squares only.
export const SLOW_GEMM_MAX_SQUARE = 256;

const VARIANT_TEXT = { nn: "A·B", tn: "Aᵀ·B", nt: "A·Bᵀ" };

function gemmCase(variant, m, n, k, label) {
  return {
    id: `gemm-${variant}-${m}x${n}x${k}`,
    group: "GEMM",
    kind: "gemm",
    label,
    variant,
    m,
    n,
    k,
    unit: "GFLOPS",
    work: (2 * m * n * k) / 1e9,
  };
}

/**
 * C(m,n) = op(A)·op(B): "nn" A(m,k)·B(k,n); "tn" A(k,m)ᵀ·B(k,n); "nt" A(m,k)·B(n,k)ᵀ
 * (the same convention as src/ops/gemm.ts).
 */
export function gemmCases({ quick = false } = {}) {
  const cases = [
    gemmCase("nn", 100, 100, 3072, "X·W (100x3072)·(3072x100) nn"),
    gemmCase("tn", 3072, 100, 100, "Xᵀ·dY (100x3072)ᵀ·(100x100) tn"),
    gemmCase("nt", 100, 3072, 100, "dY·Wᵀ (100x100)·(3072x100)ᵀ nt"),
  ];
  for (const s of quick ? QUICK_SQUARES : SQUARES) {
    for (const v of ["nn", "tn", "nt"]) cases.push(gemmCase(v, s, s, s, `${s}³ ${v} ${VARIANT_TEXT[v]}`));
  }
  return cases;
}

export function modelCases() {
  return [
    { id: "fc-train", group: "FC training", kind: "fcTrain", label: `FC 3072-100-100-10 Adam, batch ${FC.batch}`, unit: "samples/s", work: FC.batch },
    {
      id: "conv-train",
      group: "Conv training",
      kind: "convTrain",
      label: `conv 32-32 + linear, Adam, batch ${CONV.batch}`,
      unit: "samples/s",
      work: CONV.batch,
    },
    {
      id: "resnet-train",
      group: "ResNet training",
      kind: "resnetTrain",
      label: `ResNet 32-64-128 (1x28x28), Adam, batch ${RESNET.batch}`,
      unit: "samples/s",
      work: RESNET.batch,
    },
    { id: "fc-infer", group: "Inference", kind: "fcInfer", label: `FC forward, batch ${FC.batch}`, unit: "samples/s", work: FC.batch },
    { id: "conv-infer", group: "Inference", kind: "convInfer", label: `conv forward, batch ${CONV.batch}`, unit: "samples/s", work: CONV.batch },
  ];
}

/** Issue 7's targets: tensorlane / peer in the same run (or a fraction of the ceiling). */
export const TARGETS = [
  { caseId: "gemm-nn-100x100x3072", ceilingFraction: 0.85 },
  { caseId: "gemm-tn-3072x100x100", ceilingFraction: 0.85 },
  { caseId: "gemm-nt-100x3072x100", ceilingFraction: 0.85 },
  { caseId: "fc-train", peer: "tfjs-wasm-1t", ratio: 15 },
  { caseId: "fc-train", peer: "convnetjs", ratio: 40 },
  { caseId: "conv-train", peer: "convnetjs", ratio: 25 },
  { caseId: "fc-infer", peer: "tfjs-wasm-1t", ratio: 1.3 },
  { caseId: "conv-infer", peer: "tfjs-wasm-1t", ratio: 1.2 },
  { caseId: "bundle-gzip", peer: "tfjs-wasm", ratio: 10, lowerIsBetter: true },
];
