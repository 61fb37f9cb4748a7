// Loading paths: each test file runs in its own worker, so init here starts from scratch.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { empty } from "../src/core/tensor.js";

const wasmBytes = readFileSync(new URL("../build/tensorlane.wasm", import.meta.url));

describe("init", () => {
  it("before init, using the library says to call init", () => {
    expect(() => tl.zeros([2])).toThrow(/call `await tl.init\(\)` first/);
  });
  it("rejects unknown options and a module that is not a WebAssembly.Module, then still loads", async () => {
    await expect(tl.init({ modul: 1 } as never)).rejects.toThrow(/unknown option "modul"/);
    await expect(tl.init({ module: new Uint8Array(4) as never })).rejects.toThrow(/module must be a WebAssembly.Module/);
    await expect(tl.init({ bytes: new Uint8Array([1, 2, 3]) })).rejects.toThrow();
    expect(tl.isInitialized()).toBe(false);
    await tl.init({ module: new WebAssembly.Module(wasmBytes) });
    expect(tl.isInitialized()).toBe(true);
    const t = tl.tensor([1, -2]);
    expect(Array.from(t.toArray())).toEqual([1, -2]);
    t.dispose();
  });
  it("out of memory is a RangeError and the library stays usable", () => {
    const held: tl.Tensor[] = [];
    let error: unknown;
    try {
      // The largest tensors (992 MiB each, left unwritten, so the test stays fast) until wasm's 4 GiB limit.
      for (let i = 0; i < 8; i++) held.push(empty([tl.MAX_TENSOR_SIZE]));
    } catch (e) {
      error = e;
    }
    held.forEach((t) => t.dispose());
    expect(error).toBeInstanceOf(RangeError);
    expect(String(error)).toMatch(/out of memory/);
    const t = tl.tensor([1, 2, 3]);
    expect(Array.from(t.toArray())).toEqual([1, 2, 3]);
    t.dispose();
    const again = empty([tl.MAX_TENSOR_SIZE]); // freed blocks are reused: the same request fits again
    again.dispose();
  });
});

// float64 is a second wasm module, loaded on request (after the tests above: this file's module
// state carries on from them, and float64 is not loaded yet).
describe("init({ float64 })", () => {
  const f64Bytes = readFileSync(new URL("../build/tensorlane-f64.wasm", import.meta.url));

  it("without it, a float64 tensor, model or op is a clear error naming what to call, and nothing is allocated", async () => {
    await tl.init();
    expect(tl.runtimeInfo().float64).toBe(false);
    const before = tl.memory();
    const message = /float64 needs its kernels, a separate module loaded on request: call `await tl.init\(\{ float64: true \}\)` first/;
    expect(() => tl.zeros([2], { dtype: "float64" })).toThrow(message);
    expect(() => tl.randn([2], { dtype: "float64", seed: 1 })).toThrow(/^randn: float64 needs its kernels/);
    expect(() => tl.tensor([1, 2], { dtype: "float64" })).toThrow(message);
    expect(() => new tl.FullyConnectedNet({ hiddenDims: [3], inputDim: 2, numClasses: 2, dtype: "float64" })).toThrow(message);
    expect(() => tl.kaimingInitializer(3, 2, undefined, true, { dtype: "float64" })).toThrow(/^kaimingInitializer: float64 needs its kernels/);
    expect(tl.memory()).toEqual(before);
    const t = tl.tensor([1, 2]); // float32 is untouched
    expect(Array.from(t.toArray())).toEqual([1, 2]);
    t.dispose();
  });

  it("rejects a bad float64 option with a TypeError naming it", async () => {
    await expect(tl.init({ float64: 1 as never })).rejects.toThrow(/init: float64 must be true, false or \{ module \} \/ \{ bytes \}/);
    await expect(tl.init({ float64: { modul: 1 } as never })).rejects.toThrow(/unknown float64 option "modul"/);
    await expect(tl.init({ float64: { module: f64Bytes as never } })).rejects.toThrow(/float64.module must be a WebAssembly.Module/);
    await expect(tl.init({ float64: { module: new WebAssembly.Module(wasmBytes) } })).rejects.toThrow(/not tensorlane's float64 kernel module/);
    expect(tl.runtimeInfo().float64).toBe(false);
  });

  it("a precompiled float64 module (tensorlane/wasm-f64) loads over the running heap: earlier tensors keep their values", async () => {
    const kept = tl.tensor([3, -1, 4]);
    await tl.init({ float64: { module: new WebAssembly.Module(f64Bytes) } });
    expect(tl.runtimeInfo().float64).toBe(true);
    const x = tl.tensor(
      [
        [1, -2],
        [3, -4],
      ],
      { dtype: "float64" },
    );
    const [y] = tl.ReLU.forward(x);
    expect(Array.from(y.toArray())).toEqual([1, 0, 3, 0]);
    expect(y.toArray()).toBeInstanceOf(Float64Array);
    expect(Array.from(kept.toArray())).toEqual([3, -1, 4]);
    for (const t of [kept, x, y]) t.dispose();
    await tl.init({ float64: true }); // already loaded: a no-op
    expect(tl.runtimeInfo().float64).toBe(true);
  });
});
