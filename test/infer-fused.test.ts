// Inference's conv fusions (issue 22) give the bits of the unfused passes:
//   - conv weights packed once per version (ops/packed-conv-weights.ts): every write through the
//     public API is seen, as for Linear's packed weights (packed-weights.test.ts);
//   - Sequential's test-mode loss(X) runs Conv2d + BatchNorm2d (+ ReLU) as one conv with the batch
//     norm in its epilogue (conv_forward_images_bn): its scores against the same modules run one at
//     a time without fusion, for 1 and 3 threads, batches 1, 2 and 5, float32 and float64;
//   - DeepConvNet's test-mode loss(X) does the same: its scores against the public layer calls
//     (Conv.forward, SpatialBatchNorm.forward in test mode, ReLU.forward, MaxPool.forward,
//     Linear.forward).
// Exact equality throughout: same bits, not a tolerance.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { expectSameBits } from "./helpers.js";
import { forwardChain, type Pass } from "../src/nn/module.js";
import { simulateThreads } from "../src/core/threads/dispatch.js";
import { ignoreThresholds } from "../src/core/threads/thresholds.js";
import { Workspace } from "../src/core/workspace.js";

beforeAll(() => tl.init({ float64: true }));
afterEach(() => {
  simulateThreads(null);
  ignoreThresholds(false);
});

function packedNow(w: tl.Tensor): boolean {
  const p = w.attachment as { packed?: number } | null;
  return p !== null && p.packed === w.version;
}

describe("Conv.forward on packed weights: every write through the public API is seen", () => {
  const conv = (x: tl.Tensor, w: tl.Tensor, b: tl.Tensor) => tl.tidy(() => tl.Conv.forward(x, w, b, { stride: 1, pad: 1 })[0].toArray());
  const writes: [string, (w: tl.Tensor) => void][] = [
    ["set(array)", (w) => w.set(Float32Array.from({ length: w.size }, (_, i) => Math.cos(i)))],
    [
      "a write through view()",
      (w) => {
        w.view()[7] = 2.5;
      },
    ],
    [
      "tl.adam",
      (w) =>
        tl.tidy(() => {
          const [, config] = tl.adam(w, tl.randn(w.shape, { seed: 80 }), { learningRate: 0.1 });
          for (const v of Object.values(config)) if (v instanceof tl.Tensor) v.dispose();
        }),
    ],
  ];
  for (const batch of [1, 3]) {
    for (const [name, write] of writes) {
      it(`batch ${batch}: ${name}`, () => {
        const x = tl.randn([batch, 3, 7, 9], { seed: 1 });
        const w = tl.randn([6, 3, 3, 3], { seed: 2, std: 0.3 });
        const b = tl.randn([6], { seed: 3 });
        const first = conv(x, w, b);
        expectSameBits(conv(x, w, b), first, "second call (packs)");
        expect(packedNow(w), "the packing is in use before the write").toBe(true);
        expectSameBits(conv(x, w, b), first, "third call (on the packing)");
        write(w);
        const want = tl.tidy(() => conv(x, w.clone(), b));
        expectSameBits(conv(x, w, b), want, `after ${name}`);
        expectSameBits(conv(x, w, b), want, `after ${name}, packed again`);
        expect(packedNow(w)).toBe(true);
        [x, w, b].forEach((t) => t.dispose());
      });
    }
  }
});

/** The model's modules run one at a time in test mode, nothing fused (no pass.infer). */
function unfused(model: tl.Sequential, X: tl.Tensor): Float32Array | Float64Array {
  const ws = new Workspace("unfused reference", model.dtype);
  try {
    const pass: Pass = { train: false, dtype: model.dtype, n: X.shape[0], ws, draw: () => [0, 0] };
    return forwardChain(model.modules, X, pass).toArray();
  } finally {
    ws.dispose();
  }
}

/** Running statistics and batch-norm parameters away from their initial 0 / 1 (so the epilogue's every operation counts). */
function perturb(model: tl.Sequential): void {
  let seed = 100;
  for (const e of model.stateEntries()) {
    if (e.tensor === null) continue;
    if (e.local === "running_var")
      e.tensor.set(
        tl.tidy(() =>
          tl
            .randn(e.shape, { seed: seed++, dtype: model.dtype })
            .toArray()
            .map((v) => 0.2 + v * v),
        ),
      );
    else if (e.local === "running_mean" || (e.module.type === "BatchNorm2d" && e.kind === "parameter") || e.local === "bias") {
      e.tensor.set(tl.tidy(() => tl.randn(e.shape, { seed: seed++, std: 0.5, dtype: model.dtype }).toArray()));
    }
  }
}

describe("Sequential in test mode: conv + batch norm (+ ReLU) fused, the bits of the modules one at a time", () => {
  const models: [string, (dtype: "float32" | "float64") => tl.Sequential][] = [
    [
      "a small ResNet (stem, strided blocks, 1x1 shortcuts; convs without bias)",
      (dtype) => tl.models.resnet({ inputShape: [2, 9, 9], widths: [4, 6, 9], downsampleFirst: true, seed: 3, dtype }),
    ],
    [
      "conv with bias + BN + ReLU, conv + BN at the end of the features, odd filter counts",
      (dtype) =>
        tl.sequential(
          [
            tl.nn.conv2d(3, 5, 3, { padding: 1 }),
            tl.nn.batchNorm2d(5),
            tl.nn.relu(),
            tl.nn.conv2d(5, 7, 3, { padding: 1, stride: 2 }),
            tl.nn.batchNorm2d(7),
            tl.nn.flatten(),
            tl.nn.linear(7 * 4 * 4, 4),
          ],
          { inputShape: [3, 7, 8], seed: 5, dtype },
        ),
    ],
  ];
  for (const dtype of ["float32", "float64"] as const) {
    for (const [name, make] of models) {
      it(`${dtype}: ${name}; batches 1, 2, 5; 1 and 3 threads`, () => {
        const model = make(dtype);
        perturb(model);
        const [C, H, W] = model.config.inputShape;
        for (const threads of [1, 3]) {
          ignoreThresholds(threads > 1);
          simulateThreads(threads);
          for (const n of [1, 2, 5]) {
            const X = tl.randn([n, C, H, W], { seed: 10 + n, dtype });
            const want = unfused(model, X);
            for (let pass = 0; pass < 3; pass++) {
              // unpacked, packing, packed
              expectSameBits(
                tl.tidy(() => model.loss(X).toArray()),
                want,
                `${threads} thread(s), batch ${n}, call ${pass}`,
              );
            }
            X.dispose();
          }
        }
        model.dispose();
      });
    }
  }

  it("training and the gradients are unchanged by inference's fusion (loss(X) then loss(X, y) on the same model)", () => {
    const model = models[0][1]("float64");
    const twin = models[0][1]("float64");
    const X = tl.randn([4, 2, 9, 9], { seed: 20, dtype: "float64" });
    const y = Int32Array.from([1, 0, 3, 2]);
    tl.tidy(() => model.loss(X));
    tl.tidy(() => model.loss(X));
    const [a, ga] = model.loss(X, y);
    const [b, gb] = twin.loss(X, y);
    expect(Object.is(a, b)).toBe(true);
    for (const k of Object.keys(gb)) expectSameBits(ga[k].toArray(), gb[k].toArray(), `gradient ${k}`);
    X.dispose();
    model.dispose();
    twin.dispose();
  });
});

describe("DeepConvNet in test mode: conv + spatial batch norm + ReLU fused, the bits of the layer calls", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: against Conv, SpatialBatchNorm (test), ReLU, MaxPool and Linear, batches 1 and 3, 1 and 3 threads`, () => {
      const net = new tl.DeepConvNet({
        inputDims: [2, 9, 10],
        numFilters: [5, 8, 3],
        maxPools: [0, 2],
        batchnorm: true,
        numClasses: 4,
        weightScale: "kaiming",
        seed: 7,
        dtype,
      });
      let seed = 30;
      for (const [k, t] of Object.entries(net.params)) {
        if (/^(gamma|beta|b)\d$/.test(k)) t.set(tl.tidy(() => tl.randn(t.shape, { seed: seed++, std: 0.5, dtype }).toArray()));
      }
      for (const s of net.bnParams) {
        s.runningMean.set(tl.tidy(() => tl.randn(s.runningMean.shape, { seed: seed++, dtype }).toArray()));
        s.runningVar.set(
          tl.tidy(() =>
            tl
              .randn(s.runningVar.shape, { seed: seed++, dtype })
              .toArray()
              .map((v) => 0.2 + v * v),
          ),
        );
      }
      const reference = (X: tl.Tensor) =>
        tl.tidy(() => {
          const p = net.params;
          let h = X;
          for (let i = 1; i < net.numLayers; i++) {
            const s = net.bnParams[i - 1];
            const [a] = tl.Conv.forward(h, p[`W${i}`].clone(), p[`b${i}`], { stride: 1, pad: 1 });
            const [z] = tl.SpatialBatchNorm.forward(a, p[`gamma${i}`], p[`beta${i}`], {
              mode: "test",
              eps: s.eps,
              runningMean: s.runningMean,
              runningVar: s.runningVar,
            });
            h = tl.ReLU.forward(z)[0];
            if (net.config.maxPools.includes(i - 1)) h = tl.MaxPool.forward(h, { poolHeight: 2, poolWidth: 2, stride: 2 })[0];
          }
          const L = net.numLayers;
          return tl.Linear.forward(h.reshape([X.shape[0], h.size / X.shape[0]]), p[`W${L}`], p[`b${L}`])[0].toArray();
        });
      for (const threads of [1, 3]) {
        ignoreThresholds(threads > 1);
        simulateThreads(threads);
        for (const n of [1, 3]) {
          const X = tl.randn([n, 2, 9, 10], { seed: 40 + n, dtype });
          const want = reference(X);
          for (let pass = 0; pass < 3; pass++)
            expectSameBits(
              tl.tidy(() => net.loss(X).toArray()),
              want,
              `${threads} thread(s), batch ${n}, call ${pass}`,
            );
          X.dispose();
        }
      }
      net.dispose();
    });
  }
});
