import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { expectClose, expectRelError, labels, initAndCheckLeaks } from "./helpers.js";

initAndCheckLeaks();

describe("Linear", () => {
  it("forward by hand: x (2, 3) flattened from (2, 1, 3), w (3, 2), b (2)", () => {
    tl.tidy(() => {
      const x = tl.tensor([[[1, 2, 3]], [[-1, 0, 2]]]);
      const w = tl.tensor([
        [1, 0],
        [0, 1],
        [1, -1],
      ]);
      const b = tl.tensor([0.5, -0.5]);
      const [out] = tl.Linear.forward(x, w, b);
      expect(out.shape).toEqual([2, 2]);
      // row 0: [1+3, 2-3] + b = [4.5, -1.5]; row 1: [-1+2, 0-2] + b = [1.5, -2.5]
      expect(out.toNested()).toEqual([
        [4.5, -1.5],
        [1.5, -2.5],
      ]);
    });
  });

  it("backward matches numeric gradients; dx keeps x's shape (N=4, x (4,2,3), M=5)", () => {
    tl.tidy(() => {
      const x = tl.randn([4, 2, 3], { seed: 1 });
      const w = tl.randn([6, 5], { seed: 2 });
      const b = tl.randn([5], { seed: 3 });
      const dout = tl.randn([4, 5], { seed: 4 });
      const [, cache] = tl.Linear.forward(x, w, b);
      const [dx, dw, db] = tl.Linear.backward(dout, cache);
      expect(dx.shape).toEqual([4, 2, 3]);
      const f = () => tl.Linear.forward(x, w, b)[0];
      expectRelError("dx", tl.relError(dx, tl.evalNumericalGradientArray(f, x, dout, { h: 1e-2 })), 1e-3);
      expectRelError("dw", tl.relError(dw, tl.evalNumericalGradientArray(f, w, dout, { h: 1e-2 })), 1e-3);
      expectRelError("db", tl.relError(db, tl.evalNumericalGradientArray(f, b, dout, { h: 1e-2 })), 1e-3);
    });
  });

  it("clear errors: feature mismatch, bias mismatch, dout mismatch, disposed input, bad cache", () => {
    tl.tidy(() => {
      const x = tl.zeros([2, 3]);
      const w = tl.zeros([4, 2]);
      const b = tl.zeros([2]);
      expect(() => tl.Linear.forward(x, w, b)).toThrow(/x has 3 features per row .* w expects 4/);
      const w3 = tl.zeros([3, 2]);
      expect(() => tl.Linear.forward(x, w3, tl.zeros([3]))).toThrow(/b must have shape \[2\]/);
      const [, cache] = tl.Linear.forward(x, w3, b);
      expect(() => tl.Linear.backward(tl.zeros([2, 3]), cache)).toThrow(/dout must have shape \[2, 2\]/);
      expect(() => tl.Linear.backward(tl.zeros([2, 2]), {} as never)).toThrow(/cache is missing "x"/);
      const gone = tl.zeros([2, 3]);
      gone.dispose();
      expect(() => tl.Linear.forward(gone, w3, b)).toThrow(/Linear.forward: x was disposed/);
      expect(() => tl.Linear.forward([1, 2] as never, w3, b)).toThrow(/x must be a Tensor \(got an array of length 2\)/);
    });
  });
});

describe("ReLU and LinearReLU", () => {
  it("ReLU forward and backward by hand", () => {
    tl.tidy(() => {
      const x = tl.tensor([
        [-1, 2],
        [0, 3],
      ]);
      const [out, cache] = tl.ReLU.forward(x);
      expect(out.toNested()).toEqual([
        [0, 2],
        [0, 3],
      ]);
      const dx = tl.ReLU.backward(
        tl.tensor([
          [5, 6],
          [7, 8],
        ]),
        cache,
      );
      expect(dx.toNested()).toEqual([
        [0, 6],
        [0, 8],
      ]);
    });
  });

  it("ReLU backward matches numeric gradient (10x10, inputs kept away from 0)", () => {
    tl.tidy(() => {
      const raw = tl.randn([10, 10], { seed: 5 }).toArray();
      const x = tl.tensor(
        raw.map((v) => (Math.abs(v) < 0.05 ? 0.5 : v)),
        [10, 10],
      );
      const dout = tl.randn([10, 10], { seed: 6 });
      const [, cache] = tl.ReLU.forward(x);
      const dx = tl.ReLU.backward(dout, cache);
      const num = tl.evalNumericalGradientArray(() => tl.ReLU.forward(x)[0], x, dout, { h: 1e-2 });
      expectRelError("dx", tl.relError(dx, num), 1e-3);
    });
  });

  it("LinearReLU matches numeric gradients", () => {
    tl.tidy(() => {
      const x = tl.randn([2, 3, 4], { seed: 7 });
      const w = tl.randn([12, 10], { seed: 8 });
      const b = tl.randn([10], { seed: 9 });
      const dout = tl.randn([2, 10], { seed: 10 });
      const [, cache] = tl.LinearReLU.forward(x, w, b);
      const [dx, dw, db] = tl.LinearReLU.backward(dout, cache);
      const f = () => tl.LinearReLU.forward(x, w, b)[0];
      expectRelError("dx", tl.relError(dx, tl.evalNumericalGradientArray(f, x, dout, { h: 1e-2 })), 1e-2);
      expectRelError("dw", tl.relError(dw, tl.evalNumericalGradientArray(f, w, dout, { h: 1e-2 })), 1e-2);
      expectRelError("db", tl.relError(db, tl.evalNumericalGradientArray(f, b, dout, { h: 1e-2 })), 1e-2);
    });
  });
});

describe("Dropout (p is the DROP probability)", () => {
  it("train mode drops about p of the units and scales the rest by 1/(1-p); test mode is identity", () => {
    tl.tidy(() => {
      const x = tl.full([500, 500], 10);
      for (const p of [0.25, 0.4, 0.7]) {
        const [out] = tl.Dropout.forward(x, { p, mode: "train", seed: 123 });
        const v = out.toArray() as Float32Array;
        const dropped = v.filter((a) => a === 0).length / v.length;
        expect(Math.abs(dropped - p), `p=${p}: dropped fraction ${dropped}`).toBeLessThan(0.005);
        const kept = Math.fround(10 * Math.fround(1 / (1 - p)));
        expect(v.every((a) => a === 0 || Math.abs(a - kept) < 1e-5)).toBe(true);
        // Mean is preserved in expectation (inverted dropout).
        const mean = v.reduce((s, a) => s + a, 0) / v.length;
        expect(Math.abs(mean - 10)).toBeLessThan(0.1);
        const [test] = tl.Dropout.forward(x, { p, mode: "test" });
        expectClose("test mode", test.toArray(), x.toArray(), 0);
      }
    });
  });

  it("p = 0 keeps everything; a seed makes the mask reproducible", () => {
    tl.tidy(() => {
      const x = tl.randn([10, 10], { seed: 1 });
      const [a] = tl.Dropout.forward(x, { p: 0, mode: "train" });
      expectClose("p=0", a.toArray(), x.toArray(), 0);
      const [b] = tl.Dropout.forward(x, { p: 0.5, mode: "train", seed: 9 });
      const [c] = tl.Dropout.forward(x, { p: 0.5, mode: "train", seed: 9 });
      expect(b.toArray()).toEqual(c.toArray());
    });
  });

  it("backward reuses the mask and matches numeric gradients with a fixed mask", () => {
    tl.tidy(() => {
      const x = tl.randn([10, 10], { seed: 2 });
      const dout = tl.randn([10, 10], { seed: 3 });
      const param = { p: 0.2, mode: "train" as const, seed: 4 };
      const [, cache] = tl.Dropout.forward(x, param);
      const dx = tl.Dropout.backward(dout, cache);
      const num = tl.evalNumericalGradientArray(() => tl.Dropout.forward(x, param)[0], x, dout, { h: 1e-2 });
      expectRelError("dx", tl.relError(dx, num), 1e-3);
      const [, testCache] = tl.Dropout.forward(x, { p: 0.2, mode: "test" });
      expectClose("test backward", tl.Dropout.backward(dout, testCache).toArray(), dout.toArray(), 0);
    });
  });

  it("rejects p outside [0, 1), bad modes and unknown keys", () => {
    tl.tidy(() => {
      const x = tl.zeros([2]);
      expect(() => tl.Dropout.forward(x, { p: 1, mode: "train" })).toThrow(/dropoutParam.p must be in \[0, 1\) \(got 1\)/);
      expect(() => tl.Dropout.forward(x, { p: -0.1, mode: "train" })).toThrow(RangeError);
      expect(() => tl.Dropout.forward(x, { p: 0.5, mode: "eval" as never })).toThrow(/mode must be one of "train", "test"/);
      expect(() => tl.Dropout.forward(x, { p: 0.5, mode: "train", keep: 1 } as never)).toThrow(/unknown option "keep"/);
      expect(() => tl.Dropout.forward(x, undefined as never)).toThrow(/dropoutParam/);
    });
  });
});

describe("softmax and SVM losses", () => {
  it("softmax by hand: scores [[1, 2, 3], [1, 1, 1]], y [2, 0]", () => {
    tl.tidy(() => {
      const [loss, dscores] = tl.softmaxLoss(
        tl.tensor([
          [1, 2, 3],
          [1, 1, 1],
        ]),
        [2, 0],
      );
      const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
      const expected = (-Math.log(Math.exp(3) / z) - Math.log(1 / 3)) / 2;
      expect(Math.abs(loss - expected)).toBeLessThan(1e-6);
      const p0 = [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z - 1].map((v) => v / 2);
      const p1 = [1 / 3 - 1, 1 / 3, 1 / 3].map((v) => v / 2);
      expectClose("dscores", dscores.toArray(), [...p0, ...p1], 1e-6);
    });
  });

  it("softmax is stable for huge scores", () => {
    tl.tidy(() => {
      const [loss, d] = tl.softmaxLoss(
        tl.tensor([
          [1000, 0],
          [-1000, 1000],
        ]),
        [0, 0],
      );
      expect(Number.isFinite(loss)).toBe(true);
      expect(Math.abs(loss - 1000)).toBeLessThan(1e-3); // row 1 costs 2000, row 0 costs 0
      expect(d.toArray().every(Number.isFinite)).toBe(true);
    });
  });

  it("initial softmax loss of small random scores is about ln(C)", () => {
    tl.tidy(() => {
      const scores = tl.randn([500, 10], { seed: 11, std: 0.001 });
      const [loss] = tl.softmaxLoss(scores, labels(500, 10, 12));
      expect(Math.abs(loss - Math.log(10))).toBeLessThan(1e-3);
    });
  });

  it("SVM by hand: margins, an exactly-zero margin is inactive", () => {
    tl.tidy(() => {
      // row 0: y=0, s=[3,1,2.5]: margins 1-3+1=-1 -> 0, 2.5-3+1=0.5; row 1: y=1, s=[1,1,0]: 1-1+1=1, 0-1+1=0 (inactive)
      const [loss, d] = tl.svmLoss(
        tl.tensor([
          [3, 1, 2.5],
          [1, 1, 0],
        ]),
        [0, 1],
      );
      expect(loss).toBeCloseTo((0.5 + 1) / 2, 6);
      expect(Array.from(d.toArray())).toEqual([-0.5, 0, 0.5, 0.5, -0.5, 0]);
    });
  });

  it("both losses match numeric gradients (N=50, C=10)", () => {
    tl.tidy(() => {
      const x = tl.randn([50, 10], { seed: 13 });
      const y = labels(50, 10, 14);
      for (const [name, f] of [
        ["softmax", tl.softmaxLoss],
        ["svm", tl.svmLoss],
      ] as const) {
        const [, d] = f(x, y);
        const num = tl.evalNumericalGradient(
          () => {
            const [l, g] = f(x, y);
            g.dispose();
            return l;
          },
          x,
          { h: 1e-3 },
        );
        expectRelError(name, tl.relError(d, num), name === "svm" ? 2e-2 : 1e-2);
      }
    });
  });

  it("labels are validated: count, range, integers, type", () => {
    tl.tidy(() => {
      const s = tl.zeros([3, 4]);
      expect(() => tl.softmaxLoss(s, [0, 1])).toThrow(/one label per row: 3 \(got 2\)/);
      expect(() => tl.softmaxLoss(s, [0, 1, 4])).toThrow(/y\[2\] must be an integer class index in \[0, 4\) \(got 4\)/);
      expect(() => tl.svmLoss(s, [0, 1.5, 2])).toThrow(/y\[1\]/);
      expect(() => tl.softmaxLoss(s, [0, -1, 2])).toThrow(RangeError);
      expect(() => tl.softmaxLoss(s, "012" as never)).toThrow(TypeError);
      expect(() => tl.softmaxLoss(tl.zeros([3]), [0, 1, 2])).toThrow(/scores must have 2 dimensions/);
      expect(() => tl.softmaxLoss(tl.zeros([0, 4]), [])).toThrow(/at least one row/);
    });
  });
});
