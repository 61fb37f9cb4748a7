// A long run: 20,000 Solver steps (FullyConnectedNet with dropout, Adam, batch 16) with an accuracy
// check every 2,000. After warm-up, neither the tensors held (memory()) nor wasm memory itself may
// grow: every step reuses the buffers of the first. The figures are printed (step 100 for contrast).
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { wasmMemoryBytes } from "../src/core/runtime.js";

beforeAll(() => tl.init());

const STEPS = 20_000;
const WARMUP = 100;
const CHECK_EVERY = 2_000;

describe("long run", () => {
  it(`${STEPS} training steps (dropout, Adam, batch 16, accuracy checks) keep memory flat after warm-up`, () => {
    // A learnable problem: the label is the argmax of a fixed random projection of x.
    const N = 512;
    const D = 24;
    const C = 4;
    const X = tl.randn([N, D], { seed: 1 });
    const y = tl.tidy(() => {
      const s = tl.Linear.forward(X, tl.randn([D, C], { seed: 2 }), tl.zeros([C]))[0].toArray();
      return Array.from({ length: N }, (_, n) => {
        let best = 0;
        for (let c = 1; c < C; c++) if (s[n * C + c] > s[n * C + best]) best = c;
        return best;
      });
    });
    const XVal = X.sliceView(0, [128, D]);
    const model = new tl.FullyConnectedNet({ hiddenDims: [32, 32], inputDim: D, numClasses: C, dropout: 0.2, weightScale: "kaiming", seed: 3 });
    const solver = new tl.Solver(
      model,
      { XTrain: X, yTrain: y, XVal, yVal: y.slice(0, 128) },
      {
        updateRule: "adam",
        optimConfig: { learningRate: 2e-3 },
        batchSize: 16,
        verbose: false,
        seed: 4,
      },
    );

    const samples: { step: number; tensors: ReturnType<typeof tl.memory>; wasm: number }[] = [];
    let firstLoss = 0;
    let lastLoss = 0;
    const started = performance.now();
    for (let step = 1; step <= STEPS; step++) {
      const loss = solver.step();
      if (step <= 50) firstLoss += loss / 50;
      if (step > STEPS - 50) lastLoss += loss / 50;
      if (step % CHECK_EVERY === 0) solver.checkAccuracy(XVal, y.slice(0, 128));
      if (step === WARMUP || step % CHECK_EVERY === 0) {
        // checkAccuracy runs the model in test mode first, so compare at the same point of the cycle:
        // right after a training step following a check.
        const sample = { step, tensors: tl.memory(), wasm: wasmMemoryBytes() };
        samples.push(sample);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const accuracy = solver.checkAccuracy(X, y);
    console.log(
      `long run: ${STEPS} steps in ${seconds.toFixed(1)} s; loss ${firstLoss.toFixed(3)} -> ${lastLoss.toFixed(3)}, training accuracy ${accuracy.toFixed(3)}\n` +
        samples
          .map((m) => `  step ${String(m.step).padStart(5)}: ${m.tensors.bytes} bytes in ${m.tensors.liveTensors} live tensors, wasm memory ${m.wasm} bytes`)
          .join("\n"),
    );
    // Warm-up is one full cycle: training steps, then the first accuracy check (step 2000), whose
    // test-mode batches need buffers of their own once. From then on every sample must be identical.
    const steady = samples.filter((m) => m.step >= CHECK_EVERY);
    for (const m of steady) {
      expect(m.tensors, `tensor memory at step ${m.step}`).toEqual(steady[0].tensors);
      expect(m.wasm, `wasm memory at step ${m.step}`).toBe(steady[0].wasm);
    }
    expect(lastLoss).toBeLessThan(firstLoss * 0.5);
    expect(accuracy).toBeGreaterThan(0.8);

    solver.dispose();
    model.dispose();
    XVal.dispose();
    X.dispose();
    expect(tl.memory()).toEqual({ bytes: 0, liveTensors: 0 });
  });
});

describe("inference between training steps (packed weights)", () => {
  it("5,000 rounds of a training step then inference at batch 1, 3 and 8 keep wasm memory flat, and the packings are used", () => {
    const D = 64;
    const X = tl.randn([256, D], { seed: 5 });
    const y = Array.from({ length: 256 }, (_, i) => i % 5);
    const fc = new tl.FullyConnectedNet({ hiddenDims: [48, 24], inputDim: D, numClasses: 5, weightScale: "kaiming", seed: 6 });
    const seq = tl.sequential([tl.nn.linear(D, 48), tl.nn.relu(), tl.nn.linear(48, 5)], { inputShape: [D], seed: 7 });
    const solvers = [fc, seq].map(
      (m) => new tl.Solver(m, { XTrain: X, yTrain: y, XVal: X, yVal: y }, { updateRule: "adam", batchSize: 16, verbose: false, seed: 8 }),
    );
    const batches = [1, 3, 8].map((n) => X.sliceView(0, [n, D]));
    let wasm = 0;
    let packedUses = 0;
    for (let round = 1; round <= 5_000; round++) {
      for (const solver of solvers) solver.step();
      for (const model of [fc, seq]) {
        // The second call of a version packs it, the third reads the packing.
        for (let call = 0; call < 3; call++) for (const batch of batches) model.loss(batch).dispose();
      }
      const w = fc.params.W1;
      if ((w.attachment as { packed?: number } | null)?.packed === w.version) packedUses++;
      if (round === 100) wasm = wasmMemoryBytes();
      if (round > 100 && round % 500 === 0) expect(wasmMemoryBytes(), `wasm memory at round ${round}`).toBe(wasm);
    }
    expect(packedUses).toBe(5_000);
    solvers.forEach((s) => s.dispose());
    batches.forEach((b) => b.dispose());
    [fc, seq].forEach((m) => m.dispose());
    X.dispose();
    expect(tl.memory()).toEqual({ bytes: 0, liveTensors: 0 });
  });
});
