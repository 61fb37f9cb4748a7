// Blocks, the one scratch mechanism: named blocks reused while big enough, int32 views re-derived
// after memory grows, and the runtime's shared scratch (ops, per-thread work, labels, mixup) as
// blocks of one Blocks the runtime state holds.
import { beforeAll, describe, expect, it } from "vitest";
import { Blocks, sharedBlocks } from "../src/core/blocks.js";
import * as tl from "../src/index.js";
import { i32, wasmMemoryBytes } from "../src/core/runtime.js";
import { runtime } from "../src/core/runtime-state.js";
import { threadScratch } from "../src/core/threads/dispatch.js";
import { Workspace } from "../src/core/workspace.js";

beforeAll(() => tl.init());

describe("Blocks", () => {
  it("reuses a block while it is big enough, replaces it when not, and with shrink also when far larger than needed", () => {
    const b = new Blocks("test");
    const p = b.block("a", 1000);
    expect(p % 16).toBe(0);
    expect(b.block("a", 10)).toBe(p);
    expect(b.held("a")).toBe(1000);
    const q = b.block("a", 1 << 20);
    expect(b.held("a")).toBe(1 << 20);
    expect(b.block("a", 100_000)).toBe(q); // within 4x + 64 KiB of what is held
    b.block("a", 1000, { shrink: true });
    expect(b.held("a")).toBe(1000); // replaced (the allocator may hand out the same address)
    b.dispose();
    expect(b.held("a")).toBe(0);
  });

  it("int32() views a block's values, re-derived after wasm memory grows", () => {
    const b = new Blocks("test");
    const p = b.block("ints", 4 * 5);
    i32().set([1, 2, 3, 4, 5], p >>> 2);
    const before = wasmMemoryBytes();
    const big = tl.zeros([1 << 24]); // 64 MiB: memory grows
    expect(wasmMemoryBytes()).toBeGreaterThan(before);
    expect(Array.from(b.int32("ints", 5))).toEqual([1, 2, 3, 4, 5]);
    big.dispose();
    b.dispose();
  });

  it("names the owner and the buffer when memory runs out", () => {
    const b = new Blocks("Solver");
    expect(() => b.block("indices", 2 ** 31)).toThrow(/^Solver: buffer indices: /);
    expect(() => b.block("indices", 2 ** 31, { what: "softmaxLoss labels" })).toThrow(/^softmaxLoss labels: /);
  });

  it("a Workspace frees its tensors and its blocks together", () => {
    const base = tl.memory();
    const ws = new Workspace("test");
    ws.get("x", [4, 4]);
    ws.block("idx", 64);
    ws.dispose();
    expect(ws.held("idx")).toBe(0);
    expect(tl.memory()).toEqual(base);
  });
});

describe("the runtime's shared scratch", () => {
  it("is one Blocks held by the runtime state: labels, loss rows and per-thread work are its blocks", () => {
    const scores = tl.randn([6, 3], { seed: 1 });
    tl.softmaxLoss(scores, [0, 1, 2, 0, 1, 2])[1].dispose();
    const scratch = sharedBlocks();
    expect(runtime.scratch).toBe(scratch);
    expect(scratch.held("labels")).toBe(6 * 4);
    expect(scratch.held("loss rows")).toBe(6 * 8);
    const [work] = threadScratch(100);
    expect(work).toBe(scratch.block("thread work", 0));
    scores.dispose();
  });
});
