// Out of memory, at every allocation a call makes. Wasm memory is filled to its 4 GiB limit
// (blocks left unwritten, so this is cheap), except for one hole; the hole is then swept from
// 0 bytes upward, so each call fails at its first allocation, then at its second, ..., until it
// fits. Every failure must be a RangeError that names the call and says "out of memory"; the
// tensors it made must be freed (memory() back at its baseline) and the hole must be whole again
// (nothing leaked into it below the tensor level either). Huge single requests are refused before
// anything is allocated. Runs in its own worker, like every test file.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { allocBytes, freeBytes } from "../src/core/runtime.js";
import { empty } from "../src/core/tensor.js";

const HOLE = 1 << 18; // the largest hole swept: every call below fits in 256 KiB
const STEP = 48; // bytes added per attempt: smaller than any buffer the calls make, so no allocation is skipped

let held: number[] = [];
let capacity = 0; // what the empty hole holds, measured once

/** Allocates chunks (largest first) until `limit` bytes are taken or nothing more fits; returns them and their total. */
function carve(limit: number): { ptrs: number[]; bytes: number } {
  const ptrs: number[] = [];
  let bytes = 0;
  for (let size = HOLE; size >= 16; size = Math.floor(size / 2)) {
    while (bytes + size <= limit) {
      if (ptrs.length > 100000) throw new Error(`the allocator keeps handing out ${size}-byte blocks past any real capacity: it is corrupt`);
      try {
        ptrs.push(allocBytes(size));
        bytes += size;
      } catch {
        break;
      }
    }
  }
  return { ptrs, bytes };
}

/** What fits in the free memory now (it is given back at once). */
function freeCapacity(): number {
  const { ptrs, bytes } = carve(Infinity);
  ptrs.forEach(freeBytes);
  return bytes;
}

/**
 * Fills wasm memory to its limit except for one HOLE-byte hole. (The allocator rounds requests up
 * to its size classes, so the hole's capacity is measured, not assumed.)
 */
function fill(): void {
  const hole = allocBytes(HOLE);
  for (let size = tl.MAX_ALLOCATION_BYTES; size >= 16; size = Math.floor(size / 2)) {
    for (;;) {
      if (held.length > 100000) throw new Error(`the allocator keeps handing out ${size}-byte blocks past wasm's 4 GiB: it is corrupt`);
      try {
        held.push(allocBytes(size));
      } catch {
        break;
      }
    }
  }
  freeBytes(hole);
  capacity = freeCapacity();
}

function release(): void {
  held.forEach(freeBytes);
  held = [];
}

/** Fills again, e.g. after a model that lived outside the hole was disposed. */
function refill(): void {
  release();
  fill();
}

/**
 * Runs fn with about `hole` bytes free; afterwards the hole must hold exactly as much as before
 * (nothing left in it), or at least as much when fn also freed memory outside the hole.
 */
function withHole<T>(hole: number, fn: () => T, freesOutside: () => boolean = () => false): T {
  const plug = carve(capacity - hole);
  try {
    return fn();
  } finally {
    plug.ptrs.forEach(freeBytes);
    const now = freeCapacity();
    const message = `after a call with a ${hole}-byte hole, the hole holds less: something the call allocated is still there`;
    if (freesOutside()) expect(now, message).toBeGreaterThanOrEqual(capacity);
    else expect(now, message).toBe(capacity);
  }
}

/**
 * Runs a model's pass; when it fails, drops the packings of the model's weights. A second pass
 * over the same weights packs them (a cache kept with the weights, as inference wants), so an
 * attempt that failed after packing keeps one in the hole: no leak, but the sweep must not see it.
 */
function keepingNoPackings<T>(model: { params: Record<string, tl.Tensor> }, pass: () => T): T {
  try {
    return pass();
  } catch (error) {
    for (const w of Object.values(model.params)) w.attachment?.release();
    throw error;
  }
}

interface Sweep {
  failures: number;
  succeededAt: number;
}

/**
 * Calls `call` with holes of 0, STEP, 2·STEP, ... bytes until it succeeds. Each failure must be a
 * RangeError naming `name` and saying "out of memory", with tensor memory back where it was and the
 * hole whole. `done` frees what the successful call took (it may free more, e.g. a whole model:
 * then say so with `freesOutside`).
 */
function sweep<T>(name: RegExp, call: () => T, done: (result: T) => void, freesOutside = false): Sweep {
  const baseline = tl.memory();
  let failures = 0;
  for (let hole = 0; hole <= HOLE; hole += STEP) {
    let result: T | undefined;
    let error: unknown;
    withHole(
      hole,
      () => {
        try {
          result = call();
        } catch (e) {
          error = e;
        }
        if (error === undefined) done(result as T);
      },
      () => error === undefined && freesOutside,
    );
    if (error === undefined) return { failures, succeededAt: hole };
    expect(tl.memory(), `${name}: tensor memory after failing with a ${hole}-byte hole`).toEqual(baseline);
    expect(error, String(error)).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(name);
    expect((error as Error).message).toMatch(/out of memory/);
    failures++;
  }
  throw new Error(`${name}: still failing with a ${HOLE}-byte hole`);
}

/** Disposes every tensor reachable from value, except those in `keep` (inputs that caches refer to). */
function disposeAll(value: unknown, keep: ReadonlySet<unknown> = new Set(), seen = new Set<unknown>()): void {
  if (value instanceof tl.Tensor) {
    if (!keep.has(value)) value.dispose();
    return;
  }
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  for (const v of Object.values(value)) disposeAll(v, keep, seen);
}

beforeAll(async () => {
  await tl.init();
});
afterAll(() => release());

describe("huge requests are refused before anything is allocated", () => {
  it("a batch whose output cannot be one tensor: Linear.forward, softmaxLoss, models", () => {
    const before = tl.memory();
    const x = empty([2 ** 25, 4]); // 512 MiB, never written
    const w = tl.zeros([4, 8]);
    const b = tl.zeros([8]);
    const base = tl.memory();
    expect(() => tl.Linear.forward(x, w, b)).toThrow(/^Linear\.forward: shape \[33554432, 8\] has 268435456 elements; one tensor holds at most 260046848/);
    const net = new tl.FullyConnectedNet({ hiddenDims: [8], inputDim: 4, numClasses: 3, seed: 1 });
    const withNet = tl.memory();
    expect(() => net.loss(x)).toThrow(/^FullyConnectedNet\.loss: buffer a1: shape \[33554432, 8\]/);
    expect(tl.memory()).toEqual(withNet);
    net.dispose();
    expect(tl.memory()).toEqual(base);
    [x, w, b].forEach((t) => t.dispose());
    expect(tl.memory()).toEqual(before);
  });

  it("a giant model: parameters past one allocation are refused at construction, naming the model", () => {
    const before = tl.memory();
    // Each weight matrix fits in one allocation, all of them together do not.
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [12000, 12000, 12000], inputDim: 10 })).toThrow(
      /^FullyConnectedNet: the parameters need 288\d+ float32 values, more than one allocation holds \(260046848\)/,
    );
    // The last linear layer alone is too large.
    expect(() => new tl.DeepConvNet({ inputDims: [3, 2048, 2048], numFilters: [64], maxPools: [] })).toThrow(
      /^DeepConvNet: parameter "W2": shape entries must be at most 260046848, the most one tensor holds \(got \[268435456, 10\]\)/,
    );
    expect(tl.memory()).toEqual(before);
  });
});

describe("out of memory at every allocation point", () => {
  // Inputs and models exist before memory is filled; what the calls allocate must fit in the hole.
  let inputs: Record<string, tl.Tensor>;
  const y = [0, 1, 2, 1, 0, 2, 1, 0];
  const fcOptions: tl.FullyConnectedNetOptions = { hiddenDims: [16], inputDim: 20, numClasses: 3, dropout: 0.5, normalization: "batchnorm", seed: 1 };
  const convOptions: tl.DeepConvNetOptions = { inputDims: [3, 8, 8], numFilters: [4], maxPools: [0], batchnorm: true, numClasses: 3, seed: 2 };
  let fcNet: tl.FullyConnectedNet;
  let fcLoss: number; // what a twin that never ran short of memory computes
  let convNet: tl.DeepConvNet;
  let convGrad: Float32Array;
  let solverNet: tl.FullyConnectedNet;
  let solver: tl.Solver;

  beforeAll(() => {
    inputs = {
      x: tl.randn([8, 20], { seed: 1 }),
      w: tl.randn([20, 16], { seed: 2 }),
      b: tl.zeros([16]),
      dout: tl.randn([8, 16], { seed: 3 }),
      gamma: tl.ones([16]),
      beta: tl.zeros([16]),
      runningMean: tl.zeros([16]),
      runningVar: tl.ones([16]),
      img: tl.randn([2, 3, 8, 8], { seed: 4 }),
      cw: tl.randn([4, 3, 3, 3], { seed: 5 }),
      cb: tl.zeros([4]),
      cout: tl.randn([2, 4, 8, 8], { seed: 6 }),
      pout: tl.randn([2, 4, 4, 4], { seed: 7 }),
      scores: tl.randn([8, 3], { seed: 8 }),
      p: tl.randn([300], { seed: 9 }),
      dp: tl.randn([300], { seed: 10 }),
    };
    // Warm the scratch buffers the library keeps between calls (GEMM packing, labels) at these sizes,
    // so that the sweeps see only what each call allocates.
    const warm = new tl.FullyConnectedNet({ hiddenDims: [16], inputDim: 20, numClasses: 3, dropout: 0.5, normalization: "batchnorm", seed: 1 });
    warm.loss(inputs.x, y);
    warm.dispose();
    const conv = new tl.DeepConvNet({ inputDims: [3, 8, 8], numFilters: [4], maxPools: [0], batchnorm: true, numClasses: 3, seed: 1 });
    conv.loss(inputs.img, y.slice(0, 2));
    conv.dispose();
    disposeAll(tl.Conv.backward(inputs.cout, tl.Conv.forward(inputs.img, inputs.cw, inputs.cb, { pad: 1 })[1]));
    tl.tidy(() => tl.Linear.backward(inputs.dout, tl.Linear.forward(inputs.x, inputs.w, inputs.b)[1]));
    // The weights' packings (made on the second forward pass of a version) live with them, outside the hole.
    tl.tidy(() => tl.Linear.forward(inputs.x, inputs.w, inputs.b));
    for (let i = 0; i < 2; i++) tl.tidy(() => tl.Conv.forward(inputs.img, inputs.cw, inputs.cb, { pad: 1 }));
    // The models the sweeps train, and what their twins compute with memory to spare.
    fcNet = new tl.FullyConnectedNet(fcOptions);
    const fcTwin = new tl.FullyConnectedNet(fcOptions);
    fcLoss = fcTwin.loss(inputs.x, y)[0];
    fcTwin.dispose();
    convNet = new tl.DeepConvNet(convOptions);
    const convTwin = new tl.DeepConvNet(convOptions);
    convGrad = convTwin.loss(inputs.img, [0, 1])[1].W2.toArray() as Float32Array;
    convTwin.dispose();
    solverNet = new tl.FullyConnectedNet({ hiddenDims: [16], inputDim: 20, numClasses: 3, seed: 3 });
    solver = new tl.Solver(solverNet, { XTrain: inputs.x, yTrain: y, XVal: inputs.x, yVal: y }, { updateRule: "adam", batchSize: 8, verbose: false, seed: 1 });
    // The model's workspace is the model's steady state (a failed update keeps it, as a good step
    // would): make it now, so the sweep sees what the step itself allocates.
    solverNet.loss(inputs.x, y);
    fill();
  });
  afterAll(() => {
    release();
    disposeAll(inputs);
  });

  const layerCalls: [string, RegExp, () => unknown][] = [
    ["Linear.forward", /^Linear\.forward/, () => tl.Linear.forward(inputs.x, inputs.w, inputs.b)[0]],
    ["Linear.backward (dx, dw, db)", /^Linear\.backward/, () => tl.Linear.backward(inputs.dout, { x: inputs.x, w: inputs.w, b: inputs.b })],
    ["LinearReLU.forward", /^(Linear|ReLU)\.forward/, () => tl.LinearReLU.forward(inputs.x, inputs.w, inputs.b)],
    ["Dropout.forward (out, mask)", /^Dropout\.forward/, () => tl.Dropout.forward(inputs.x, { p: 0.5, mode: "train", seed: 1 })],
    [
      "BatchNorm.forward (running statistics created, out, mean, invstd)",
      /^(BatchNorm\.forward|zeros)/,
      () => {
        const bn: tl.BatchNormParam = { mode: "train" };
        try {
          return [tl.BatchNorm.forward(inputs.dout, inputs.gamma, inputs.beta, bn), bn];
        } catch (error) {
          disposeAll(bn); // statistics created before the failure belong to bnParam: the caller frees them
          throw error;
        }
      },
    ],
    [
      "LinearBatchNormReLU forward and backward",
      /^(Linear|BatchNorm|ReLU|LinearBatchNormReLU)\.(forward|backward)/,
      () => {
        const bn: tl.BatchNormParam = { mode: "train", runningMean: inputs.runningMean, runningVar: inputs.runningVar };
        const [out, cache] = tl.LinearBatchNormReLU.forward(inputs.x, inputs.w, inputs.b, inputs.gamma, inputs.beta, bn);
        try {
          return [out, cache, tl.LinearBatchNormReLU.backward(inputs.dout, cache)];
        } catch (error) {
          disposeAll([out, cache], new Set(Object.values(inputs)));
          throw error;
        }
      },
    ],
    ["Conv.forward", /^Conv\.forward/, () => tl.Conv.forward(inputs.img, inputs.cw, inputs.cb, { pad: 1 })[0]],
    [
      "Conv.backward (dx, dw, db, scratch)",
      /^Conv\.backward/,
      () => tl.Conv.backward(inputs.cout, { x: inputs.img, w: inputs.cw, b: inputs.cb, convParam: { stride: 1, pad: 1 } }),
    ],
    [
      "ConvReLUPool.forward",
      /^(Conv|ReLU|MaxPool)\.forward/,
      () => tl.ConvReLUPool.forward(inputs.img, inputs.cw, inputs.cb, { pad: 1 }, { poolHeight: 2, poolWidth: 2, stride: 2 }),
    ],
    [
      "MaxPool forward and backward",
      /^MaxPool\.(forward|backward)/,
      () => {
        const [out, cache] = tl.MaxPool.forward(inputs.cout, { poolHeight: 2, poolWidth: 2, stride: 2 });
        try {
          return [out, cache, tl.MaxPool.backward(inputs.pout, cache)];
        } catch (error) {
          disposeAll([out, cache], new Set(Object.values(inputs)));
          throw error;
        }
      },
    ],
    ["softmaxLoss", /^softmaxLoss/, () => tl.softmaxLoss(inputs.scores, y)],
    [
      "adam with a fresh config (m and v created)",
      /^zeros/,
      () => {
        const [, config] = tl.adam(inputs.p, inputs.dp, {});
        return config;
      },
    ],
    ["clone", /^clone/, () => inputs.img.clone()],
    ["tensor", /^tensor/, () => tl.tensor(new Float32Array(500))],
  ];

  for (const [what, name, call] of layerCalls) {
    it(`${what}: every allocation point fails cleanly`, () => {
      const base = tl.memory();
      const keep = new Set(Object.values(inputs));
      const { failures, succeededAt } = sweep(name, call, (result) => disposeAll(result, keep));
      expect(failures).toBeGreaterThan(0);
      expect(tl.memory()).toEqual(base);
      console.log(`${what}: ${failures} failing attempts, fits from a ${succeededAt}-byte hole`);
    });
  }

  it("FullyConnectedNet: construction and loss (workspace buffers) fail cleanly at every point; the loss that fits is the twin's", () => {
    const base = tl.memory();
    const build = sweep(
      /^(FullyConnectedNet|zeros)/,
      () => new tl.FullyConnectedNet(fcOptions),
      (net) => net.dispose(),
    );
    expect(tl.memory()).toEqual(base);
    let loss = NaN;
    const run = sweep(
      /^FullyConnectedNet\.loss/,
      () => {
        fcNet.rngState = 0; // the same dropout masks in every attempt
        return keepingNoPackings(fcNet, () => fcNet.loss(inputs.x, y)[0]);
      },
      (value) => {
        loss = value;
        fcNet.dispose(); // its workspace now lives in the hole
      },
      true,
    );
    console.log(`FullyConnectedNet: construction failed ${build.failures} times, loss ${run.failures} times before fitting`);
    expect(build.failures).toBeGreaterThan(1);
    expect(run.failures).toBeGreaterThan(3);
    expect(loss).toBe(fcLoss);
    refill(); // the model's memory, outside the hole, is free now
  });

  it("DeepConvNet: loss fails cleanly at every point, then computes the twin's gradients", () => {
    let grad: Float32Array = new Float32Array(0);
    // Batch-norm running statistics move in attempts that got that far; train-mode gradients do not depend on them.
    const run = sweep(
      /^DeepConvNet\.loss/,
      () => keepingNoPackings(convNet, () => convNet.loss(inputs.img, [0, 1])[1].W2.toArray() as Float32Array),
      (g) => {
        grad = g;
        convNet.dispose();
      },
      true,
    );
    console.log(`DeepConvNet: loss failed ${run.failures} times before fitting`);
    expect(run.failures).toBeGreaterThan(3);
    expect(Array.from(grad)).toEqual(Array.from(convGrad));
    refill();
  });

  it("Solver.step (index and batch buffers, Adam state) fails cleanly at every point, then steps", () => {
    let loss = NaN;
    const run = sweep(
      /^(Solver|zeros)/,
      () => keepingNoPackings(solverNet, () => solver.step()),
      (value) => {
        loss = value;
        solver.dispose();
        solverNet.dispose();
      },
      true,
    );
    console.log(`Solver.step: failed ${run.failures} times before fitting`);
    expect(run.failures).toBeGreaterThan(3);
    expect(Number.isFinite(loss)).toBe(true);
  });
});
