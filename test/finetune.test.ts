// The fine-tuning recipe of test/fixtures/torch/finetune/ (README there), run with tensorlane: a
// small CNN PyTorch pretrained on Fashion-MNIST classes 0-4 is imported from ONNX and predicts as
// PyTorch did; its head is replaced by a 10-class one started from PyTorch's own initial values
// (head_init.safetensors); everything else is frozen; one epoch of Adam (lr 1e-2) over the first
// 3000 training images in file order, 60 batches of 50; then the 10000 test images. The
// accuracies must be PyTorch's within a few points, and every frozen parameter keeps its bits.
//
// Needs Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist): skipped without it
// locally, required in CI.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { loadIdxFolder } from "../src/node/index.js";
import { importOnnx } from "../src/onnx/index.js";
import * as tlData from "../src/data/index.js";
import { initAndCheckLeaks } from "./helpers.js";
import { TORCH_FIXTURES } from "./helpers/torch-fixtures.js";

initAndCheckLeaks();

const DATA = "/usr/share/datasets/fashion-mnist";
const HAVE_DATA = existsSync(join(DATA, "train-images-idx3-ubyte.gz"));
const FINETUNE = join(TORCH_FIXTURES, "finetune");
const NORMALIZATION = { mean: [0.286], std: [0.353] };
const file = (name: string) => new Uint8Array(readFileSync(join(FINETUNE, name)));

if (!HAVE_DATA && process.env.CI) throw new Error(`CI needs Debian's dataset-fashion-mnist in ${DATA} (apt-get install -y dataset-fashion-mnist)`);

describe.skipIf(!HAVE_DATA)("fine-tuning an imported PyTorch net (test/fixtures/torch/finetune)", () => {
  it("imports the pretrained net: PyTorch's scores and its 200 recorded predictions", async () => {
    const model = importOnnx(file("pretrained_0to4.onnx"));
    expect(model.parameterNames).toEqual([
      "onnx::Conv_39",
      "onnx::Conv_40",
      "onnx::Conv_42",
      "onnx::Conv_43",
      "onnx::Conv_45",
      "onnx::Conv_46",
      "13.weight",
      "13.bias",
    ]);
    const expected = tl.decodeSafetensors(file("pretrained_0to4.expected.safetensors")).tensors;
    const x = tl.tensor(expected.x.data as Float32Array, [...expected.x.shape]);
    const scores = model.loss(x);
    const got = scores.toArray();
    let worst = 0;
    let scale = 0;
    expected.scores.data.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(got[i] - v));
      scale = Math.max(scale, Math.abs(v));
    });
    console.log(`pretrained_0to4: max |tensorlane - PyTorch| ${worst.toExponential(2)} (relative ${(worst / scale).toExponential(2)})`);
    expect(worst / scale).toBeLessThan(1e-4);

    const { test } = await loadIdxFolder(DATA);
    const recorded = tl.decodeSafetensors(file("pretrained_0to4.predictions.safetensors"), undefined, { integers: true }).tensors;
    const indices = recorded.test_index.data as Int32Array;
    const X = tlData.toTensor(test, { indices, normalization: NORMALIZATION });
    const pred = model.predict(X);
    expect(Array.from(pred)).toEqual(Array.from(recorded.pred.data as Int32Array));
    const allScores = model.loss(X);
    const all = allScores.toArray();
    allScores.dispose();
    let worst200 = 0;
    (recorded.scores.data as Float32Array).forEach((v, i) => (worst200 = Math.max(worst200, Math.abs(all[i] - v))));
    console.log(`pretrained_0to4: the 200 recorded predictions agree; scores within ${worst200.toExponential(2)}`);
    expect(worst200).toBeLessThan(1e-4);
    for (const t of [x, scores, X]) t.dispose();
    model.dispose();
  });

  it("a new 10-class head on the frozen body, one epoch of Adam on 3000 images: PyTorch's accuracies within a few points, frozen bits unchanged", async () => {
    const model = importOnnx(file("pretrained_0to4.onnx"), { numClasses: 10, seed: 2 });
    const loaded = tl.loadStateDict(model, file("head_init.safetensors"), { strict: false });
    expect(loaded.loaded).toEqual(["13.weight", "13.bias"]);
    model.freeze((name) => !name.startsWith("13."));
    expect(model.frozen).toHaveLength(6);
    const frozenBits = Object.fromEntries(model.frozen.map((n) => [n, new Uint32Array(model.params[n].toArray().buffer)]));

    const { train, test } = await loadIdxFolder(DATA);
    const first = Int32Array.from({ length: 3000 }, (_, i) => i);
    const XTrain = tlData.toTensor(train, { indices: first, normalization: NORMALIZATION });
    const yTrain = tlData.labelsOf(train, first);
    const reference = tl.decodeSafetensors(file("finetune_result.safetensors")).tensors;
    const losses: number[] = [];
    const configs: Record<string, tl.AdamConfig> = {};
    for (let b = 0; b < 60; b++) {
      const Xb = XTrain.sliceView(b * 50 * 784, [50, 1, 28, 28]);
      const [loss, grads] = model.loss(Xb, yTrain.subarray(b * 50, (b + 1) * 50));
      losses.push(loss);
      expect(Object.keys(grads)).toEqual(["13.weight", "13.bias"]);
      for (const [name, g] of Object.entries(grads)) configs[name] = tl.adam(model.params[name], g, configs[name] ?? { learningRate: 1e-2 })[1];
      Xb.dispose();
    }
    const lossRef = reference.losses.data;
    const lossError = Math.max(...losses.map((l, i) => Math.abs(l - lossRef[i])));
    console.log(
      `fine-tuning: batch losses ${losses[0].toFixed(4)} ... ${losses[59].toFixed(4)} (PyTorch ${lossRef[0].toFixed(4)} ... ${lossRef[59].toFixed(4)}), max difference ${lossError.toExponential(2)}`,
    );
    expect(Math.abs(losses[0] - lossRef[0])).toBeLessThan(1e-4);
    expect(lossError).toBeLessThan(1e-2);
    let headError = 0;
    for (const name of ["13.weight", "13.bias"]) {
      const mine = model.params[name].toArray();
      reference[name].data.forEach((v, i) => (headError = Math.max(headError, Math.abs(mine[i] - v))));
    }
    console.log(`fine-tuning: the trained head within ${headError.toExponential(2)} of PyTorch's`);

    const all = Int32Array.from({ length: 10000 }, (_, i) => i);
    const XTest = tlData.toTensor(test, { indices: all, normalization: NORMALIZATION });
    const yTest = tlData.labelsOf(test, all);
    const pred = model.predict(XTest, { batchSize: 500 });
    const accuracy = (keep: (label: number) => boolean) => {
      let n = 0;
      let right = 0;
      yTest.forEach((label, i) => {
        if (!keep(label)) return;
        n++;
        if (pred[i] === label) right++;
      });
      return right / n;
    };
    const acc = { "5to9": accuracy((l) => l >= 5), "0to4": accuracy((l) => l < 5), all: accuracy(() => true) };
    console.log(
      `fine-tuning: accuracy 5-9 ${acc["5to9"].toFixed(4)} (PyTorch 0.6384), 0-4 ${acc["0to4"].toFixed(4)} (0.8056), all ${acc.all.toFixed(4)} (0.7220)`,
    );
    expect(Math.abs(acc["5to9"] - 0.6384)).toBeLessThan(0.03);
    expect(Math.abs(acc["0to4"] - 0.8056)).toBeLessThan(0.03);
    expect(Math.abs(acc.all - 0.722)).toBeLessThan(0.03);
    for (const [name, bits] of Object.entries(frozenBits)) expect(new Uint32Array(model.params[name].toArray().buffer), name).toEqual(bits);

    for (const c of Object.values(configs)) for (const key of ["m", "v"] as const) c[key]?.dispose();
    XTrain.dispose();
    XTest.dispose();
    model.dispose();
  });
});
