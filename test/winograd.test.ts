// 3x3 stride-1 convs by Winograd's F(2x2, 3x3), forward, dx and dw (ops/conv-algorithm.ts, issues
// 20 and 22):
//   - which convs take it (winogradPays, inputGradientSizes, winogradWeightGradientPays: sizes
//     only);
//   - a float32 model's test-mode loss(X) within rounding of the float64 model with the same
//     parameters;
//   - its conv + batch norm + ReLU fusion against the modules one at a time in an inference pass
//     (each conv by Winograd, the batch norm and ReLU kernels after it): the same bits;
//   - the same bits for 1 and 3 threads (one image by filter groups, batches by images) and on
//     the first (transforming), second and later calls (on weights transformed once per version);
//   - a write to the weights after they were transformed is seen;
//   - training: numeric gradients through a Winograd dx and dw (float64), and a Solver step's bits
//     for 1 and 3 threads (dw's chunks split over the threads).
// The kernels' own bits against their scalar twins: assembly/__tests__/winograd.spec.ts and
// winograd-dw.spec.ts; the convs against PyTorch: the *_winograd fixtures of
// test/nn-modules.test.ts.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { expectSameBits } from "./helpers.js";
import type { Pass } from "../src/nn/module.js";
import { convChunkImages, winogradChunkImages, winogradPays, winogradWeightGradientPays, type ConvSizes } from "../src/ops/conv.js";
import { inputGradientSizes } from "../src/ops/conv-algorithm.js";
import { simulateThreads } from "../src/core/threads/dispatch.js";
import { ignoreThresholds } from "../src/core/threads/thresholds.js";
import { Workspace } from "../src/core/workspace.js";

beforeAll(() => tl.init({ float64: true }));
afterEach(() => {
  simulateThreads(null);
  ignoreThresholds(false);
});

type DType = "float32" | "float64";

function sizes(C: number, H: number, F: number, k = 3, stride = 1, pad = k === 3 ? 1 : 0): ConvSizes {
  const Ho = Math.floor((H + 2 * pad - k) / stride) + 1;
  return { N: 1, C, H, W: H, F, HH: k, WW: k, stride, pad, Ho, Wo: Ho, K: C * k * k, P: Ho * Ho };
}

/**
 * conv 8 -> 16 at 16x16 + BN + ReLU (Winograd, fused), conv 16 -> 16 with bias + ReLU (Winograd),
 * conv 16 -> 64 stride 2 (direct), conv 64 -> 64 at 8x8 + BN + ReLU (Winograd, 16 tiles), head.
 */
function model(dtype: DType): tl.Sequential {
  return tl.sequential(
    [
      tl.nn.conv2d(8, 16, 3, { padding: 1, bias: false }),
      tl.nn.batchNorm2d(16),
      tl.nn.relu(),
      tl.nn.conv2d(16, 16, 3, { padding: 1 }),
      tl.nn.relu(),
      tl.nn.conv2d(16, 64, 3, { padding: 1, stride: 2 }),
      tl.nn.conv2d(64, 64, 3, { padding: 1, bias: false }),
      tl.nn.batchNorm2d(64),
      tl.nn.relu(),
      tl.nn.globalAvgPool(),
      tl.nn.flatten(),
      tl.nn.linear(64, 5),
    ],
    { inputShape: [8, 16, 16], seed: 4, dtype },
  );
}

/** Batch norms away from their initial statistics, so every operation of the epilogue counts. */
function perturb(net: tl.Sequential): void {
  let seed = 200;
  for (const e of net.stateEntries()) {
    if (e.tensor === null || e.module.type !== "BatchNorm2d") continue;
    const v = tl.tidy(() => tl.randn(e.shape, { seed: seed++, dtype: net.dtype }).toArray());
    e.tensor.set(e.local === "running_var" ? v.map((x) => 0.2 + x * x) : v.map((x) => 0.5 * x + (e.local === "weight" ? 1 : 0)));
  }
}

/** The modules run one at a time in a test-mode inference pass (no fusion). */
function runModules(net: tl.Sequential, X: tl.Tensor): Float32Array | Float64Array {
  const ws = new Workspace("winograd reference", net.dtype);
  try {
    const pass: Pass = { train: false, infer: true, dtype: net.dtype, n: X.shape[0], ws, draw: () => [0, 0] };
    let x = X;
    for (const m of net.modules) x = m.forward(x, pass);
    return x.toArray();
  } finally {
    ws.dispose();
  }
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

/** The float64 model with net's parameters and buffers. */
function inFloat64(net: tl.Sequential): tl.Sequential {
  const twin = model("float64");
  for (const [name, t] of Object.entries(net.params)) twin.params[name].set(t.toArray());
  for (const [name, t] of Object.entries(net.buffers)) twin.buffers[name].set(t.toArray());
  return twin;
}

describe("Winograd F(2x2, 3x3)", () => {
  it("winogradPays: 3x3 stride 1 with at least 8 input channels, 3 filters and enough tiles, by the sizes alone", () => {
    expect(winogradPays(sizes(8, 16, 8))).toBe(true); // 64 tiles: any 8 channels or more
    expect(winogradPays(sizes(16, 28, 16))).toBe(true); // 196 tiles
    expect(winogradPays(sizes(8, 12, 16))).toBe(false); // 36 tiles: C·F = 128 < 1024
    expect(winogradPays(sizes(16, 12, 64))).toBe(true); // 36 tiles, C·F = 1024
    expect(winogradPays(sizes(32, 4, 32))).toBe(true); // 4 tiles, C·F = 1024
    expect(winogradPays(sizes(32, 4, 16))).toBe(false); // C·F = 512
    expect(winogradPays(sizes(64, 2, 64))).toBe(false); // 1 tile
    expect(winogradPays(sizes(1, 28, 32))).toBe(false); // one channel
    expect(winogradPays(sizes(32, 28, 32, 3, 2))).toBe(false); // stride 2
    expect(winogradPays(sizes(32, 28, 32, 1))).toBe(false); // 1x1
    expect(winogradPays(sizes(32, 28, 2))).toBe(false); // 2 filters: half of each 4-filter product wasted
    expect(winogradPays(sizes(32, 28, 3))).toBe(true);
  });

  it("winogradWeightGradientPays: 3x3 stride 1 with at least 8 channels and 4 filters, any map", () => {
    expect(winogradWeightGradientPays(sizes(8, 28, 8))).toBe(true);
    expect(winogradWeightGradientPays(sizes(128, 4, 128))).toBe(true); // 4 tiles: the sum runs over the batch's tiles
    expect(winogradWeightGradientPays(sizes(16, 2, 16))).toBe(true);
    expect(winogradWeightGradientPays(sizes(8, 16, 8, 3, 1, 0))).toBe(true); // any padding
    expect(winogradWeightGradientPays(sizes(3, 32, 16))).toBe(false); // 3 channels: the transforms outweigh the products
    expect(winogradWeightGradientPays(sizes(1, 28, 32))).toBe(false);
    expect(winogradWeightGradientPays(sizes(16, 28, 3))).toBe(false); // 3 filters
    expect(winogradWeightGradientPays(sizes(16, 28, 16, 3, 2))).toBe(false); // stride 2
    expect(winogradWeightGradientPays(sizes(16, 28, 16, 1))).toBe(false); // 1x1
  });

  it("winogradChunkImages: the direct backward's chunks, or enough images for 64 tiles, never more than the batch", () => {
    const batch = (d: ConvSizes, N: number): ConvSizes => ({ ...d, N });
    expect(winogradChunkImages(batch(sizes(16, 28, 16), 128))).toBe(convChunkImages(128, 16, 144)); // 196 tiles per image: 4
    expect(winogradChunkImages(batch(sizes(64, 7, 64), 128))).toBe(4); // 16 tiles per image
    expect(winogradChunkImages(batch(sizes(128, 4, 128), 128))).toBe(16); // 4 tiles per image
    expect(winogradChunkImages(batch(sizes(128, 4, 128), 5))).toBe(5); // the whole batch, one chunk
    expect(winogradChunkImages(batch(sizes(64, 2, 64), 256))).toBe(64); // 1 tile per image
  });

  it("inputGradientSizes: dx of a stride-1 3x3 conv as a conv of dout, F channels to C filters, padding 2 - pad", () => {
    expect(inputGradientSizes(sizes(8, 16, 12))).toEqual({ ...sizes(12, 16, 8), N: 1 });
    const p0 = sizes(9, 17, 8, 3, 1, 0); // 15x15 outputs
    expect(inputGradientSizes(p0)).toEqual({ N: 1, C: 8, H: 15, W: 15, F: 9, HH: 3, WW: 3, stride: 1, pad: 2, Ho: 17, Wo: 17, K: 72, P: 289 });
    expect(inputGradientSizes(sizes(8, 13, 8, 3, 1, 2))?.pad).toBe(0);
    expect(inputGradientSizes(sizes(8, 13, 8, 3, 1, 3))).toBeNull(); // a padding the dx conv cannot undo
    expect(inputGradientSizes(sizes(8, 16, 8, 3, 2))).toBeNull(); // stride 2
    expect(inputGradientSizes(sizes(8, 16, 8, 1))).toBeNull(); // 1x1
    expect(inputGradientSizes(sizes(8, 16, 8, 5, 1, 2))).toBeNull(); // 5x5
  });

  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: loss(X)'s fusions the bits of the modules one at a time${dtype === "float32" ? ", within rounding of float64" : ""}; 1 and 3 threads, batches 1 and 5, three calls`, () => {
      const net = model(dtype);
      perturb(net);
      const reference = dtype === "float32" ? inFloat64(net) : null;
      let one: Float32Array | Float64Array | null = null;
      for (const threads of [1, 3]) {
        ignoreThresholds(threads > 1);
        simulateThreads(threads);
        for (const n of [1, 5]) {
          const X = tl.randn([n, 8, 16, 16], { seed: 10 + n, dtype });
          const separate = runModules(net, X);
          if (reference !== null) {
            const X64 = tl.tensor(X.toArray(), X.shape, { dtype: "float64" });
            const err = maxRelErr(
              separate,
              tl.tidy(() => reference.loss(X64).toArray()),
            );
            expect(err, `${threads} thread(s), batch ${n}: against float64`).toBeLessThan(2e-5);
            X64.dispose();
          }
          for (let call = 0; call < 3; call++) {
            expectSameBits(
              tl.tidy(() => net.loss(X).toArray()),
              separate,
              `${threads} thread(s), batch ${n}, call ${call}`,
            );
          }
          if (n === 5) {
            if (one === null) one = separate;
            else expectSameBits(separate, one, "3 threads against 1");
          }
          X.dispose();
        }
      }
      net.dispose();
      reference?.dispose();
    });
  }

  it("a write to the weights after they were transformed is seen (set, a Solver step)", () => {
    const net = model("float32");
    const X = tl.randn([2, 8, 16, 16], { seed: 30 });
    for (let call = 0; call < 3; call++) tl.tidy(() => net.loss(X)); // transformed and in use
    const w = net.params["6.weight"];
    w.set(tl.tidy(() => tl.randn(w.shape, { seed: 31, std: 0.1 }).toArray()));
    const twin = model("float32");
    twin.setParameters(net.getParameters());
    expectSameBits(
      tl.tidy(() => net.loss(X).toArray()),
      tl.tidy(() => twin.loss(X).toArray()),
      "after set()",
    );
    const solver = new tl.Solver(
      net,
      { XTrain: X, yTrain: Int32Array.of(1, 3), XVal: X, yVal: Int32Array.of(1, 3) },
      {
        updateRule: "sgd",
        optimConfig: { learningRate: 0.1 },
        batchSize: 2,
        numEpochs: 1,
        verbose: false,
      },
    );
    solver.step();
    twin.setParameters(net.getParameters());
    for (const [name, t] of Object.entries(net.buffers)) twin.buffers[name].set(t.toArray());
    expectSameBits(
      tl.tidy(() => net.loss(X).toArray()),
      tl.tidy(() => twin.loss(X).toArray()),
      "after a Solver step",
    );
    solver.dispose();
    X.dispose();
    net.dispose();
    twin.dispose();
  });

  it("DeepConvNet's test-mode loss(X): the bits of its layer calls (conv layers of 16 and 32 filters)", () => {
    const net = new tl.DeepConvNet({ inputDims: [8, 16, 16], numFilters: [16, 32], maxPools: [0], batchnorm: false, numClasses: 3, seed: 2 });
    const X = tl.randn([3, 8, 16, 16], { seed: 40 });
    const scores = tl.tidy(() => net.loss(X).toArray());
    const reference = tl.tidy(() => {
      const p = net.params;
      let [h] = tl.Conv.forward(X, p.W1, p.b1, { stride: 1, pad: 1 });
      h = tl.ReLU.forward(h)[0];
      h = tl.MaxPool.forward(h, { poolHeight: 2, poolWidth: 2, stride: 2 })[0];
      [h] = tl.Conv.forward(h, p.W2, p.b2, { stride: 1, pad: 1 });
      h = tl.ReLU.forward(h)[0];
      return tl.Linear.forward(h.reshape([3, h.size / 3]), p.W3, p.b3)[0].toArray();
    });
    expectSameBits(scores, reference, "DeepConvNet against its layer calls");
    X.dispose();
    net.dispose();
  });

  /** conv 8 -> 8 at 16x16 (Winograd forward and dw), tanh, conv 8 -> 8 (Winograd forward, dx and dw), global average pool, linear. */
  function smallNet(dtype: DType, seed: number): tl.Sequential {
    return tl.sequential(
      [tl.nn.conv2d(8, 8, 3, { padding: 1 }), tl.nn.tanh(), tl.nn.conv2d(8, 8, 3, { padding: 1 }), tl.nn.globalAvgPool(), tl.nn.flatten(), tl.nn.linear(8, 3)],
      { inputShape: [8, 16, 16], seed, dtype },
    );
  }

  it("training, float64: numeric gradients of both convs through Winograd dw (both) and dx (the second)", () => {
    expect(winogradPays(inputGradientSizes(sizes(8, 16, 8))!)).toBe(true);
    expect(winogradWeightGradientPays(sizes(8, 16, 8))).toBe(true);
    const net = smallNet("float64", 5);
    const X = tl.randn([2, 8, 16, 16], { seed: 50, dtype: "float64" });
    const errors = tl.checkModelGradients(net, X, [0, 2], { h: 1e-6, names: ["0.weight", "0.bias", "2.weight"] });
    for (const [name, e] of Object.entries(errors)) expect(e, name).toBeLessThan(1e-7);
    X.dispose();
    net.dispose();
  });

  it("a frozen conv passes its Winograd dx on without computing its own dw: the trainable conv's gradients the same bits", () => {
    const X = tl.randn([3, 8, 16, 16], { seed: 70 });
    const y = [0, 2, 1];
    const plain = smallNet("float32", 8);
    const frozen = smallNet("float32", 8).freeze((name) => name.startsWith("2."));
    const [lossA, gradsA] = plain.loss(X, y);
    const [lossB, gradsB] = frozen.loss(X, y);
    expect(lossB).toBe(lossA);
    expect(Object.keys(gradsB).sort()).toEqual(["0.bias", "0.weight", "5.bias", "5.weight"]);
    for (const name of ["0.weight", "0.bias"]) expectSameBits(gradsB[name].toArray(), gradsA[name].toArray(), name);
    X.dispose();
    plain.dispose();
    frozen.dispose();
  });

  it("training: a Solver step's parameters the same bits for 1 and 3 threads (forward, dx and dw by Winograd)", () => {
    const after: Float32Array[][] = [];
    for (const threads of [1, 3]) {
      ignoreThresholds(threads > 1);
      simulateThreads(threads);
      const net = smallNet("float32", 6);
      const X = tl.randn([5, 8, 16, 16], { seed: 60 });
      const y = Int32Array.of(0, 1, 2, 1, 0);
      const solver = new tl.Solver(
        net,
        { XTrain: X, yTrain: y, XVal: X, yVal: y },
        { updateRule: "sgd", optimConfig: { learningRate: 0.5 }, batchSize: 5, numEpochs: 1, verbose: false, seed: 7 },
      );
      solver.step();
      solver.step();
      after.push(Object.values(net.params).map((t) => t.toArray() as Float32Array));
      solver.dispose();
      X.dispose();
      net.dispose();
    }
    after[0].forEach((values, i) => expectSameBits(after[1][i], values, `parameter ${i}`));
  });
});
