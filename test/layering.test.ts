// The floors of src/, read from its import graph: every `import ... from "./..."`, `export ...
// from "./..."` and `import("./...")`, type-only ones included (a type is knowledge too, and a
// type import today is a value import after the next refactor). The graph is parsed with the
// TypeScript compiler's own preprocessor, so multi-line and `import type` statements count.
//
// The rules, each checked over what a file reaches through its imports, not only what it names:
//   floor       the runtime is the floor: src/core/runtime.ts, the DType type and the argument
//               checks (src/core/validate.ts) reach nothing that needs the runtime back, and no
//               folder above the runtime (nor the entries index.ts and internal.ts)
//   ops         src/ops/* and src/core/tensor.ts reach nothing in layers, models, training, data,
//               io, nn, onnx (nor the entries)
//   no-solver   src/data/* and src/io/* reach nothing in src/training/: readers and file formats
//               know nothing of the Solver
//   cycles      no import cycle among the parts of src/ (its folders; a file loose in src/ would
//               be a part of its own) beyond ALLOWED_CYCLES
//   parts       src/ holds only the entries loose: every other file is in the folder of its part
// src/internal.ts may import anything: it is the entry of tensorlane's own tools.
//
// The entries (index.ts, internal.ts) are the package's faces, not parts: tensorlane/data's
// readers, tensorlane/onnx and tensorlane/node import the library through them (rollup.config.mjs
// builds those entries on top of dist/tensorlane.js), so a walk stops at an entry, and an import
// of an entry is only a violation where a rule names the entries.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const SRC = "src";
const ENTRIES = new Set(["src/index.ts", "src/internal.ts"]);
/** Build output (gitignored, made by scripts/build-wasm.mjs): leaves of the graph, present or not. */
const GENERATED = "src/generated/";

/**
 * Cycles among parts that are allowed, each with the reason. A strongly connected set of parts
 * passes when it lies within one entry's parts. None now: the worker pool, which the runtime
 * starts and whose dispatch runs the runtime's kernels, lies in core/threads/ beside it.
 */
const ALLOWED_CYCLES: { parts: string[]; reason: string }[] = [];

const FLOOR_ROOTS = ["src/core/runtime.ts", "src/core/dtype.ts", "src/core/validate.ts"];
const ABOVE_OPS = ["layers", "models", "training", "data", "io", "nn", "onnx"];
/** Folders the floor must not reach: everything built on the runtime. */
const ABOVE_FLOOR = [...ABOVE_OPS, "ops", "node", "experiments"];

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = posix.join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return `${path}/` === GENERATED ? [] : sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/**
 * "./x.js" from src/a/b.ts -> "src/a/x.ts": a .js specifier names the .ts source (the ESM
 * convention tsc follows); a real .js file keeps its name; generated files may not exist yet.
 */
function resolve(from: string, specifier: string): string {
  const target = posix.normalize(posix.join(posix.dirname(from), specifier));
  const source = target.replace(/\.js$/, ".ts");
  return target.startsWith(GENERATED) || existsSync(join(root, source)) ? source : target;
}

function readGraph(): { graph: Graph; missing: string[] } {
  const graph: Graph = new Map();
  const missing: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), "utf8"), true, true);
    const targets = importedFiles.filter((i) => i.fileName.startsWith(".")).map((i) => resolve(file, i.fileName));
    for (const t of targets) if (!t.startsWith(GENERATED) && !existsSync(join(root, t))) missing.push(`${file} imports ${t}, which does not exist`);
    graph.set(file, [...new Set(targets)]);
  }
  return { graph, missing };
}

/** The part of src/ a file belongs to: its top folder, or the file itself when it lies loose in src/. */
function partOf(file: string): string {
  const rest = file.slice(SRC.length + 1);
  return rest.includes("/") ? rest.slice(0, rest.indexOf("/")) : file;
}

/**
 * Every file reachable from `starts` (not walking on through entries), with the file that first
 * led to it, so a violation can show its chain.
 */
function reach(graph: Graph, starts: string[]): Map<string, string | null> {
  const via = new Map<string, string | null>(starts.map((s) => [s, null]));
  const queue = [...starts];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (ENTRIES.has(file) && !starts.includes(file)) continue;
    for (const target of graph.get(file) ?? []) {
      if (!via.has(target)) {
        via.set(target, file);
        queue.push(target);
      }
    }
  }
  return via;
}

function chain(via: Map<string, string | null>, file: string): string {
  const path = [file];
  for (let f = via.get(file); f; f = via.get(f)) path.unshift(f);
  return path.join(" -> ");
}

/**
 * The imports, among the files reachable from `starts`, of a file that `forbidden` refuses: one
 * message per import, naming the importing file, the imported file, the rule and the chain.
 */
function violations(graph: Graph, rule: string, starts: string[], forbidden: (file: string) => boolean, why: (file: string) => string = () => ""): string[] {
  const via = reach(graph, starts);
  const found: string[] = [];
  for (const file of via.keys()) {
    if (ENTRIES.has(file) && !starts.includes(file)) continue;
    for (const target of graph.get(file) ?? []) {
      if (forbidden(target)) found.push(`${file} imports ${target}${why(target)}: breaks rule "${rule}" (reached as ${chain(via, file)})`);
    }
  }
  return found;
}

const inFolders = (folders: string[]) => (file: string) => folders.includes(partOf(file).replace(/^src\//, ""));

describe("layering of src/ (its import graph)", () => {
  const { graph, missing } = readGraph();

  it("reads the whole graph: every relative import names a file that exists", () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get("src/index.ts")).toContain("src/core/runtime.ts");
    expect(missing).toEqual([]);
  });

  it("floor: the runtime, DType and the argument checks reach nothing that needs the runtime, and nothing above it", () => {
    // Files that reach src/core/runtime.ts: importing one of them from the floor would be a cycle through the runtime.
    const needsRuntime = new Set([...graph.keys()].filter((f) => f !== "src/core/runtime.ts" && reach(graph, [f]).has("src/core/runtime.ts")));
    const found = [
      ...violations(
        graph,
        "floor: what the runtime imports must not need the runtime",
        FLOOR_ROOTS,
        (f) => needsRuntime.has(f),
        (f) => `, which needs it as ${chain(reach(graph, [f]), "src/core/runtime.ts")}`,
      ),
      ...violations(
        graph,
        "floor: the runtime, DType and the checks import nothing above the runtime",
        FLOOR_ROOTS,
        (f) => ENTRIES.has(f) || inFolders(ABOVE_FLOOR)(f),
      ),
    ];
    expect(found).toEqual([]);
    // DType and the checks live at or below the runtime: it reaches them, they do not reach it.
    const floor = reach(graph, ["src/core/runtime.ts"]);
    const dtypeFile = [...graph.keys()].find((f) => /^export type DType\b/m.test(readFileSync(join(root, f), "utf8")));
    expect(dtypeFile && floor.has(dtypeFile), `the file declaring DType (${dtypeFile}) is reached by src/core/runtime.ts`).toBe(true);
    for (const f of ["src/core/dtype.ts", "src/core/validate.ts"]) expect(needsRuntime.has(f), `${f} must not need src/core/runtime.ts`).toBe(false);
  });

  it("ops: src/ops/* and src/core/tensor.ts reach nothing in layers, models, training, data, io, nn, onnx", () => {
    const starts = [...graph.keys()].filter((f) => f.startsWith("src/ops/") || f === "src/core/tensor.ts");
    expect(
      violations(
        graph,
        "ops: ops and tensor.ts import nothing from layers, models, training, data, io, nn, onnx (nor the entries)",
        starts,
        (f) => ENTRIES.has(f) || inFolders(ABOVE_OPS)(f),
      ),
    ).toEqual([]);
  });

  it("no-solver: src/data/* and src/io/* reach nothing in src/training/", () => {
    const starts = [...graph.keys()].filter((f) => f.startsWith("src/data/") || f.startsWith("src/io/"));
    expect(violations(graph, "no-solver: data and io import nothing from training", starts, inFolders(["training"]))).toEqual([]);
  });

  it("parts: src/ holds only the entries loose, every other file in the folder of its part", () => {
    const loose = [...graph.keys()].filter((f) => partOf(f) === f && !ENTRIES.has(f));
    expect(loose.map((f) => `${f} lies loose in src/: breaks rule "parts" (move it into the folder of its part)`)).toEqual([]);
  });

  it("cycles: no import cycle among the parts of src/ beyond those allowed, with a reason", () => {
    // Part graph, without the entries (see the header), and each part-level edge's file imports.
    const edges = new Map<string, Map<string, string[]>>();
    for (const [file, targets] of graph) {
      if (ENTRIES.has(file)) continue;
      for (const target of targets) {
        const [a, b] = [partOf(file), partOf(target)];
        if (a === b || ENTRIES.has(target) || target.startsWith(GENERATED)) continue;
        if (!edges.has(a)) edges.set(a, new Map());
        const list = edges.get(a)!.get(b) ?? [];
        list.push(`${file} imports ${target}`);
        edges.get(a)!.set(b, list);
      }
    }
    const found: string[] = [];
    for (const component of stronglyConnected(edges)) {
      if (component.length < 2) continue;
      if (ALLOWED_CYCLES.some((c) => component.every((p) => c.parts.includes(p)))) continue;
      const imports = component.flatMap((a) => component.flatMap((b) => edges.get(a)?.get(b) ?? []));
      found.push(`parts ${component.join(", ")} import each other: breaks rule "cycles" (${imports.join("; ")})`);
    }
    expect(found).toEqual([]);
    // An allowance nothing needs any more is dropped, so the list says what is true.
    for (const allowed of ALLOWED_CYCLES) {
      const parts = new Set(allowed.parts);
      const inside = new Map([...edges].filter(([a]) => parts.has(a)).map(([a, to]) => [a, new Map([...to].filter(([b]) => parts.has(b)))]));
      expect(
        stronglyConnected(inside).some((c) => c.length > 1),
        `allowed cycle ${allowed.parts.join(", ")} still exists`,
      ).toBe(true);
    }
  });

  it("names the importing file, the imported file and the rule when a rule breaks", () => {
    // A made-up graph: the runtime importing a layer.
    const bad: Graph = new Map([
      ["src/core/runtime.ts", ["src/layers/x.ts"]],
      ["src/layers/x.ts", ["src/core/runtime.ts"]],
    ]);
    const [message] = violations(bad, "floor", ["src/core/runtime.ts"], inFolders(ABOVE_FLOOR));
    expect(message).toBe('src/core/runtime.ts imports src/layers/x.ts: breaks rule "floor" (reached as src/core/runtime.ts)');
  });
});

/** Tarjan's strongly connected components of a graph given as node -> (node -> anything). */
function stronglyConnected(edges: Map<string, Map<string, unknown>>): string[][] {
  const nodes = new Set<string>([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      out.push(component.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return out;
}
