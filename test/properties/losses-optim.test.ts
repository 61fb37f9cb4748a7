// Properties of the losses and update rules: good calls agree with the formulas, bad labels and
// hyperparameters are clear errors that name the argument, and nothing leaks either way.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../../src/index.js";
import * as ref from "./reference.js";
import { disposeAll, expectError, expectNear, expectNoLeak, params, round32, values } from "./support.js";

beforeAll(() => tl.init());

const scoresAndLabels = fc.record({ N: fc.integer({ min: 1, max: 6 }), C: fc.integer({ min: 1, max: 7 }) }).chain(({ N, C }) =>
  fc.record({
    N: fc.constant(N),
    C: fc.constant(C),
    scores: values(N * C, 20),
    y: fc.array(fc.integer({ min: 0, max: C - 1 }), { minLength: N, maxLength: N }),
    asInt32: fc.boolean(),
  }),
);

describe("losses", () => {
  const losses = [
    ["softmaxLoss", tl.softmaxLoss, ref.softmaxLoss],
    ["svmLoss", tl.svmLoss, ref.svmLoss],
  ] as const;

  it("loss and dscores agree with the formulas (labels as number[] or Int32Array)", () => {
    fc.assert(
      fc.property(scoresAndLabels, fc.constantFrom(...losses), ({ N, C, scores, y, asInt32 }, [name, loss, reference]) => {
        expectNoLeak(name, () =>
          tl.tidy(() => {
            const [value, d] = loss(tl.tensor(scores, [N, C]), asInt32 ? Int32Array.from(y) : y);
            const want = reference(round32(scores), y, N, C);
            expect(typeof value).toBe("number");
            expect(Math.abs(value - want.loss), `${name}: ${value} vs ${want.loss}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want.loss)));
            expectNear(`${name} dscores`, d.toArray(), want.d, 2e-6);
          }),
        );
      }),
      params(),
    );
  });

  it("bad labels (wrong count, out of range, not integers, wrong type) are errors naming y, and allocate nothing", () => {
    const bad = fc.oneof(
      fc.record({ kind: fc.constant("count"), delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0) }),
      fc.record({
        kind: fc.constant("value"),
        value: fc.oneof(fc.integer({ min: -5, max: -1 }), fc.integer({ min: 7, max: 100 }), fc.constantFrom(0.5, NaN, Infinity, -0.25)),
        at: fc.nat(),
      }),
      fc.record({ kind: fc.constant("type"), value: fc.constantFrom<unknown>(null, "0", new Float32Array(3), new Uint8Array(3), { length: 3 }, 3) }),
    );
    fc.assert(
      fc.property(scoresAndLabels, bad, fc.constantFrom(...losses), ({ N, C, scores, y }, b, [name, loss]) => {
        const s = tl.tensor(scores, [N, C]);
        let labels: unknown = y;
        let cls: typeof TypeError | typeof RangeError = RangeError;
        if (b.kind === "count") labels = b.delta > 0 ? [...y, ...new Array(b.delta).fill(0)] : y.slice(0, Math.max(0, N + b.delta));
        else if (b.kind === "value") {
          const v = b.value as number;
          if (v >= 0 && v < C && Number.isInteger(v)) return; // in range after all: not a bad label
          labels = y.map((l, i) => (i === b.at % N ? v : l));
        } else {
          labels = b.value;
          cls = TypeError;
        }
        if (Array.isArray(labels) && labels.length === 0 && N === 0) return;
        expectNoLeak(name, () => expectError(() => loss(s, labels as number[]), cls, `${name}:`, "y"));
        s.dispose();
      }),
      params(),
    );
  });
});

describe("update rules", () => {
  // Every value is float32, so the reference computes in double what the kernel computes in float32.
  const step = fc
    .integer({ min: 1, max: 12 })
    .chain((n) => fc.record({ n: fc.constant(n), w: values(n), dw: values(n), lr: fc.double({ min: 0, max: 0.5, noNaN: true }) }));
  const unit = fc.double({ min: 0, max: 0.999, noNaN: true });
  const eps = fc.double({ min: 1e-8, max: 1e-2, noNaN: true });

  function run(rule: tl.UpdateRule, w: number[], dw: number[], config: tl.OptimConfig): { next: Float32Array; config: tl.OptimConfig } {
    const wt = tl.tensor(w);
    const [nextW, c] = rule(wt, tl.tensor(dw), config);
    expect(nextW).toBe(wt); // in place
    return { next: nextW.toArray() as Float32Array, config: c };
  }

  it("sgd, sgdMomentum, adagrad, rmsprop and adam: two steps agree with the formulas", () => {
    fc.assert(
      fc.property(step, unit, unit, unit, eps, ({ w, dw, lr }, mu, b1, b2, e) => {
        expectNoLeak("rules", () =>
          tl.tidy(() => {
            const W = round32(w);
            const G = round32(dw);
            const f = Math.fround;
            const cases: [string, tl.UpdateRule, tl.OptimConfig, (w: number, g: number, s: number[]) => number][] = [
              ["sgd", tl.sgd, { learningRate: lr }, (x, g) => x - f(lr) * g],
              [
                "sgdMomentum",
                tl.sgdMomentum,
                { learningRate: lr, momentum: mu },
                (x, g, s) => {
                  s[0] = f(mu) * s[0] - f(lr) * g;
                  return x + s[0];
                },
              ],
              [
                "adagrad",
                tl.adagrad,
                { learningRate: lr, epsilon: e },
                (x, g, s) => {
                  s[0] += g * g;
                  return x - (f(lr) * g) / (Math.sqrt(s[0]) + f(e));
                },
              ],
              [
                "rmsprop",
                tl.rmsprop,
                { learningRate: lr, decayRate: mu, epsilon: e },
                (x, g, s) => {
                  s[0] = f(mu) * s[0] + (1 - f(mu)) * g * g;
                  return x - (f(lr) * g) / (Math.sqrt(s[0]) + f(e));
                },
              ],
              [
                "adam",
                tl.adam,
                { learningRate: lr, beta1: b1, beta2: b2, epsilon: e },
                (x, g, s) => {
                  s[2] = (s[2] ?? 0) + 1;
                  s[0] = f(b1) * s[0] + (1 - f(b1)) * g;
                  s[1] = f(b2) * (s[1] ?? 0) + (1 - f(b2)) * g * g;
                  const mHat = s[0] / (1 - f(b1) ** s[2]);
                  const vHat = s[1] / (1 - f(b2) ** s[2]);
                  return x - (f(lr) * mHat) / (Math.sqrt(vHat) + f(e));
                },
              ],
            ];
            for (const [name, rule, config, formula] of cases) {
              const state = W.map(() => [0, 0]);
              let want = W.slice();
              let got = W;
              let c = config;
              for (let t = 0; t < 2; t++) {
                want = want.map((x, i) => formula(x, G[i], state[i]));
                const r = run(rule, got, G, c); // the state tensors carry over in c
                got = Array.from(r.next);
                c = r.config;
              }
              // float32 rounding: a few ulps of w, plus a small relative error on the change itself
              // (placing epsilon differently, e.g. sqrt(cache + eps), changes it by up to eps/|g|: caught).
              const tol = want.map((x, i) => 2 ** -18 * (Math.abs(W[i]) + 1) + 2 ** -14 * Math.abs(x - W[i]));
              expectNear(name, got, want, tol);
              disposeAll(c);
            }
          }),
        );
      }),
      params(),
    );
  });

  const rules = [
    ["sgd", tl.sgd],
    ["sgdMomentum", tl.sgdMomentum],
    ["adagrad", tl.adagrad],
    ["rmsprop", tl.rmsprop],
    ["adam", tl.adam],
  ] as const;
  const known: Record<string, string[]> = {
    sgd: ["learningRate"],
    sgdMomentum: ["learningRate", "momentum"],
    adagrad: ["learningRate", "epsilon"],
    rmsprop: ["learningRate", "decayRate", "epsilon"],
    adam: ["learningRate", "beta1", "beta2", "epsilon"],
  };
  // A value outside each hyperparameter's range, with the error class it must give.
  const badValue = (key: string) =>
    fc.oneof(
      fc.constantFrom<[unknown, typeof TypeError | typeof RangeError]>(
        [NaN, TypeError],
        ["0.1", TypeError],
        [null, TypeError],
        [Infinity, RangeError],
        [1e39, RangeError],
      ),
      key === "learningRate"
        ? fc.double({ min: -10, max: -1e-9, noNaN: true }).map((v): [unknown, typeof RangeError] => [v, RangeError])
        : key === "epsilon"
          ? fc.oneof(fc.double({ min: -1, max: 0, noNaN: true }), fc.constant(1e-50)).map((v): [unknown, typeof RangeError] => [v, RangeError])
          : fc
              .oneof(fc.double({ min: 1, max: 10, noNaN: true }), fc.double({ min: -10, max: -1e-9, noNaN: true }), fc.constant(1 - 1e-12))
              .map((v): [unknown, typeof RangeError] => [v, RangeError]),
    );

  it("an out-of-range or non-number hyperparameter names itself, leaves w untouched, and creates no state", () => {
    const arb = fc
      .constantFrom(...rules)
      .chain(([name, rule]) =>
        fc
          .record({ name: fc.constant(name), rule: fc.constant(rule), key: fc.constantFrom(...known[name]) })
          .chain((r) => fc.record({ r: fc.constant(r), bad: badValue(r.key) })),
      );
    fc.assert(
      fc.property(arb, ({ r: { name, rule, key }, bad: [value, cls] }) => {
        const w = tl.tensor([1, 2, 3]);
        const dw = tl.tensor([0.5, -1, 2]);
        const config = { [key]: value } as tl.OptimConfig;
        expectNoLeak(name, () => expectError(() => (rule as tl.UpdateRule)(w, dw, config), cls, `${name}: config.${key}`));
        expect(Array.from(w.toArray())).toEqual([1, 2, 3]);
        expect(Object.values(config).some((v) => v instanceof tl.Tensor)).toBe(false);
        // The Solver checks the same config up front, at construction.
        const net = new tl.FullyConnectedNet({ hiddenDims: [], inputDim: 3, numClasses: 2, seed: 1 });
        const data = { XTrain: tl.zeros([2, 3]), yTrain: [0, 1], XVal: tl.zeros([2, 3]), yVal: [0, 1] };
        expectError(() => new tl.Solver(net, data, { updateRule: name, optimConfig: { [key]: value } }), cls, `Solver: options.optimConfig.${key}`);
        net.dispose();
        disposeAll([w, dw, data]);
      }),
      params(),
    );
  });

  it("an unknown config key is a TypeError that lists the known ones", () => {
    const arb = fc.tuple(fc.constantFrom(...rules), fc.string({ minLength: 1, maxLength: 12 }));
    fc.assert(
      fc.property(arb, ([[name, rule], key]) => {
        if ([...known[name], "velocity", "cache", "m", "v", "t"].includes(key)) return;
        const w = tl.tensor([1, 2]);
        const dw = tl.tensor([1, 2]);
        expectNoLeak(name, () =>
          expectError(() => (rule as tl.UpdateRule)(w, dw, { [key]: 1 } as tl.OptimConfig), TypeError, `${name}: unknown option`, "learningRate"),
        );
        w.dispose();
        dw.dispose();
      }),
      params(),
    );
  });

  it("state tensors of the wrong shape, disposed or aliasing w are refused before any state is created", () => {
    const arb = fc.tuple(
      fc.constantFrom(
        ["sgdMomentum", tl.sgdMomentum, ["velocity"]] as const,
        ["adagrad", tl.adagrad, ["cache"]] as const,
        ["rmsprop", tl.rmsprop, ["cache"]] as const,
        ["adam", tl.adam, ["m", "v"]] as const,
      ),
      fc.constantFrom("shape", "disposed", "alias"),
      fc.nat(),
    );
    fc.assert(
      fc.property(arb, ([[name, rule, keys], kind, at]) => {
        const w = tl.tensor([1, 2, 3, 4]);
        const dw = tl.tensor([1, 1, 1, 1]);
        const key = keys[at % keys.length];
        const bad = kind === "shape" ? tl.zeros([3]) : kind === "alias" ? w.reshape([4]) : tl.zeros([4]);
        if (kind === "disposed") bad.dispose();
        const config = { [key]: bad } as tl.OptimConfig;
        expectNoLeak(name, () =>
          expectError(() => (rule as tl.UpdateRule)(w, dw, config), kind === "shape" ? RangeError : TypeError, `${name}: config.${key}`),
        );
        // No state was created (defaults for the numbers may have been filled in: harmless).
        expect(
          Object.entries(config)
            .filter(([, v]) => v instanceof tl.Tensor)
            .map(([k]) => k),
        ).toEqual([key]);
        disposeAll([w, dw, bad]);
      }),
      params(),
    );
  });
});
