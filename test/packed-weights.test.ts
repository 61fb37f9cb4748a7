// Weights packed once per version (issue 22): a stale packing must be impossible through the public
// API. Each case makes a weight's packing current (two inference calls), writes the weights in
// one of the ways the library offers, and checks the next inference against an unpacked
// reference: the same layer or model over a copy of the weights that was never packed. It also
// checks the packing really was in use before the write (else the case proves nothing), that a
// row's result does not depend on the batch it came in or the thread count, and that packings
// are freed with their tensors.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { expectSameBits } from "./helpers.js";
import { simulateThreads } from "../src/core/threads/dispatch.js";
import { ignoreThresholds } from "../src/core/threads/thresholds.js";
import { wasmMemoryBytes } from "../src/core/runtime.js";

beforeAll(() => tl.init({ float64: true }));
afterEach(() => {
  simulateThreads(null);
  ignoreThresholds(false);
});

/** True when w's packing exists and holds its current version (packed-weights.ts). */
function packedNow(w: tl.Tensor): boolean {
  const p = w.attachment as { packed?: number } | null;
  return p !== null && p.packed === w.version;
}

/** Exact equality, bit for bit, with the first difference in the message. */
/** Linear.forward's output, as values. */
function linear(x: tl.Tensor, w: tl.Tensor, b: tl.Tensor): Float32Array | Float64Array {
  return tl.tidy(() => tl.Linear.forward(x, w, b)[0].toArray());
}

/** The layer over a never-packed copy of w: the unpacked reference. */
function unpacked(x: tl.Tensor, w: tl.Tensor, b: tl.Tensor): Float32Array | Float64Array {
  return tl.tidy(() => linear(x, w.clone(), b));
}

const UPDATE_RULES = ["sgd", "sgdMomentum", "sgdNesterov", "adagrad", "rmsprop", "adam", "adamw"] as const;

describe("Linear.forward on packed weights: every write through the public API is seen", () => {
  // D = 300: two k slices; M = 37: a partial panel. Batch 1 takes the GEMV, batch 6 the 4-row kernel.
  const D = 300,
    M = 37;
  type Write = (w: tl.Tensor) => void;
  const writes: [string, Write][] = [
    ["set(array)", (w) => w.set(Float32Array.from({ length: w.size }, (_, i) => Math.cos(i)))],
    ["set(tensor)", (w) => tl.tidy(() => w.set(tl.randn(w.shape, { seed: 77 })))],
    [
      "a write through view()",
      (w) => {
        w.view()[5] = 3.5;
      },
    ],
    ["set() on another view of the same memory (reshape)", (w) => tl.tidy(() => w.reshape([M, D]).set(tl.randn([M, D], { seed: 78 })))],
    [
      "randomCrop into a 4-d view of the weights (options.out)",
      (w) =>
        tl.tidy(() => {
          const x4 = tl.randn([1, 1, D, M], { seed: 79 });
          tl.randomCrop(x4, { padding: 2, seed: 3, out: w.reshape([1, 1, D, M]) });
        }),
    ],
    ...UPDATE_RULES.map((rule): [string, Write] => [
      `tl.${rule}`,
      (w) =>
        tl.tidy(() => {
          const dw = tl.randn(w.shape, { seed: 80 });
          const [, config] = tl[rule](w, dw, { learningRate: 0.1 });
          // A second step: the rules' state tensors are written in place too.
          tl[rule](w, dw, config);
          for (const v of Object.values(config)) if (v instanceof tl.Tensor) v.dispose();
        }),
    ]),
  ];
  for (const batch of [1, 6]) {
    for (const [name, write] of writes) {
      it(`batch ${batch}: ${name}`, () => {
        const x = tl.randn([batch, D], { seed: 1 });
        const w = tl.randn([D, M], { seed: 2, std: 0.1 });
        const b = tl.randn([M], { seed: 3 });
        const first = linear(x, w, b);
        expectSameBits(linear(x, w, b), first, "second call (packs)");
        expect(packedNow(w), "the packing is in use before the write").toBe(true);
        expectSameBits(linear(x, w, b), first, "third call (on the packing)");
        const before = w.version;
        write(w);
        expect(w.version, "the write changed the version").not.toBe(before);
        const want = unpacked(x, w, b);
        expectSameBits(linear(x, w, b), want, `after ${name}`);
        expectSameBits(linear(x, w, b), want, `after ${name}, packed again`);
        expect(packedNow(w)).toBe(true);
        [x, w, b].forEach((t) => t.dispose());
      });
    }
  }

  it("float64: an update after packing is seen", () => {
    const x = tl.randn([1, D], { seed: 1, dtype: "float64" });
    const w = tl.randn([D, M], { seed: 2, dtype: "float64" });
    const b = tl.randn([M], { seed: 3, dtype: "float64" });
    linear(x, w, b);
    linear(x, w, b);
    expect(packedNow(w)).toBe(true);
    tl.tidy(() => tl.adam(w, tl.randn([D, M], { seed: 4, dtype: "float64" }))[1]);
    expectSameBits(linear(x, w, b), unpacked(x, w, b), "float64 after adam");
    [x, w, b].forEach((t) => t.dispose());
  });

  it("reading the values (toArray, item, toNested) does not count as a write", () => {
    const w = tl.randn([3, 2], { seed: 5 });
    const v = w.version;
    w.toArray();
    w.toNested();
    w.sliceView(0, [1]).item();
    expect(w.version).toBe(v);
    w.dispose();
  });
});

/** A fresh FullyConnectedNet holding model's parameters (never packed): the reference. */
function fcCopy(model: tl.FullyConnectedNet): tl.FullyConnectedNet {
  const copy = new tl.FullyConnectedNet({ ...model.config });
  for (const [name, t] of Object.entries(model.params)) copy.params[name].set(t.toArray());
  return copy;
}

function scores(model: { loss(X: tl.Tensor): tl.Tensor }, X: tl.Tensor): Float32Array | Float64Array {
  return tl.tidy(() => model.loss(X).toArray());
}

describe("models on packed weights: training, loading and restoring are seen", () => {
  const options = { hiddenDims: [40, 24], inputDim: 30, numClasses: 5, weightScale: "kaiming" as const, seed: 4 };
  const data = () => {
    const X = tl.randn([50, 30], { seed: 6 });
    const y = Int32Array.from({ length: 50 }, (_, i) => (i * 7) % 5);
    return { XTrain: X, yTrain: y, XVal: X, yVal: y };
  };

  for (const rule of UPDATE_RULES) {
    it(`FullyConnectedNet, Solver with ${rule} (one update over the flat parameter region)`, () => {
      const model = new tl.FullyConnectedNet(options);
      const d = data();
      const X1 = tl.randn([1, 30], { seed: 9 });
      scores(model, X1);
      scores(model, X1);
      expect(packedNow(model.params.W1) && packedNow(model.params.W2) && packedNow(model.params.W3), "every layer packed").toBe(true);
      const solver = new tl.Solver(model, d, { updateRule: rule, optimConfig: { learningRate: 0.05 }, batchSize: 10, numEpochs: 1, verbose: false, seed: 2 });
      solver.step();
      const ref = fcCopy(model);
      expectSameBits(scores(model, X1), scores(ref, X1), `after a ${rule} step`);
      solver.dispose();
      [model, ref].forEach((m) => m.dispose());
      d.XTrain.dispose();
      X1.dispose();
    });
  }

  it("FullyConnectedNet: a custom update rule returning new weights, then restoreBest()", () => {
    const model = new tl.FullyConnectedNet(options);
    const d = data();
    const X1 = tl.randn([2, 30], { seed: 9 });
    const halve: tl.UpdateRule = (w, dw, config = {}) => [
      tl.tidy(() => {
        const out = w.clone();
        tl.sgd(out, dw, { learningRate: 0.5 });
        return out;
      }),
      config,
    ];
    const solver = new tl.Solver(model, d, { updateRule: halve, batchSize: 10, numEpochs: 2, verbose: false, seed: 2 });
    solver.train(); // ends with restoreBest(): the best parameters copied back in
    scores(model, X1);
    scores(model, X1);
    expect(packedNow(model.params.W1)).toBe(true);
    solver.step(); // the custom rule: w.set(nextW)
    expectSameBits(scores(model, X1), scores(fcCopy(model), X1), "after a custom rule's step");
    scores(model, X1);
    solver.restoreBest();
    expectSameBits(
      scores(model, X1),
      tl.tidy(() => {
        const r = fcCopy(model);
        const s = scores(r, X1);
        r.dispose();
        return s;
      }),
      "after restoreBest()",
    );
    solver.dispose();
    model.dispose();
    d.XTrain.dispose();
    X1.dispose();
  });

  it("Sequential (nn.linear + nn.relu, fused): setParameters, a Solver step and a checkpoint resume", () => {
    const make = () => tl.sequential([tl.nn.linear(30, 40), tl.nn.relu(), tl.nn.linear(40, 5)], { inputShape: [30], seed: 3 });
    const d = data();
    const X1 = tl.randn([1, 30], { seed: 9 });
    const ref = (m: tl.Sequential) => {
      const copy = make();
      copy.setParameters(m.getParameters());
      const s = scores(copy, X1);
      copy.dispose();
      return s;
    };
    const packAll = (m: tl.Sequential) => {
      scores(m, X1);
      scores(m, X1);
      expect(packedNow(m.params["0.weight"]) && packedNow(m.params["2.weight"]), "every layer packed").toBe(true);
    };
    const model = make();
    packAll(model);
    model.setParameters(Float32Array.from({ length: model.getParameters().length }, (_, i) => Math.sin(i) * 0.1));
    expectSameBits(scores(model, X1), ref(model), "after setParameters");

    packAll(model);
    const options = { updateRule: "adam" as const, batchSize: 10, numEpochs: 1, verbose: false, seed: 2 };
    const solver = new tl.Solver(model, d, options);
    solver.step();
    expectSameBits(scores(model, X1), ref(model), "after a Solver step");
    const saved = scores(model, X1);
    const bytes = tl.saveCheckpoint({ model, solver });

    // The loaded model, packed over other values, then resumed: resume writes the saved ones in.
    const loaded = tl.loadCheckpoint(bytes);
    const lm = loaded.model as tl.Sequential;
    const solver2 = new tl.Solver(lm, d, options);
    lm.setParameters(new Float32Array(lm.getParameters().length).fill(0.01));
    packAll(lm);
    loaded.resume(solver2);
    expectSameBits(scores(lm, X1), ref(lm), "after a checkpoint resume");
    expectSameBits(scores(lm, X1), saved, "the resumed model scores as the saved one");
    [solver, solver2].forEach((s) => s.dispose());
    [model, lm].forEach((m) => m.dispose());
    d.XTrain.dispose();
    X1.dispose();
  });
});

describe("a row's scores do not depend on its batch or the thread count", () => {
  const cases: [string, () => { loss(X: tl.Tensor): tl.Tensor; dispose(): void }][] = [
    ["FullyConnectedNet", () => new tl.FullyConnectedNet({ hiddenDims: [70, 33], inputDim: 300, numClasses: 10, weightScale: "kaiming", seed: 8 })],
    [
      "FullyConnectedNet float64",
      () => new tl.FullyConnectedNet({ hiddenDims: [70, 33], inputDim: 300, numClasses: 10, weightScale: "kaiming", seed: 8, dtype: "float64" }),
    ],
    [
      "Sequential nn.linear + nn.relu",
      () => tl.sequential([tl.nn.linear(300, 70), tl.nn.relu(), tl.nn.linear(70, 33), tl.nn.relu(), tl.nn.linear(33, 10)], { inputShape: [300], seed: 8 }),
    ],
  ];
  for (const [name, make] of cases) {
    it(`${name}: batches of 1, 2, 3, 5 and 9 rows, packed or not, 1 or 3 threads, give each row the same bits`, () => {
      const model = make();
      const dtype = name.includes("float64") ? "float64" : "float32";
      const X = tl.randn([9, 300], { seed: 10, dtype });
      const rows = (from: number, n: number) => tl.tidy(() => model.loss(X.sliceView(from * 300, [n, 300])).toArray());
      const whole = rows(0, 9);
      ignoreThresholds(true); // small shapes: split as far as the thread count allows
      for (const threads of [1, 3]) {
        simulateThreads(threads);
        for (const n of [1, 2, 3, 5]) {
          for (let from = 0; from + n <= 9; from += n) {
            for (let pass = 0; pass < 3; pass++) {
              // unpacked, packing, packed
              expectSameBits(rows(from, n), whole.slice(from * 10, (from + n) * 10), `${threads} thread(s), rows ${from}..${from + n - 1}, pass ${pass}`);
            }
          }
        }
      }
      X.dispose();
      model.dispose();
    });
  }
});

describe("packed weights are freed with their tensors", () => {
  it("disposing a weight (or its base) releases its packing; wasm memory stays flat over many packings", () => {
    const x = tl.randn([1, 200], { seed: 1 });
    const b = tl.zeros([300]);
    const cycle = () => {
      const w = tl.randn([200, 300], { seed: 2 });
      linear(x, w, b);
      linear(x, w, b);
      expect(packedNow(w)).toBe(true);
      w.dispose();
      expect(w.attachment).toBe(null);
      // A view packed, then its base disposed: the view's packing goes with the memory.
      const base = tl.randn([2, 200, 300], { seed: 3 });
      const view = base.sliceView(200 * 300, [200, 300]);
      linear(x, view, b);
      linear(x, view, b);
      expect(packedNow(view)).toBe(true);
      base.dispose();
      expect(view.attachment).toBe(null);
    };
    for (let i = 0; i < 5; i++) cycle();
    const bytes = wasmMemoryBytes();
    for (let i = 0; i < 200; i++) cycle();
    expect(wasmMemoryBytes(), "wasm memory after 200 more packings").toBe(bytes);
    [x, b].forEach((t) => t.dispose());
  });
});
