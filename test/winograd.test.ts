// Inference's 3x3 stride-1 convs by Winograd's F(2x2, 3x3) (ops/conv-inference.ts, issue 22):
//   - which convs take it (winogradPays: sizes only);
//   - a model's test-mode loss(X) against the direct kernels' forward (the modules one at a time in
//     a pass that is not inference): within rounding, float32 and float64;
//   - its conv + batch norm + ReLU fusion against the modules one at a time in an inference pass
//     (each conv by Winograd, the batch norm and ReLU kernels after it): the same bits;
//   - the same bits for 1 and 3 threads (one image by filter groups, batches by images) and on
//     the first (transforming), second and later calls (on weights transformed once per version);
//   - a write to the weights after they were transformed is seen.
// The kernel's own bits against its scalar twin: assembly/__tests__/winograd.spec.ts.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import type { Pass } from "../src/nn/module.js";
import { forwardChain } from "../src/nn/module.js";
import { winogradPays, type ConvSizes } from "../src/ops/conv.js";
import { simulateThreads } from "../src/core/threads/dispatch.js";
import { ignoreThresholds } from "../src/core/threads/thresholds.js";
import { Workspace } from "../src/core/workspace.js";

beforeAll(() => tl.init({ float64: true }));
afterEach(() => {
  simulateThreads(null);
  ignoreThresholds(false);
});

type DType = "float32" | "float64";

function sizes(C: number, H: number, F: number, k = 3, stride = 1): ConvSizes {
  const pad = k === 3 ? 1 : 0;
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

/** The modules run in a test-mode pass: one at a time (infer: Winograd convs, no fusion), or through the chain without inference (the direct kernels). */
function runModules(net: tl.Sequential, X: tl.Tensor, infer: boolean): Float32Array | Float64Array {
  const ws = new Workspace("winograd reference", net.dtype);
  try {
    const pass: Pass = { train: false, infer, dtype: net.dtype, n: X.shape[0], ws, draw: () => [0, 0] };
    if (!infer) return forwardChain(net.modules, X, pass).toArray();
    let x = X;
    for (const m of net.modules) x = m.forward(x, pass);
    return x.toArray();
  } finally {
    ws.dispose();
  }
}

function expectSameBits(got: Float32Array | Float64Array, want: Float32Array | Float64Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  expect(i, `${what}: first difference at ${i} (${got[i]} vs ${want[i]})`).toBe(-1);
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

describe("Winograd F(2x2, 3x3) in inference", () => {
  it("winogradPays: 3x3 stride 1 with at least 8 input channels and enough tiles, by the sizes alone", () => {
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
  });

  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: loss(X) within rounding of the direct forward, and its fusions the bits of the modules one at a time; 1 and 3 threads, batches 1 and 5, three calls`, () => {
      const net = model(dtype);
      perturb(net);
      const tolerance = dtype === "float32" ? 2e-5 : 1e-13;
      let one: Float32Array | Float64Array | null = null;
      for (const threads of [1, 3]) {
        ignoreThresholds(threads > 1);
        simulateThreads(threads);
        for (const n of [1, 5]) {
          const X = tl.randn([n, 8, 16, 16], { seed: 10 + n, dtype });
          const direct = runModules(net, X, false);
          const separate = runModules(net, X, true);
          const err = maxRelErr(separate, direct);
          expect(err, `${threads} thread(s), batch ${n}: against the direct kernels`).toBeLessThan(tolerance);
          expect(err, "the Winograd path was taken (its rounding differs)").toBeGreaterThan(0);
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

  it("DeepConvNet's test-mode loss(X) within rounding of its training-mode forward path (conv layers of 16 and 32 filters)", () => {
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
    const err = maxRelErr(scores, reference);
    expect(err).toBeLessThan(2e-5);
    expect(err).toBeGreaterThan(0);
    X.dispose();
    net.dispose();
  });
});
