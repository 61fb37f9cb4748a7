import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import * as tlExperiments from "../src/experiments/index.js";
import { initExperimentToFiles } from "../cli/src/init-experiment.js";

beforeAll(() => tl.init());

describe("weight-initialization experiment", () => {
  it("shows the collapse (0.01), the saturation (0.05), Xavier's health for tanh and Kaiming's for ReLU (width 2048)", () => {
    const result = tlExperiments.runInitExperiment({ width: 2048, seed: 3 });
    const std = (name: string) => result.schemes.find((s) => s.scheme.name === name)!.layers.map((l) => l.std);
    const small = std("std 0.01, tanh");
    const large = std("std 0.05, tanh");
    const xavier = std("Xavier, tanh");
    const xavierRelu = std("Xavier, ReLU");
    const kaiming = std("Kaiming, ReLU");
    console.log(JSON.stringify({ small, large, xavier, xavierRelu, kaiming }));
    expect(result.schemes[0].layers).toHaveLength(6);
    expect(small[5]).toBeLessThan(small[0] / 20); // collapses toward 0
    expect(large[5]).toBeGreaterThan(0.75); // saturated: mass at ±1
    const saturated = result.schemes[1].layers[5];
    const atEdges = saturated.counts[0] + saturated.counts[saturated.counts.length - 1];
    expect(atEdges / saturated.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.2); // a healthy layer has ~0 there
    expect(xavier[5]).toBeGreaterThan(0.2); // still spread after six layers
    expect(xavier[5]).toBeLessThan(0.75);
    expect(xavierRelu[5] / xavierRelu[0]).toBeLessThan(0.3); // Xavier halves the variance per ReLU layer
    expect(kaiming[5] / kaiming[0]).toBeGreaterThan(0.7); // Kaiming keeps it
    expect(kaiming[5] / kaiming[0]).toBeLessThan(1.4);
  });

  it("is reproducible bit for bit and writes the histogram picture", async () => {
    const a = tlExperiments.runInitExperiment({ width: 128, depth: 4, batch: 8, seed: 9 });
    const b = tlExperiments.runInitExperiment({ width: 128, depth: 4, batch: 8, seed: 9 });
    expect(a).toEqual(b);
    const dir = mkdtempSync(join(tmpdir(), "tl-init-"));
    try {
      const lines: string[] = [];
      const path = await initExperimentToFiles(dir, { width: 128, depth: 4, batch: 8, seed: 9 }, (s) => lines.push(s));
      const svg = readFileSync(path, "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(15); // 5 schemes x 3 layers of bars
      expect(lines.join("\n")).toMatch(/Kaiming, ReLU/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects bad options", () => {
    expect(() => tlExperiments.runInitExperiment({ width: 0 })).toThrow(/width must be >= 1/);
    expect(() => tlExperiments.runInitExperiment({ depth: 1 })).toThrow(/depth must be >= 2/);
    expect(() => tlExperiments.runInitExperiment({ widht: 3 } as never)).toThrow(/unknown option "widht"/);
  });
});
