// `tensorlane export --onnx FILE --checkpoint FILE` as a user runs it (dist/cli.js, built by
// `npm run build`): the ONNX file scores like the checkpoint's model in ONNX Runtime and carries
// the data normalization; bad arguments are one clear message.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as ort from "onnxruntime-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tl from "tensorlane";
import { labels } from "../../test/helpers.js";

const root = resolve(import.meta.dirname, "..");
const cli = join(root, "dist", "cli.js");
const dir = mkdtempSync(join(tmpdir(), "tensorlane-cli-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await tl.init();
  ort.env.wasm.numThreads = 1;
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const NORMALIZATION = { mean: [0.286], std: [0.353] };

describe("tensorlane export --onnx", () => {
  beforeAll(() => {
    expect(existsSync(cli), "run `npm run build` first").toBe(true);
  });

  it("writes an ONNX file that scores like the checkpoint's model, with the normalization in its metadata", async () => {
    // A conv net with batch norm whose running statistics moved (train-mode passes), saved as
    // `tensorlane train` saves it (meta.data.normalization).
    const model = new tl.DeepConvNet({ inputDims: [1, 8, 8], numFilters: [4], maxPools: [0], batchnorm: true, numClasses: 3, weightScale: "kaiming", seed: 3 });
    const Xtrain = tl.randn([16, 1, 8, 8], { seed: 4 });
    for (let i = 0; i < 3; i++) model.loss(Xtrain, labels(16, 3, 5 + i));
    Xtrain.dispose();
    const checkpoint = join(dir, "checkpoint.safetensors");
    writeFileSync(checkpoint, tl.saveCheckpoint({ model, meta: { data: { normalization: NORMALIZATION, classes: ["a", "b", "c"] } } }));

    const r = await run(["export", "--onnx", "model.onnx", "--checkpoint", checkpoint]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote model\.onnx \(\d+ bytes, ONNX opset 13\): DeepConvNet, input x \(N, 1, 8, 8\), output scores \(N, 3\)$/m);
    expect(r.stdout).toContain("(pixel / 255 - mean) / std per channel, mean [0.286], std [0.353]");

    const bytes = new Uint8Array(readFileSync(join(dir, "model.onnx")));
    const text = new TextDecoder().decode(bytes);
    expect(text).toContain('{"mean":[0.286],"std":[0.353]}'); // metadata_props normalization
    expect(text).toContain('["a","b","c"]'); // and class names
    expect(text, "no local folder in the shipped file").not.toContain(dir);
    const X = tl.randn([5, 1, 8, 8], { seed: 9 });
    const ref = model.loss(X);
    const expected = ref.toArray();
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor("float32", X.toArray(), [5, 1, 8, 8]) });
    await session.release();
    const actual = out.scores.data as Float32Array;
    const scale = Math.max(...expected.map(Math.abs));
    const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
    expect(worst / scale, `relative error ${(worst / scale).toExponential(2)}`).toBeLessThan(1e-4);
    for (const t of [X, ref]) t.dispose();
    model.dispose();
  });

  it("needs both options, and says so when the checkpoint is missing", async () => {
    const help = await run(["export", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--onnx <file>");
    expect(help.stdout).toContain("--checkpoint <file>");
    const noOnnx = await run(["export", "--checkpoint", "x.safetensors"]);
    expect(noOnnx.code).toBe(1);
    expect(noOnnx.stderr).toMatch(/required option '--onnx <file>' not specified/);
    const missing = await run(["export", "--onnx", "m.onnx", "--checkpoint", "nowhere.safetensors"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tensorlane: error: .*nowhere\.safetensors/);
    expect(missing.stderr).not.toMatch(/TENSORLANE_DEBUG/); // expected bad input, not a bug
    expect(existsSync(join(dir, "m.onnx"))).toBe(false);
  });
});
