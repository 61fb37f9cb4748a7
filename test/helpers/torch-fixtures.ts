// Reading the PyTorch references in test/fixtures/torch/ (made by make_fixtures.py there) and
// running one module on them: forward on x, backward from PyTorch's upstream gradient dout.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tl from "../../src/index.js";
import { decodeSafetensors } from "../../src/io/safetensors.js";
import type { Module, Pass } from "../../src/nn/module.js";
import { backwardChain, forwardChain, planChain, type Plan } from "../../src/nn/module.js";
import { Workspace } from "../../src/core/workspace.js";

export const TORCH_FIXTURES = join(import.meta.dirname, "..", "fixtures", "torch");

export interface TorchCase {
  tensors: Record<string, { shape: readonly number[]; data: Float32Array | Float64Array }>;
  metadata: Record<string, string>;
  args: Record<string, unknown>;
}

/** One file of test/fixtures/torch/<folder>/<name>.safetensors (F32/F64 tensors). */
export function torchCase(folder: string, name: string): TorchCase {
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(join(TORCH_FIXTURES, folder, `${name}.safetensors`))));
  return { tensors, metadata, args: metadata.args ? (JSON.parse(metadata.args) as Record<string, unknown>) : {} };
}

/** Largest |a - b| / max(|b|) over the arrays (a relative error that ignores tiny entries' own scale). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / Math.max(scale, 1e-300);
}

export interface ModuleRun {
  out: Float32Array | Float64Array;
  dx: Float32Array | Float64Array | null;
  grads: Record<string, Float32Array | Float64Array>;
  buffers: Record<string, Float32Array | Float64Array>;
}

/**
 * Plans `module` for the case's x, loads the case's parameters and buffers by their state_dict
 * names, runs forward (train or eval as the case's mode says) and backward from dout.
 */
export function runModuleOnCase(module: Module | Module[], c: TorchCase, dtype: tl.DType, train = c.metadata.mode === "train"): ModuleRun {
  const modules = Array.isArray(module) ? module : [module];
  const x = c.tensors.x;
  const plan: Plan = { params: [], buffers: [], modules: [] };
  planChain("test", {}, modules, x.shape.slice(1), "", plan, 0);
  const made: tl.Tensor[] = [];
  const make = (values: ArrayLike<number>, shape: readonly number[]) => {
    const t = tl.tensor(Float64Array.from(values), [...shape], { dtype });
    made.push(t);
    return t;
  };
  const ws = new Workspace("test", dtype);
  try {
    for (const p of plan.params) {
      const ref = c.tensors[p.fullName.replace(/^0\./, "")];
      if (!ref) throw new Error(`the case has no tensor for parameter ${p.fullName}`);
      p.module.params[p.name] = make(ref.data, p.shape);
      p.module.grads[p.name] = make(new Float64Array(ref.data.length), p.shape);
    }
    for (const b of plan.buffers) {
      const ref = c.tensors[b.fullName.replace(/^0\./, "")];
      if (!ref) throw new Error(`the case has no tensor for buffer ${b.fullName}`);
      b.module.buffers[b.name] = make(ref.data, b.shape);
    }
    const n = x.shape[0];
    let offset = 0;
    const pass: Pass = { train, dtype, n, ws, draw: (count) => [1, (offset += count) - count] };
    const X = make(x.data, x.shape);
    const out = forwardChain(modules, X, pass).toArray();
    const dy = make(c.tensors.dout.data, c.tensors.dout.shape);
    const dx = backwardChain(modules, dy, pass)?.toArray() ?? null;
    const grads: Record<string, Float32Array | Float64Array> = {};
    for (const p of plan.params) grads[p.fullName.replace(/^0\./, "")] = p.module.grads[p.name].toArray();
    const buffers: Record<string, Float32Array | Float64Array> = {};
    for (const b of plan.buffers) buffers[b.fullName.replace(/^0\./, "")] = b.module.buffers[b.name].toArray();
    return { out, dx, grads, buffers };
  } finally {
    for (const m of modules) m.dispose();
    ws.dispose();
    for (const t of made) t.dispose();
  }
}
