// Optimizer steps against values worked out from the spec's formulas (in f64 here), from
// non-zero starting state and over several steps.
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { expectClose } from "./helpers.js";

beforeAll(() => tl.init());

const W0 = [0.5, -1.2, 2.0, 0.0, 3.3, -0.7, 1.1]; // n = 7: SIMD body plus a 3-element tail
const DW = [
  [0.1, -0.3, 0.25, 1.5, -2.0, 0.0, 0.6],
  [-0.2, 0.4, 0.05, -1.0, 1.0, 0.3, -0.6],
  [0.3, 0.3, -0.3, 0.2, 0.0, -0.1, 0.9],
];

function run(rule: tl.UpdateRule, config: tl.OptimConfig): [Float32Array, tl.OptimConfig] {
  return tl.tidy(() => {
    const w = tl.tensor(W0);
    let c = config;
    for (const g of DW) {
      const [next, nc] = rule(w, tl.tensor(g), c);
      expect(next).toBe(w); // in place
      c = nc;
    }
    return [w.toArray() as Float32Array, c];
  });
}

describe("update rules (3 steps, n = 7)", () => {
  it("sgd: w -= lr * dw", () => {
    const [w] = run(tl.sgd, { learningRate: 0.1 });
    const e = W0.map((w0, i) => w0 - 0.1 * (DW[0][i] + DW[1][i] + DW[2][i]));
    expectClose("sgd", w, e, 1e-6);
  });

  it("sgdMomentum from a non-zero velocity", () => {
    const v0 = [0.01, -0.02, 0.03, 0, 0.5, -0.5, 0.1];
    const [w, config] = run(tl.sgdMomentum, { learningRate: 0.05, momentum: 0.8, velocity: tl.keep(tl.tensor(v0)) });
    const ew = [...W0];
    const ev = [...v0];
    for (const g of DW)
      for (let i = 0; i < 7; i++) {
        ev[i] = 0.8 * ev[i] - 0.05 * g[i];
        ew[i] += ev[i];
      }
    expectClose("w", w, ew, 1e-6);
    expectClose("velocity", config.velocity!.toArray(), ev, 1e-6);
    config.velocity!.dispose();
  });

  it("adagrad from a non-zero cache (eps 1e-5 default)", () => {
    const c0 = [0.1, 0.2, 0.0, 1.0, 0.5, 0.05, 2.0];
    const [w, config] = run(tl.adagrad, { learningRate: 0.1, cache: tl.keep(tl.tensor(c0)) });
    expect(config.epsilon).toBe(1e-5);
    const ew = [...W0];
    const ec = [...c0];
    for (const g of DW)
      for (let i = 0; i < 7; i++) {
        ec[i] += g[i] * g[i];
        ew[i] -= (0.1 * g[i]) / (Math.sqrt(ec[i]) + 1e-5);
      }
    expectClose("w", w, ew, 2e-6);
    expectClose("cache", config.cache!.toArray(), ec, 2e-6);
    config.cache!.dispose();
  });

  it("rmsprop from a non-zero cache (decay 0.99, eps 1e-8 defaults)", () => {
    const c0 = [0.1, 0.2, 0.01, 1.0, 0.5, 0.05, 2.0];
    const [w, config] = run(tl.rmsprop, { learningRate: 0.01, cache: tl.keep(tl.tensor(c0)) });
    expect(config.decayRate).toBe(0.99);
    expect(config.epsilon).toBe(1e-8);
    const ew = [...W0];
    const ec = [...c0];
    for (const g of DW)
      for (let i = 0; i < 7; i++) {
        ec[i] = 0.99 * ec[i] + 0.01 * g[i] * g[i];
        ew[i] -= (0.01 * g[i]) / (Math.sqrt(ec[i]) + 1e-8);
      }
    expectClose("w", w, ew, 2e-6);
    expectClose("cache", config.cache!.toArray(), ec, 2e-6);
    config.cache!.dispose();
  });

  it("adam from t = 5 with non-zero m and v: t increments first, bias corrections use the new t", () => {
    const m0 = [0.01, -0.02, 0.03, 0.1, -0.1, 0.0, 0.05];
    const v0 = [0.001, 0.002, 0.0005, 0.01, 0.02, 0.0001, 0.003];
    const [w, config] = run(tl.adam, { learningRate: 0.01, m: tl.keep(tl.tensor(m0)), v: tl.keep(tl.tensor(v0)), t: 5 });
    expect(config.t).toBe(8);
    const ew = [...W0];
    const em = [...m0];
    const ev = [...v0];
    let t = 5;
    for (const g of DW) {
      t += 1;
      for (let i = 0; i < 7; i++) {
        em[i] = 0.9 * em[i] + 0.1 * g[i];
        ev[i] = 0.999 * ev[i] + 0.001 * g[i] * g[i];
        const mh = em[i] / (1 - 0.9 ** t);
        const vh = ev[i] / (1 - 0.999 ** t);
        ew[i] -= (0.01 * mh) / (Math.sqrt(vh) + 1e-8);
      }
    }
    expectClose("w", w, ew, 5e-6);
    expectClose("m", config.m!.toArray(), em, 1e-6);
    expectClose("v", config.v!.toArray(), ev, 1e-7);
    config.m!.dispose();
    config.v!.dispose();
  });

  it("sgdNesterov from a non-zero velocity: v = mu v - lr dw; w += -mu v_prev + (1 + mu) v", () => {
    const v0 = [0.01, -0.02, 0.03, 0, 0.5, -0.5, 0.1];
    const [w, config] = run(tl.sgdNesterov, { learningRate: 0.05, momentum: 0.8, velocity: tl.keep(tl.tensor(v0)) });
    const ew = [...W0];
    const ev = [...v0];
    for (const g of DW)
      for (let i = 0; i < 7; i++) {
        const prev = ev[i];
        ev[i] = 0.8 * prev - 0.05 * g[i];
        ew[i] += -0.8 * prev + 1.8 * ev[i];
      }
    expectClose("w", w, ew, 1e-6);
    expectClose("v", config.velocity!.toArray(), ev, 1e-6);
    config.velocity!.dispose();
  });

  it("adamw: each step shrinks w by (1 - lr * weightDecay) before Adam's step (decoupled); default weightDecay 0.01", () => {
    const [w, config] = run(tl.adamw, { learningRate: 0.01, weightDecay: 0.5 });
    const ew = [...W0];
    const em = new Array<number>(7).fill(0);
    const ev = new Array<number>(7).fill(0);
    let t = 0;
    for (const g of DW) {
      t += 1;
      for (let i = 0; i < 7; i++) {
        ew[i] *= 1 - 0.01 * 0.5;
        em[i] = 0.9 * em[i] + 0.1 * g[i];
        ev[i] = 0.999 * ev[i] + 0.001 * g[i] * g[i];
        ew[i] -= (0.01 * (em[i] / (1 - 0.9 ** t))) / (Math.sqrt(ev[i] / (1 - 0.999 ** t)) + 1e-8);
      }
    }
    expectClose("w", w, ew, 5e-6);
    config.m!.dispose();
    config.v!.dispose();
    const [, defaults] = run(tl.adamw, {});
    expect(defaults.weightDecay).toBe(0.01);
    defaults.m!.dispose();
    defaults.v!.dispose();
    // Any rule takes weightDecay: sgd with it is sgd on the L2-decayed weights.
    const [ws] = run(tl.sgd, { learningRate: 0.1, weightDecay: 0.2 });
    const es = [...W0];
    for (const g of DW) for (let i = 0; i < 7; i++) es[i] = es[i] * (1 - 0.1 * 0.2) - 0.1 * g[i];
    expectClose("sgd with weightDecay", ws, es, 1e-6);
    // Without weightDecay a config gains no key for it (configs stay as they were).
    const [, plain] = run(tl.adam, {});
    expect("weightDecay" in plain).toBe(false);
    plain.m!.dispose();
    plain.v!.dispose();
    expect(() => tl.adamw(tl.keep(tl.tensor([1])), tl.keep(tl.tensor([1])), { weightDecay: -1 })).toThrow(/adamw: config.weightDecay must be >= 0/);
  });

  it("adam's first step from zeros moves every weight by about lr (bias correction)", () => {
    const [w, config] = tl.tidy(() => {
      const w = tl.tensor(W0);
      const [, c] = tl.adam(w, tl.tensor(DW[0]));
      return [w.toArray(), c];
    });
    expect(config.learningRate).toBe(1e-3);
    for (let i = 0; i < 7; i++) {
      const expected = DW[0][i] === 0 ? 0 : 1e-3 * Math.sign(DW[0][i]);
      expect(Math.abs(W0[i] - w[i] - expected)).toBeLessThan(1e-6);
    }
    config.m!.dispose();
    config.v!.dispose();
  });

  it("defaults follow the notes: sgd 1e-2; momentum 0.9; adam 1e-3, 0.9, 0.999, 1e-8", () => {
    tl.tidy(() => {
      const w = tl.zeros([3]);
      const g = tl.zeros([3]);
      expect(tl.sgd(w, g)[1]).toEqual({ learningRate: 1e-2 });
      const [, m] = tl.sgdMomentum(w, g);
      expect([m.learningRate, m.momentum]).toEqual([1e-2, 0.9]);
      m.velocity!.dispose();
      const [, a] = tl.adam(w, g, {});
      expect([a.learningRate, a.beta1, a.beta2, a.epsilon, a.t]).toEqual([1e-3, 0.9, 0.999, 1e-8, 1]);
      a.m!.dispose();
      a.v!.dispose();
    });
  });

  it("bad arguments are clear errors", () => {
    tl.tidy(() => {
      const w = tl.zeros([3]);
      expect(() => tl.sgd(w, tl.zeros([4]))).toThrow(/dw must have shape \[3\]/);
      expect(() => tl.sgd(w, tl.zeros([3]), { learningRate: -1 })).toThrow(/learningRate must be >= 0/);
      expect(() => tl.sgd(w, tl.zeros([3]), { lr: 1 } as never)).toThrow(/unknown option "lr"/);
      expect(() => tl.rmsprop(w, tl.zeros([3]), { decayRate: 1 })).toThrow(/decayRate must be in \[0, 1\)/);
      expect(() => tl.adam(w, tl.zeros([3]), { epsilon: 0 })).toThrow(/epsilon must be > 0/);
      expect(() => tl.adam(w, tl.zeros([3]), { t: 1.5 })).toThrow(/config.t must be a non-negative integer/);
      expect(() => tl.adam(w, tl.zeros([3]), { m: tl.zeros([2]) })).toThrow(/config.m must have shape \[3\]/);
      expect(() => tl.sgd(w, tl.zeros([3]), { learningRate: NaN })).toThrow(/learningRate must be a number/);
    });
  });
});

describe("kaimingInitializer", () => {
  it("linear (Din, Dout) with std sqrt(2/Din); conv (Dout, Din, K, K) with fanIn Din*K*K; relu=false gain 1", () => {
    tl.tidy(() => {
      const std = (t: tl.Tensor) => {
        const v = t.toArray() as Float32Array;
        const m = v.reduce((a, b) => a + b, 0) / v.length;
        return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
      };
      const a = tl.kaimingInitializer(400, 300, null, true, { seed: 1 });
      expect(a.shape).toEqual([400, 300]);
      expect(Math.abs(std(a) / Math.sqrt(2 / 400) - 1)).toBeLessThan(0.01);
      const c = tl.kaimingInitializer(16, 32, 3, true, { seed: 2 });
      expect(c.shape).toEqual([32, 16, 3, 3]);
      expect(Math.abs(std(c) / Math.sqrt(2 / 144) - 1)).toBeLessThan(0.03);
      const d = tl.kaimingInitializer(400, 300, null, false, { seed: 1 });
      expect(Math.abs(std(d) / Math.sqrt(1 / 400) - 1)).toBeLessThan(0.01);
      expect(tl.kaimingInitializer(4, 4, null, true, { seed: 5 }).toArray()).toEqual(tl.kaimingInitializer(4, 4, null, true, { seed: 5 }).toArray());
      expect(() => tl.kaimingInitializer(0, 3)).toThrow(/Din must be >= 1/);
      expect(() => tl.kaimingInitializer(3, 3, 2.5)).toThrow(/K must be an integer/);
    });
  });
});
