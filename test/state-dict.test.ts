// PyTorch state_dicts: decodeSafetensors reading F16 / BF16 (widened exactly) and I32 / I64 on
// request; loadStateDict putting a state_dict into a tl.sequential by name (checked all or
// nothing), saveStateDict writing one in PyTorch's order. PyTorch's own files are in
// test/fixtures/torch/sequential/ (state_dict in F32, F16 and BF16, with their eval scores).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { halfToFloatBits } from "../src/io/safetensors.js";
import { initAndCheckLeaks } from "./helpers.js";
import { TORCH_FIXTURES } from "./helpers/torch-fixtures.js";

initAndCheckLeaks({ float64: true });

const fixture = (name: string) => new Uint8Array(readFileSync(join(TORCH_FIXTURES, "sequential", name)));

/** The binary16 value of bits h, by its definition (sign, 5-bit exponent, 10-bit fraction). */
function halfReference(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  if (exp === 0) return sign * frac * 2 ** -24;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

describe("decodeSafetensors: half precision and integers", () => {
  it("F16: every one of the 65536 bit patterns widens to its exact value (subnormals, infinities, NaN, -0)", () => {
    const f = new Float32Array(1);
    const bits = new Uint32Array(f.buffer);
    for (let h = 0; h < 65536; h++) {
      bits[0] = halfToFloatBits(h);
      const want = halfReference(h);
      if (Number.isNaN(want)) expect(Number.isNaN(f[0]), `0x${h.toString(16)}`).toBe(true);
      else expect(Object.is(f[0], want) || (f[0] === want && want !== 0), `0x${h.toString(16)}: ${f[0]} vs ${want}`).toBe(true);
    }
  });

  it("PyTorch's F16 and BF16 state_dicts widen to within half an ulp of the F32 one; I64 num_batches_tracked read on request", () => {
    const f32 = tl.decodeSafetensors(fixture("state_dict.f32.safetensors"), undefined, { integers: true });
    for (const [file, ulp] of [
      ["state_dict.f16.safetensors", 2 ** -11],
      ["state_dict.bf16.safetensors", 2 ** -8],
    ] as const) {
      const half = tl.decodeSafetensors(fixture(file), undefined, { widen: true, integers: true });
      expect(Object.keys(half.tensors)).toEqual(Object.keys(f32.tensors));
      for (const [name, t] of Object.entries(half.tensors)) {
        const ref = f32.tensors[name];
        expect(t.shape, name).toEqual(ref.shape);
        if (t.data instanceof BigInt64Array) {
          expect(t.dtype).toBe("I64");
          expect(Array.from(t.data)).toEqual([60n]);
          continue;
        }
        expect(t.data).toBeInstanceOf(Float32Array);
        expect(t.dtype).toBe(file.includes("bf16") ? "BF16" : "F16");
        t.data.forEach((v, i) => {
          const r = (ref.data as Float32Array)[i];
          expect(Math.abs(v - r), `${file} ${name}[${i}]`).toBeLessThanOrEqual(Math.abs(r) * ulp + 2 ** -25);
        });
      }
    }
  });

  it("without the options, F16 / BF16 / I64 are refused with the option to pass", () => {
    expect(() => tl.decodeSafetensors(fixture("state_dict.f16.safetensors"))).toThrow(
      /tensor "0\.weight" has dtype F16; tensorlane reads only F32 and F64 tensors \(pass \{ widen: true \} to read F16 and BF16 widened to float32\)/,
    );
    expect(() => tl.decodeSafetensors(fixture("state_dict.f32.safetensors"))).toThrow(
      /dtype I64; tensorlane reads only F32 and F64 tensors \(pass \{ integers: true \}/,
    );
    expect(() => tl.decodeSafetensors(fixture("state_dict.f16.safetensors"), undefined, { widen: true })).toThrow(
      /dtype I64; tensorlane reads only F32, F64, F16 and BF16 tensors/,
    );
    expect(() => tl.decodeSafetensors(new Uint8Array(8), undefined, { wide: true } as never)).toThrow(/decodeSafetensors: unknown option "wide"/);
  });

  it("encodeSafetensors writes I32 and I64 tensors, which decode back exactly", () => {
    const bytes = tl.encodeSafetensors({ a: { shape: [2], data: Int32Array.of(-1, 7) }, n: { shape: [], data: BigInt64Array.of(2n ** 40n) } });
    const back = tl.decodeSafetensors(bytes, undefined, { integers: true });
    expect(Array.from(back.tensors.a.data as Int32Array)).toEqual([-1, 7]);
    expect(back.tensors.n.dtype).toBe("I64");
    expect(Array.from(back.tensors.n.data as BigInt64Array)).toEqual([2n ** 40n]);
  });
});

function smallNet(seed = 1, dtype: tl.DType = "float32"): tl.Sequential {
  return tl.sequential(
    [
      tl.nn.conv2d(1, 4, 3, { padding: 1 }),
      tl.nn.batchNorm2d(4),
      tl.nn.relu(),
      tl.nn.maxPool2d(2),
      tl.nn.residual(
        [tl.nn.conv2d(4, 6, 3, { stride: 2, padding: 1, bias: false }), tl.nn.batchNorm2d(6)],
        [tl.nn.conv2d(4, 6, 1, { stride: 2, bias: false })],
      ),
      tl.nn.flatten(),
      tl.nn.linear(6 * 2 * 2, 3),
    ],
    { inputShape: [1, 8, 8], seed, dtype },
  );
}

describe("loadStateDict / saveStateDict", () => {
  it("a state_dict saved from one model loads into another built alike: the same scores; order, dtypes and counters as PyTorch's", () => {
    const a = smallNet(1);
    // Running statistics away from their defaults.
    const Xt = tl.randn([6, 1, 8, 8], { seed: 3 });
    a.loss(Xt, [0, 1, 2, 0, 1, 2]);
    const bytes = tl.saveStateDict(a);
    const { entries } = tl.readSafetensorsHeader(bytes);
    expect(entries.map((e) => [e.name, e.dtype])).toEqual(a.stateEntries().map((e) => [e.stateDictName, e.kind === "counter" ? "I64" : "F32"]));
    const b = smallNet(2);
    const result = tl.loadStateDict(b, bytes);
    expect(result.loaded).toEqual(
      [...a.parameterNames, ...Object.keys(a.buffers)].sort(
        (x, y) => a.stateEntries().findIndex((e) => e.name === x) - a.stateEntries().findIndex((e) => e.name === y),
      ),
    );
    expect(result.ignored).toEqual(["1.num_batches_tracked", "4.body.1.num_batches_tracked"]);
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    const X = tl.randn([4, 1, 8, 8], { seed: 4 });
    const sa = a.loss(X);
    const sb = b.loss(X);
    expect(Array.from(sb.toArray())).toEqual(Array.from(sa.toArray()));
    for (const t of [Xt, X, sa, sb]) t.dispose();
    a.dispose();
    b.dispose();
  });

  it("into a float64 model: F32 values widened", () => {
    const a = smallNet(1);
    const b = smallNet(2, "float64");
    tl.loadStateDict(b, tl.saveStateDict(a));
    expect(Array.from(b.getParameters())).toEqual(Array.from(a.getParameters()));
    a.dispose();
    b.dispose();
  });

  it("strict: missing, unexpected and mis-shaped tensors are named, and nothing is written", () => {
    const model = smallNet(1);
    const before = model.getParameters();
    const twin = smallNet(1);
    const { tensors } = tl.decodeSafetensors(tl.saveStateDict(twin), undefined, { integers: true });
    twin.dispose();
    const without = { ...tensors };
    delete without["6.bias"];
    expect(() => tl.loadStateDict(model, without)).toThrow(
      'loadStateDict: the state_dict does not match the model: missing "6.bias" (pass { strict: false } to load the tensors that match)',
    );
    expect(() => tl.loadStateDict(model, { ...tensors, "7.weight": { shape: [1], data: [1] } })).toThrow(/unexpected "7\.weight"/);
    expect(() => tl.loadStateDict(model, { ...tensors, "6.weight": { shape: [3, 25], data: new Float32Array(75) } })).toThrow(
      'loadStateDict: state_dict["6.weight"] has shape [3, 25] but the model\'s "6.weight" (Linear(in_features=24, out_features=3, bias=true, init=pytorch), module 6) has shape [3, 24]',
    );
    expect(() => tl.loadStateDict(model, { ...tensors, "0.bias": { shape: [4], data: [0, NaN, 0, 0] } })).toThrow(
      /state_dict\["0\.bias"\] holds NaN at index 1; parameters and buffers must be finite numbers/,
    );
    expect(() => tl.loadStateDict(model, { ...tensors, "1.running_var": { shape: [4], data: [1, 1, -1, 1] } })).toThrow(
      /holds the negative variance -1 at index 2/,
    );
    expect(() => tl.loadStateDict(model, { ...tensors, "0.bias": { shape: [4], data: new BigInt64Array(4) } })).toThrow(
      /holds integers, but "0\.bias" is a floating-point parameter/,
    );
    expect(Array.from(model.getParameters())).toEqual(Array.from(before));
    // Not strict: what matches loads, the rest is reported.
    const r = tl.loadStateDict(model, { "6.bias": { shape: [3], data: [1, 2, 3] }, extra: { shape: [], data: [0] } }, { strict: false });
    expect(r.loaded).toEqual(["6.bias"]);
    expect(r.unexpected).toEqual(["extra"]);
    expect(r.missing).toHaveLength(model.parameterNames.length + Object.keys(model.buffers).length - 1);
    expect(Array.from(model.params["6.bias"].toArray())).toEqual([1, 2, 3]);
    model.dispose();
  });

  it("a renamed model answers to its names and to the state_dict names; saveStateDict writes either", () => {
    const plain = smallNet(1);
    const renamed = tl.sequential(
      [
        tl.nn.conv2d(1, 4, 3, { padding: 1 }),
        tl.nn.batchNorm2d(4),
        tl.nn.relu(),
        tl.nn.maxPool2d(2),
        tl.nn.residual(
          [tl.nn.conv2d(4, 6, 3, { stride: 2, padding: 1, bias: false }), tl.nn.batchNorm2d(6)],
          [tl.nn.conv2d(4, 6, 1, { stride: 2, bias: false })],
        ),
        tl.nn.flatten(),
        tl.nn.linear(24, 3),
      ],
      { inputShape: [1, 8, 8], seed: 9, names: { "6.weight": "head.weight", "6.bias": "head.bias", "1.running_mean": "bn.running_mean" } },
    );
    tl.loadStateDict(renamed, tl.saveStateDict(plain)); // by state_dict names
    expect(Array.from(renamed.getParameters())).toEqual(Array.from(plain.getParameters()));
    const own = tl.readSafetensorsHeader(tl.saveStateDict(renamed)).entries.map((e) => e.name);
    expect(own).toContain("head.weight");
    expect(own).toContain("bn.num_batches_tracked");
    const torch = tl.readSafetensorsHeader(tl.saveStateDict(renamed, { names: "stateDict" })).entries.map((e) => e.name);
    expect(torch).toEqual(plain.stateEntries().map((e) => e.stateDictName));
    // The renamed file's names mean nothing to the plain model.
    expect(() => tl.loadStateDict(plain, tl.saveStateDict(renamed))).toThrow(
      /missing "1\.running_mean", "6\.weight", "6\.bias"; unexpected "bn\.running_mean", "bn\.num_batches_tracked", "head\.weight", "head\.bias"/,
    );
    plain.dispose();
    renamed.dispose();
  });
});
