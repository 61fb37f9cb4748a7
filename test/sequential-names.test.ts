// Sequential's `names` option (parameters and buffers under other names than their state_dict
// ones, as importOnnx keys them by ONNX initializer names), `notes` (lines summary() prints), and
// stateEntries() (every tensor in PyTorch's state_dict order with both names).
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { initAndCheckLeaks, labels } from "./helpers.js";

initAndCheckLeaks();

function net(options: Partial<tl.SequentialOptions> = {}): tl.Sequential {
  return tl.sequential(
    [
      tl.nn.conv2d(1, 3, 3, { padding: 1 }),
      tl.nn.batchNorm2d(3),
      tl.nn.relu(),
      tl.nn.residual([tl.nn.conv2d(3, 3, 3, { padding: 1, bias: false }), tl.nn.batchNorm2d(3)]),
      tl.nn.flatten(),
      tl.nn.linear(3 * 4 * 4, 2),
    ],
    { inputShape: [1, 4, 4], seed: 5, ...options },
  );
}

describe("Sequential names", () => {
  it("renames parameters and buffers everywhere: params, grads, buffers, parameterNames, freeze; the values and order are the same", () => {
    const plain = net();
    const names = { "0.weight": "stem.w", "0.bias": "stem.b", "1.running_mean": "stem.bn.mean", "3.body.1.weight": "block.gamma" };
    const renamed = net({ names });
    expect(renamed.parameterNames).toEqual(plain.parameterNames.map((n) => names[n as keyof typeof names] ?? n));
    expect(Object.keys(renamed.buffers)).toEqual(["stem.bn.mean", "1.running_var", "3.body.1.running_mean", "3.body.1.running_var"]);
    expect(Array.from(renamed.getParameters())).toEqual(Array.from(plain.getParameters()));
    expect(renamed.config.names).toEqual(names);
    expect(plain.config.names).toBeUndefined();
    const X = tl.randn([2, 1, 4, 4], { seed: 1 });
    const [lossA, gradsA] = plain.loss(X, [0, 1]);
    const [lossB, gradsB] = renamed.loss(X, [0, 1]);
    expect(lossB).toBe(lossA);
    expect(Array.from(gradsB["stem.w"].toArray())).toEqual(Array.from(gradsA["0.weight"].toArray()));
    renamed.freeze(["stem.w", "stem.b"]);
    expect(renamed.frozen).toEqual(["stem.w", "stem.b"]);
    expect(renamed.summary()).toMatch(/Conv2d\(in_channels=1, .*\) \(frozen\)/);
    const [, frozenGrads] = renamed.loss(X, [0, 1]);
    expect(Object.keys(frozenGrads)).not.toContain("stem.w");
    X.dispose();
    plain.dispose();
    renamed.dispose();
  });

  it("stateEntries(): PyTorch's state_dict order with num_batches_tracked after each batch norm's statistics", () => {
    const model = net({ names: { "1.running_mean": "bn.running_mean", "1.running_var": "bn.running_var" } });
    const entries = model.stateEntries();
    expect(entries.map((e) => e.stateDictName)).toEqual([
      "0.weight",
      "0.bias",
      "1.weight",
      "1.bias",
      "1.running_mean",
      "1.running_var",
      "1.num_batches_tracked",
      "3.body.0.weight",
      "3.body.1.weight",
      "3.body.1.bias",
      "3.body.1.running_mean",
      "3.body.1.running_var",
      "3.body.1.num_batches_tracked",
      "5.weight",
      "5.bias",
    ]);
    expect(entries.filter((e) => e.kind === "counter").map((e) => [e.name, e.tensor])).toEqual([
      ["bn.num_batches_tracked", null],
      ["3.body.1.num_batches_tracked", null],
    ]);
    expect(entries[4]).toMatchObject({ name: "bn.running_mean", kind: "buffer", local: "running_mean", shape: [3] });
    expect(entries[4].tensor).toBe(model.buffers["bn.running_mean"]);
    model.dispose();
  });

  it("a checkpoint rebuilds the names and the notes", () => {
    const model = net({ names: { "5.weight": "head.weight", "5.bias": "head.bias" }, notes: ["from somewhere"] });
    const back = tl.loadCheckpoint(tl.saveCheckpoint({ model })).model as tl.Sequential;
    expect(back.parameterNames).toEqual(model.parameterNames);
    expect(back.config.notes).toEqual(["from somewhere"]);
    expect(back.summary().split("\n").at(-1)).toBe("note: from somewhere");
    expect(Array.from(back.getParameters())).toEqual(Array.from(model.getParameters()));
    back.dispose();
    model.dispose();
  });

  it("bad names are refused before anything is built: unknown keys, empty or repeated names", () => {
    expect(() => net({ names: { "9.weight": "w" } })).toThrow(
      /^Sequential: options\.names renames "9\.weight", which is not a parameter or buffer of the modules \(they are: 0\.weight, 0\.bias, /,
    );
    expect(() => net({ names: { "0.weight": "" } })).toThrow(/^Sequential: options\.names\["0\.weight"\] must be a non-empty string/);
    expect(() => net({ names: { "0.weight": "0.bias" } })).toThrow(
      /^Sequential: options\.names gives "0\.bias" the name "0\.bias", which "0\.weight" already has/,
    );
    expect(() => net({ names: { "0.weight": "w", "0.bias": "w" } })).toThrow(/which "0\.weight" already has: every parameter and buffer needs its own name/);
    expect(() => net({ names: [] as never })).toThrow(/options\.names must be an object from state_dict names to new names/);
    expect(() => net({ notes: "x" as never })).toThrow(/options\.notes must be an array of at most 64 strings/);
    expect(() => net({ names: { "0.weight": "__proto__" } })).toThrow(/other than "__proto__"/);
  });

  it("names that look like Object's own keys are ordinary names", () => {
    const model = tl.sequential([tl.nn.linear(2, 2)], { inputShape: [2], seed: 1, names: { "0.weight": "toString", "0.bias": "constructor" } });
    expect(model.parameterNames).toEqual(["toString", "constructor"]);
    expect(Object.keys(model.params)).toEqual(["toString", "constructor"]);
    const X = tl.randn([3, 2], { seed: 2 });
    const [, grads] = model.loss(X, labels(3, 2, 1));
    expect(Object.keys(grads)).toEqual(["toString", "constructor"]);
    X.dispose();
    model.dispose();
  });
});
