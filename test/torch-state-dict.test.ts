// saveStateDict's file in PyTorch: Debian's python3-torch builds the nn.Sequential a tl.sequential
// describes (test/torch/load_state_dict.py reads config.modules), load_state_dict(strict=True)
// accepts the file (every key, every shape, the I64 num_batches_tracked scalars), and PyTorch's
// eval scores are tensorlane's. Skipped locally without /usr/bin/python3 and torch; required in CI
// (apt-get install -y python3-torch).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tl from "../src/index.js";
import { initAndCheckLeaks, labels } from "./helpers.js";

initAndCheckLeaks();

const PYTHON = "/usr/bin/python3";
const HAVE_TORCH = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
if (!HAVE_TORCH && process.env.CI) throw new Error("CI needs Debian's python3-torch (apt-get install -y python3-torch) for the state_dict round trip");
const SCRIPT = join(import.meta.dirname, "torch", "load_state_dict.py");

/** PyTorch's eval scores of `model` loaded from saveStateDict(model) with strict=True. */
function torchScores(model: tl.Sequential, X: tl.Tensor): { scores: Float32Array; dtypes: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "tl-state-dict-"));
  try {
    writeFileSync(join(dir, "state.safetensors"), tl.saveStateDict(model, { names: "stateDict" }));
    writeFileSync(join(dir, "x.safetensors"), tl.encodeSafetensors({ x: { shape: X.shape, data: X.toArray() } }));
    writeFileSync(
      join(dir, "job.json"),
      JSON.stringify({
        modules: model.config.modules,
        state_dict: join(dir, "state.safetensors"),
        x: join(dir, "x.safetensors"),
        out: join(dir, "out.safetensors"),
      }),
    );
    const run = spawnSync(PYTHON, [SCRIPT, join(dir, "job.json")], { encoding: "utf8", timeout: 120_000 });
    if (run.status !== 0) throw new Error(`PyTorch refused the state_dict:\n${run.stderr}`);
    const out = tl.decodeSafetensors(new Uint8Array(readFileSync(join(dir, "out.safetensors"))));
    return { scores: out.tensors.scores.data as Float32Array, dtypes: JSON.parse(out.metadata.dtypes) as Record<string, string> };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!HAVE_TORCH)("saveStateDict in PyTorch", () => {
  it("load_state_dict(strict=True) accepts it and gives tensorlane's scores (every module kind)", () => {
    const { conv2d, batchNorm2d, batchNorm1d, relu, leakyRelu, sigmoid, tanh, gelu, maxPool2d, avgPool2d, globalAvgPool, residual, flatten, dropout, linear } =
      tl.nn;
    const model = tl.sequential(
      [
        conv2d(1, 6, 3, { padding: 1 }),
        batchNorm2d(6),
        relu(),
        maxPool2d(3, { stride: 2, padding: 1 }),
        residual(
          [conv2d(6, 8, 3, { stride: 2, padding: 1, bias: false }), batchNorm2d(8), relu(), conv2d(8, 8, 3, { padding: 1, bias: false }), batchNorm2d(8)],
          [conv2d(6, 8, 1, { stride: 2, bias: false }), batchNorm2d(8)],
        ),
        leakyRelu(0.1),
        residual([conv2d(8, 8, 3, { padding: 1, groups: 8 }), batchNorm2d(8), gelu({ approximate: "tanh" })]),
        avgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }),
        sigmoid(),
        avgPool2d(2),
        conv2d(8, 8, 1),
        gelu(),
        globalAvgPool(),
        flatten(),
        dropout(0.2),
        linear(8, 12),
        batchNorm1d(12),
        tanh(),
        linear(12, 5),
      ],
      { inputShape: [1, 16, 16], seed: 4 },
    );
    // A few training-mode passes: the running statistics move away from 0 and 1.
    const Xt = tl.randn([8, 1, 16, 16], { seed: 1 });
    for (let i = 0; i < 3; i++) model.loss(Xt, labels(8, 5, i));
    const X = tl.randn([5, 1, 16, 16], { seed: 2 });
    const ours = model.loss(X);
    const { scores, dtypes } = torchScores(model, X);
    const mine = ours.toArray();
    let worst = 0;
    let scale = 0;
    scores.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(mine[i] - v));
      scale = Math.max(scale, Math.abs(v));
    });
    console.log(`PyTorch load_state_dict(strict=True): scores within ${worst.toExponential(2)} (relative ${(worst / scale).toExponential(2)})`);
    expect(worst / scale).toBeLessThan(1e-5);
    expect(dtypes["1.num_batches_tracked"]).toBe("torch.int64");
    expect(dtypes["4.body.1.num_batches_tracked"]).toBe("torch.int64");
    expect(Object.keys(dtypes)).toEqual(model.stateEntries().map((e) => e.stateDictName));
    expect(dtypes["0.weight"]).toBe("torch.float32");
    for (const t of [Xt, X, ours]) t.dispose();
    model.dispose();
  });
});
