// The published package as a user meets it: imported by name from another folder through the
// exports map, with file-system permissions that forbid reading anything but the bundle itself,
// so any run-time read of the .wasm would fail.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "tensorlane-consumer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("package", () => {
  it("import('tensorlane') from another folder runs init, ReLU and a Solver-trained net in wasm, reading no file but the bundle", () => {
    expect(existsSync(join(root, "dist", "tensorlane.js")), "run `npm run build` first").toBe(true);
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(root, join(dir, "node_modules", "tensorlane"), "dir");
    const script = join(dir, "run.mjs");
    writeFileSync(
      script,
      `import * as tl from "tensorlane";
await tl.init();
const x = tl.tensor([[-1, 2], [3, -4]]);
const [out] = tl.ReLU.forward(x);
console.log(JSON.stringify(out.toNested()));
// A FullyConnectedNet trained by the Solver on a separable problem (class = sign pattern of two features).
const n = 400;
const X = tl.randn([n, 8], { seed: 1 });
const v = X.toArray();
const y = Int32Array.from({ length: n }, (_, i) => (v[i * 8] > 0 ? 1 : 0) + (v[i * 8 + 1] > 0 ? 2 : 0));
const net = new tl.FullyConnectedNet({ hiddenDims: [32], inputDim: 8, numClasses: 4, weightScale: "kaiming", seed: 2 });
const solver = new tl.Solver(net, { XTrain: X, yTrain: y, XVal: X, yVal: y }, {
  updateRule: "adam", optimConfig: { learningRate: 1e-2 }, numEpochs: 20, batchSize: 50, verbose: false, seed: 3,
});
solver.train();
console.log(solver.bestValAcc);`,
    );
    const output = execFileSync(
      process.execPath,
      [
        "--experimental-permission",
        `--allow-fs-read=${script}`,
        `--allow-fs-read=${join(dir, "node_modules")}`,
        `--allow-fs-read=${join(root, "package.json")}`,
        `--allow-fs-read=${join(root, "dist", "tensorlane.js")}`,
        script,
      ],
      { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    const [relu, accuracy] = output.trim().split("\n");
    expect(relu).toBe("[[0,2],[3,0]]");
    expect(Number(accuracy), `separable problem: accuracy ${accuracy}`).toBeGreaterThan(0.95);
  });

  it("the exports map points at the bundle, its types and the standalone wasm", async () => {
    const pkg = (await import("../package.json", { with: { type: "json" } })).default as {
      exports: Record<string, unknown>;
    };
    const main = pkg.exports["."] as { types: string; default: string };
    expect(existsSync(join(root, main.default))).toBe(true);
    expect(existsSync(join(root, main.types))).toBe(true);
    const node = pkg.exports["./node"] as { types: string; default: string };
    expect(existsSync(join(root, node.default))).toBe(true);
    expect(existsSync(join(root, node.types))).toBe(true);
    const wasmEntry = pkg.exports["./wasm"] as { types: string; default: string };
    const wasm = wasmEntry.default;
    expect(existsSync(join(root, wasm))).toBe(true);
    expect(existsSync(join(root, wasmEntry.types))).toBe(true);
    expect(WebAssembly.validate(new Uint8Array(await import("node:fs").then((fs) => fs.readFileSync(join(root, wasm)))))).toBe(true);
  });

  it("the library has no bin and no dependencies; tensorlane-cli's bin is a node script; VERSION is package.json's version", async () => {
    const fs = await import("node:fs");
    const pkg = JSON.parse(fs.readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown> & { version: string };
    expect(pkg.bin).toBeUndefined();
    expect(pkg.dependencies ?? {}).toEqual({});
    const cli = JSON.parse(fs.readFileSync(join(root, "cli", "package.json"), "utf8")) as {
      bin: Record<string, string>;
      dependencies: Record<string, string>;
      version: string;
    };
    expect(fs.readFileSync(join(root, "cli", cli.bin.tensorlane), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(Object.keys(cli.dependencies)).toContain("tensorlane");
    expect(cli.version).toBe(pkg.version);
    const tl = await import("../src/index.js");
    expect(tl.VERSION).toBe(pkg.version);
  });

  it("tensorlane/node shares the library's core: a tensor made through one is valid in the other", () => {
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    if (!existsSync(join(dir, "node_modules", "tensorlane"))) symlinkSync(root, join(dir, "node_modules", "tensorlane"), "dir");
    const script = join(dir, "node-entry.mjs");
    writeFileSync(
      script,
      `import * as tl from "tensorlane";
import * as tln from "tensorlane/node";
await tln.init();
const t = tl.tensor([1, 2, 3]);
const ck = tln.loadCheckpoint(tln.saveCheckpoint({ model: new tl.FullyConnectedNet({ hiddenDims: [2], inputDim: 3, numClasses: 2, seed: 1 }) }));
console.log(tl.isInitialized(), tln.Tensor === tl.Tensor, t.toArray().join(), ck.kind, typeof tln.loadIdxFolder);`,
    );
    const output = execFileSync(process.execPath, [script], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(output.trim()).toBe("true true 1,2,3 FullyConnectedNet function");
  });
});
