// PyTorch's own state_dict files (test/fixtures/torch/sequential/, one nn.Sequential of every
// module kind) loaded by name into the matching tl.sequential: the eval scores PyTorch computed
// from the F32, F16 and BF16 files, and in float64 the train-mode loss, every gradient and the
// updated running statistics of PyTorch's step. Also the pretrained net of finetune/ (before its
// batch norms were fused) against the ONNX import of the same net.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { importOnnx } from "../src/onnx/index.js";
import { initAndCheckLeaks } from "./helpers.js";
import { relativeError, TORCH_FIXTURES } from "./helpers/torch-fixtures.js";

initAndCheckLeaks({ float64: true });

const file = (folder: string, name: string) => new Uint8Array(readFileSync(join(TORCH_FIXTURES, folder, name)));

/** The README's make_net(): tl.nn modules in PyTorch's order, so the state_dict names match. */
function fixtureNet(dtype: tl.DType = "float32"): tl.Sequential {
  const { conv2d, batchNorm2d, relu, maxPool2d, residual, leakyRelu, avgPool2d, gelu, globalAvgPool, flatten, linear } = tl.nn;
  return tl.sequential(
    [
      conv2d(1, 6, 3, { padding: 1 }),
      batchNorm2d(6),
      relu(),
      maxPool2d(2),
      residual(
        [conv2d(6, 10, 3, { stride: 2, padding: 1, bias: false }), batchNorm2d(10), relu(), conv2d(10, 10, 3, { padding: 1, bias: false }), batchNorm2d(10)],
        [conv2d(6, 10, 1, { stride: 2, bias: false }), batchNorm2d(10)],
      ),
      relu(),
      conv2d(10, 10, 3, { padding: 1, groups: 10 }),
      batchNorm2d(10),
      leakyRelu(0.1),
      avgPool2d(2),
      conv2d(10, 12, 1),
      gelu(),
      globalAvgPool(),
      flatten(),
      linear(12, 10),
    ],
    { inputShape: [1, 16, 16], seed: 1, dtype },
  );
}

describe("PyTorch's state_dict files", () => {
  it.each(["f32", "f16", "bf16"])("state_dict.%s.safetensors loads by name and gives PyTorch's eval scores", (p) => {
    const model = fixtureNet();
    const result = tl.loadStateDict(model, file("sequential", `state_dict.${p}.safetensors`));
    expect(result.ignored).toEqual([
      "1.num_batches_tracked",
      "4.body.1.num_batches_tracked",
      "4.body.4.num_batches_tracked",
      "4.shortcut.1.num_batches_tracked",
      "7.num_batches_tracked",
    ]);
    const { tensors } = tl.decodeSafetensors(file("sequential", "eval.safetensors"));
    const X = tl.tensor(tensors.x.data as Float32Array, [...tensors.x.shape]);
    const scores = model.loss(X);
    const err = relativeError(scores.toArray(), tensors[`scores.${p}`].data);
    console.log(`state_dict.${p}: eval scores within ${err.toExponential(2)} of PyTorch's (relative to the largest)`);
    expect(err).toBeLessThan(1e-4);
    expect(Array.from(model.predict(X))).toEqual([5, 9, 9, 8, 9]);
    for (const t of [X, scores]) t.dispose();
    model.dispose();
  });

  it("float64: PyTorch's train-mode step (loss, every gradient, the running statistics after it)", () => {
    const model = fixtureNet("float64");
    const { tensors, metadata } = tl.decodeSafetensors(file("sequential", "train_step.f64.safetensors"));
    const state = Object.fromEntries(Object.entries(tensors).filter(([name]) => /^\d/.test(name) && !name.endsWith(".after")));
    tl.loadStateDict(model, state);
    const X = tl.tensor(tensors.x.data as Float64Array, [...tensors.x.shape], { dtype: "float64" });
    const y = JSON.parse(metadata.y ?? "[0, 7, 1, 3, 8]") as number[];
    const evalScores = model.loss(X);
    expect(relativeError(evalScores.toArray(), tensors["scores.eval"].data)).toBeLessThan(1e-10);
    const [loss, grads] = model.loss(X, y);
    console.log(`train step: loss ${loss} (PyTorch ${tensors.loss.data[0]})`);
    expect(Math.abs(loss - tensors.loss.data[0])).toBeLessThan(1e-10);
    // Relative to the largest of each gradient, but at least 1e-6: a conv bias before a batch
    // norm has a zero gradient (PyTorch's is 1e-17 of rounding).
    let worst = 0;
    for (const name of model.parameterNames) {
      const ref = tensors[`grad.${name}`].data;
      const mine = grads[name].toArray();
      const scale = Math.max(1e-6, ...Array.from(ref, Math.abs));
      const e = Math.max(...Array.from(ref, (v, i) => Math.abs(mine[i] - v))) / scale;
      worst = Math.max(worst, e);
      expect(e, name).toBeLessThan(1e-8);
    }
    for (const [name, t] of Object.entries(model.buffers)) expect(relativeError(t.toArray(), tensors[`${name}.after`].data), name).toBeLessThan(1e-10);
    console.log(`train step: worst gradient error ${worst.toExponential(2)} over ${model.parameterNames.length} parameters`);
    for (const t of [X, evalScores]) t.dispose();
    model.dispose();
  });

  it("the pretrained net's unfused state_dict and its ONNX file (batch norms fused by the exporter) give the same scores", () => {
    const { conv2d, batchNorm2d, relu, maxPool2d, globalAvgPool, flatten, linear } = tl.nn;
    const net = tl.sequential(
      [
        conv2d(1, 8, 3, { padding: 1 }),
        batchNorm2d(8),
        relu(),
        maxPool2d(2),
        conv2d(8, 16, 3, { padding: 1 }),
        batchNorm2d(16),
        relu(),
        maxPool2d(2),
        conv2d(16, 32, 3, { padding: 1 }),
        batchNorm2d(32),
        relu(),
        globalAvgPool(),
        flatten(),
        linear(32, 5),
      ],
      { inputShape: [1, 28, 28], seed: 1 },
    );
    tl.loadStateDict(net, file("finetune", "pretrained_0to4.state_dict.safetensors"));
    const onnx = importOnnx(file("finetune", "pretrained_0to4.onnx"));
    const { tensors } = tl.decodeSafetensors(file("finetune", "pretrained_0to4.expected.safetensors"));
    const X = tl.tensor(tensors.x.data as Float32Array, [...tensors.x.shape]);
    const a = net.loss(X);
    const b = onnx.loss(X);
    const errA = relativeError(a.toArray(), tensors.scores.data);
    const errB = relativeError(b.toArray(), tensors.scores.data);
    console.log(`pretrained_0to4: state_dict net within ${errA.toExponential(2)}, ONNX import within ${errB.toExponential(2)} of PyTorch`);
    expect(errA).toBeLessThan(1e-4);
    expect(errB).toBeLessThan(1e-4);
    for (const t of [X, a, b]) t.dispose();
    net.dispose();
    onnx.dispose();
  });
});
