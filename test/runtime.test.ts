// Loading paths: each test file runs in its own worker, so init here starts from scratch.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { empty } from "../src/tensor.js";

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
