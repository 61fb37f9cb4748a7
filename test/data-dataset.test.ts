// Data sets: seeded shuffles and splits, per-channel normalization, float32 NCHW tensors.
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import type * as tlData from "../src/data/index.js";
import {
  computeNormalization,
  decodeNormalization,
  encodeNormalization,
  labelsOf,
  makeDataset,
  shuffledIndices,
  splitTrainVal,
  subset,
  toSolverData,
  toTensor,
  writeImages,
} from "../src/data/index.js";
import { loadBuiltinData } from "../cli/src/builtin-data.js";

beforeAll(() => tl.init({ float64: true }));

// 4 RGB images of 1x2 pixels: image i, channel c, pixel p = 10*i + 100*c + p (labels i % 2).
function rgb(): tl.ImageDataset {
  const images = new Uint8Array(4 * 3 * 2);
  for (let i = 0; i < 4; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < 2; p++) images[(i * 3 + c) * 2 + p] = 10 * i + 100 * c + p;
  return makeDataset(images, Int32Array.from([0, 1, 0, 1]), [3, 1, 2]);
}

function counting(n: number): tl.ImageDataset {
  return makeDataset(
    Uint8Array.from({ length: n }, (_, i) => i % 256),
    Int32Array.from({ length: n }, (_, i) => i % 10),
    [1, 1, 1],
  );
}

describe("makeDataset", () => {
  it("checks that images, labels and shape agree", () => {
    expect(() => makeDataset(new Uint8Array(7), new Int32Array(2), [1, 2, 2])).toThrow(/2 labels need 2 images of 1x2x2 = 8 bytes \(got 7 bytes/);
    expect(() => makeDataset(new Uint8Array(4), Int32Array.from([-1]), [1, 2, 2])).toThrow(/label 0 is -1/);
    expect(() => makeDataset(new Uint8Array(4), Int32Array.from([3]), [1, 2, 2], { numClasses: 3 })).toThrow(/label 0 is 3, outside \[0, 3\)/);
    expect(() => makeDataset(new Uint8Array(4), Int32Array.from([0]), [1, 2, 2], { classes: ["a", "b"] })).toThrow(/must name 1 classes \(got 2\)/);
    expect(() => makeDataset([1] as unknown as Uint8Array, new Int32Array(1), [1, 1, 1])).toThrow(TypeError);
  });
});

describe("shuffledIndices", () => {
  it("is a permutation, the same for the same seed, different for another", () => {
    const a = shuffledIndices(1000, 7);
    const b = shuffledIndices(1000, 7);
    const c = shuffledIndices(1000, 8);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(a.subarray(0, 10))).not.toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it("pins the order for seed 1 (a change here changes every seeded split)", () => {
    expect(Array.from(shuffledIndices(10, 1))).toEqual([8, 6, 5, 1, 0, 4, 9, 2, 3, 7]);
  });

  it("draws every position roughly uniformly", () => {
    // Where index 0 lands over 2000 seeds of a 10-permutation: each slot near 200.
    const hits = new Array(10).fill(0);
    for (let s = 0; s < 2000; s++) hits[shuffledIndices(10, s).indexOf(0)]++;
    for (const h of hits) expect(h).toBeGreaterThan(140), expect(h).toBeLessThan(260);
  });
});

describe("splitTrainVal", () => {
  it("is deterministic, disjoint, complete, and keeps each image with its label", () => {
    const ds = counting(100);
    const a = splitTrainVal(ds, { valCount: 20, seed: 3 });
    const b = splitTrainVal(ds, { valCount: 20, seed: 3 });
    const c = splitTrainVal(ds, { valCount: 20, seed: 4 });
    expect(a.val.labels.length).toBe(20);
    expect(a.train.labels.length).toBe(80);
    expect(Array.from(a.val.images)).toEqual(Array.from(b.val.images));
    expect(Array.from(a.val.images)).not.toEqual(Array.from(c.val.images));
    const all = [...a.train.images, ...a.val.images].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const part of [a.train, a.val]) {
      part.images.forEach((v, k) => expect(part.labels[k]).toBe(v % 10));
      expect(part.numClasses).toBe(10);
    }
    // each part keeps the original order
    expect(Array.from(a.val.images)).toEqual(Array.from(a.val.images).sort((x, y) => x - y));
  });

  it("valFraction rounds to a count; bad options are named", () => {
    expect(splitTrainVal(counting(10), { valFraction: 0.25, seed: 1 }).val.labels.length).toBe(3);
    expect(() => splitTrainVal(counting(10), { valCount: 11, seed: 1 })).toThrow(/valCount must be in \[0, 10\] \(got 11\)/);
    expect(() => splitTrainVal(counting(10), { valFraction: 1, seed: 1 })).toThrow(/valFraction/);
    expect(() => splitTrainVal(counting(10), { valCount: 1 } as tlData.SplitOptions)).toThrow(/seed is required/);
    expect(() => splitTrainVal(counting(10), { valCount: 1, valFraction: 0.1, seed: 1 })).toThrow(/not both/);
    expect(() => splitTrainVal(counting(10), { valCount: 1, seed: 1, shuffle: true } as tlData.SplitOptions)).toThrow(/unknown option "shuffle"/);
  });
});

describe("normalization", () => {
  it("is per channel, in [0, 1] pixel units, from exact sums", () => {
    const norm = computeNormalization(rgb());
    // channel c values: 10i + 100c + p for i in 0..3, p in 0..1: mean 15 + 100c + 0.5, var = var(10i) + var(p) = 125 + 0.25
    for (let c = 0; c < 3; c++) {
      expect(norm.mean[c]).toBe((15.5 + 100 * c) / 255);
      expect(norm.std[c]).toBeCloseTo(Math.sqrt(125.25) / 255, 15);
    }
  });

  it("a constant channel gets std 1", () => {
    const ds = makeDataset(new Uint8Array(8).fill(7), new Int32Array(2), [1, 2, 2]);
    expect(computeNormalization(ds)).toEqual({ mean: [7 / 255], std: [1] });
  });

  it("round-trips through a metadata string exactly and rejects bad strings", () => {
    const norm = computeNormalization(rgb());
    const back = decodeNormalization(encodeNormalization(norm));
    expect(back).toEqual(norm);
    expect(() => decodeNormalization("{")).toThrow(/not valid JSON/);
    expect(() => decodeNormalization('{"mean":[0.5],"std":[0]}')).toThrow(/std\[0\] must be > 0/);
    expect(() => decodeNormalization('{"mean":[0.5],"std":[1,2]}')).toThrow(/std must be an array of 1 numbers/);
  });
});

describe("toTensor and writeImages", () => {
  it("give float32 NCHW, x/255 without normalization", () => {
    const ds = rgb();
    const t = toTensor(ds);
    expect(t.shape).toEqual([4, 3, 1, 2]);
    const values = t.toArray();
    for (let k = 0; k < values.length; k++) expect(values[k]).toBe(Math.fround(ds.images[k] / 255));
    t.dispose();
  });

  it("give float64 images with dtype float64, unrounded, and writeImages follows its output's dtype", () => {
    const ds = rgb();
    const norm = computeNormalization(ds);
    const t = toTensor(ds, { indices: [2, 0], normalization: norm, dtype: "float64" });
    expect(t.dtype).toBe("float64");
    const v = t.toArray();
    let k = 0;
    for (const i of [2, 0]) {
      for (let c = 0; c < 3; c++) for (let p = 0; p < 2; p++) expect(v[k++]).toBe((ds.images[(i * 3 + c) * 2 + p] / 255 - norm.mean[c]) / norm.std[c]);
    }
    const out = tl.zeros([2, 3, 1, 2], { dtype: "float64" });
    const guard = tl.ones([8], { dtype: "float64" }); // allocated after out: a float32-sized write would miss, a misplaced one would hit it
    writeImages(out, ds, [2, 0], norm);
    expect(Array.from(out.toArray())).toEqual(Array.from(v));
    expect(Array.from(guard.toArray())).toEqual(new Array(8).fill(1));
    for (const x of [t, out, guard]) x.dispose();
  });

  it("apply the normalization per channel, to any subset of indices", () => {
    const ds = rgb();
    const norm = computeNormalization(ds);
    const t = toTensor(ds, { indices: [3, 1], normalization: norm });
    expect(t.shape).toEqual([2, 3, 1, 2]);
    const v = t.toArray();
    let k = 0;
    let maxErr = 0;
    for (const i of [3, 1]) {
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < 2; p++) {
          const want = Math.fround((ds.images[(i * 3 + c) * 2 + p] / 255 - norm.mean[c]) / norm.std[c]);
          maxErr = Math.max(maxErr, Math.abs(v[k++] - want));
        }
      }
    }
    expect(maxErr, `max error ${maxErr}`).toBe(0);
    expect(Array.from(labelsOf(ds, [3, 1]))).toEqual([1, 1]);
    t.dispose();
  });

  it("normalized training data has mean 0 and std 1 per channel", () => {
    const ds = rgb();
    const t = toTensor(ds, { normalization: computeNormalization(ds) });
    const v = t.toArray();
    for (let c = 0; c < 3; c++) {
      const xs: number[] = [];
      for (let i = 0; i < 4; i++) xs.push(v[(i * 3 + c) * 2], v[(i * 3 + c) * 2 + 1]);
      const m = xs.reduce((a, b) => a + b) / xs.length;
      const s = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
      expect(Math.abs(m)).toBeLessThan(1e-6);
      expect(Math.abs(s - 1)).toBeLessThan(1e-6);
    }
    t.dispose();
  });

  it("writeImages fills a reused batch buffer; bad arguments are named and leak nothing", () => {
    const ds = rgb();
    const before = tl.memory().liveTensors;
    const out = tl.zeros([2, 3, 1, 2]);
    writeImages(out, ds, [0, 2]);
    expect(out.toArray()[0]).toBe(0);
    expect(out.toArray()[6]).toBe(Math.fround(20 / 255));
    expect(() => writeImages(out, ds, [0])).toThrow(/out must have shape \[1, 3, 1, 2\]/);
    expect(() => writeImages(out, ds, [0, 4])).toThrow(/indices\[1\] is 4; image indices must be integers in \[0, 4\)/);
    expect(() => toTensor(ds, { normalization: { mean: [0], std: [1] } })).toThrow(/normalization.mean must be an array of 3 numbers/);
    out.dispose();
    expect(tl.memory().liveTensors).toBe(before);
  });

  it("subset copies the chosen images with their labels", () => {
    const s = subset(rgb(), [2]);
    expect(Array.from(s.images)).toEqual([20, 21, 120, 121, 220, 221]);
    expect(Array.from(s.labels)).toEqual([0]);
  });
});

describe("from the built-in data to the Solver's data", () => {
  it("split, normalize on the training part, tensors of the right shapes", async () => {
    const { train: all } = await loadBuiltinData();
    const { train, val } = splitTrainVal(all, { valCount: 1000, seed: 1 });
    const norm = computeNormalization(train);
    // Fashion-MNIST's published statistics are mean 0.286, std 0.353; a 9,000-image subset is close
    expect(Math.abs(norm.mean[0] - 0.286)).toBeLessThan(0.01);
    expect(Math.abs(norm.std[0] - 0.353)).toBeLessThan(0.01);
    const before = tl.memory().liveTensors;
    const data = toSolverData(train, val, norm);
    expect(data.XTrain.shape).toEqual([9000, 1, 28, 28]);
    expect(data.XVal.shape).toEqual([1000, 1, 28, 28]);
    expect(data.yTrain.length).toBe(9000);
    expect(Array.from(data.yVal)).toEqual(Array.from(val.labels));
    const x = data.XTrain.toArray();
    let sum = 0;
    for (const v of x) sum += v;
    expect(Math.abs(sum / x.length)).toBeLessThan(1e-4);
    data.XTrain.dispose();
    data.XVal.dispose();
    expect(tl.memory().liveTensors).toBe(before);
  });
});
