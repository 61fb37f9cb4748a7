// Kernel families first used after init(): an app code-split so that its conv code (and with it
// the conv family's descriptor and bytes) is a chunk it imports later, as a page imports a route.
// The family is then instantiated on first use, synchronously, on the worker threads too, with the
// bits of an app that had it from the start; where compiling synchronously is refused, the error
// says what works, and `await init()` loads it. Needs `npm run build` (npm test does it).
// The apps are bundled from the sources: bundlers split by module, and dist/tensorlane.js is one
// module, so an app of the shipped bundle registers every family it uses when the bundle loads,
// before init(). From the sources, an app whose entry imports init from the runtime alone
// ("tensorlane-runtime": src/core/runtime.ts) and its later chunk the layers gets the conv family late.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "tensorlane-families-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The conv work, in a module of its own: a code-splitting bundler makes it a chunk of its own.
const CONV_PART = `import { randn, zeros, Conv, MaxPool } from "tensorlane";
export function run() {
  const x = randn([8, 8, 32, 32], { seed: 1 });
  const w = randn([16, 8, 3, 3], { seed: 2, std: 0.1 });
  const [out] = Conv.forward(x, w, zeros([16]), { stride: 1, pad: 1 });
  const [pooled] = MaxPool.forward(out, { poolHeight: 2, poolWidth: 2, stride: 2 });
  return Array.from(pooled.toArray().subarray(0, 4096)).join(",");
}
export const usable = () => randn([2], { seed: 1 }).toArray().length === 2;`;

/** Bundles `main` (which may import ./conv-part.js) code-split, runs it, returns what it printed. */
async function run(name: string, main: string): Promise<string> {
  const { build } = await import("esbuild");
  const app = join(dir, name);
  mkdirSync(app);
  writeFileSync(join(app, "conv-part.js"), CONV_PART);
  writeFileSync(join(app, "main.js"), main);
  const result = await build({
    entryPoints: [join(app, "main.js")],
    bundle: true,
    format: "esm",
    platform: "node",
    splitting: true,
    outdir: join(app, "out"),
    logLevel: "silent",
    alias: { tensorlane: join(root, "src", "index.ts"), "tensorlane-runtime": join(root, "src", "core", "runtime.ts") },
  });
  expect(result.errors).toEqual([]);
  // The thread worker is found beside the bundle, as an app's build copies it.
  execFileSync("cp", [join(root, "dist", "tensorlane-worker.js"), join(app, "out")]);
  return execFileSync(process.execPath, [join(app, "out", "main.js")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

describe("kernel families imported after init()", () => {
  let eager = "";

  beforeAll(async () => {
    expect(existsSync(join(root, "dist", "tensorlane.js")), "run `npm run build` first").toBe(true);
    eager = await run("eager", `import { init } from "tensorlane";\nimport { run } from "./conv-part.js";\nawait init();\nconsole.log(run());`);
    expect(eager.split(",")).toHaveLength(4096);
  });

  it("load on first use, synchronously, with the bits of an app that had them from the start", async () => {
    const late = await run(
      "late",
      `import { init } from "tensorlane-runtime";
await init();
const { run } = await import("./conv-part.js");
console.log(run());`,
    );
    expect(late).toBe(eager);
  });

  it("are late indeed: the conv family's bytes are in the chunk imported after init(), not in the entry's", async () => {
    const { build } = await import("esbuild");
    const app = join(dir, "layout");
    mkdirSync(app);
    writeFileSync(join(app, "conv-part.js"), CONV_PART);
    writeFileSync(
      join(app, "main.js"),
      `import { init } from "tensorlane-runtime";\nawait init();\nconst { run } = await import("./conv-part.js");\nconsole.log(run());`,
    );
    const result = await build({
      entryPoints: [join(app, "main.js")],
      bundle: true,
      format: "esm",
      platform: "node",
      splitting: true,
      outdir: join(app, "out"),
      metafile: true,
      logLevel: "silent",
      alias: { tensorlane: join(root, "src", "index.ts"), "tensorlane-runtime": join(root, "src", "core", "runtime.ts") },
    });
    const chunkOf = (input: string) =>
      Object.entries(result.metafile!.outputs)
        .filter(([, o]) => Object.keys(o.inputs).some((i) => i.endsWith(input)))
        .map(([f]) => f);
    expect(chunkOf("src/generated/wasm-conv-base64.ts")).toEqual(chunkOf("conv-part.js"));
    expect(chunkOf("src/generated/wasm-core-base64.ts")).not.toEqual(chunkOf("conv-part.js"));
  });

  it("with worker threads running, reach the workers too (the conv splits over 2 threads) with the same bits", async () => {
    const late = await run(
      "late-threads",
      `import { init, dispose, runtimeInfo } from "tensorlane-runtime";
import { kernelIndexOf } from ${JSON.stringify(join(root, "src", "core", "threads", "state.ts"))};
await init({ threads: 2 });
const before = kernelIndexOf("conv_forward_images");
const { run } = await import("./conv-part.js");
const out = run();
if (runtimeInfo().threads !== 2) throw new Error("threads: " + JSON.stringify(runtimeInfo()));
if (before !== undefined || kernelIndexOf("conv_forward_images") === undefined) throw new Error("the workers did not get the conv kernels late");
dispose();
console.log(out);`,
    );
    expect(late).toBe(eager);
  });

  it("where compiling synchronously is refused (Cloudflare Workers), the error says what works, the library stays usable, and `await init()` loads them", async () => {
    const out = await run(
      "refused",
      `import { init } from "tensorlane-runtime";
await init();
const Module = WebAssembly.Module;
WebAssembly.Module = function () { throw new WebAssembly.CompileError("WebAssembly.Module(): Wasm code generation disallowed by embedder"); };
const { run } = await import("./conv-part.js");
let message = "";
try { run(); } catch (error) { message = error.message; }
const usable = (await import("./conv-part.js")).usable();
await init();
const result = run();
WebAssembly.Module = Module;
console.log(JSON.stringify({ message, usable, result }));`,
    );
    const { message, usable, result } = JSON.parse(out) as { message: string; usable: boolean; result: string };
    expect(message).toMatch(/the conv kernels are first needed after init\(\)/);
    expect(message).toMatch(/does not compile WebAssembly synchronously \(.*disallowed by embedder\)/);
    expect(message).toMatch(/Import that code before calling init\(\), or call `await tl\.init\(\)` once after importing it/);
    expect(message).toMatch(/init\(\{ module \}\) with tensorlane\/wasm/);
    expect(usable).toBe(true);
    expect(result).toBe(eager);
  });

  it("init({ bytes }) with the full module (tensorlane/wasm) loads no family and runs every kernel", async () => {
    const out = await run(
      "full",
      `import { init } from "tensorlane-runtime";
import { readFileSync } from "node:fs";
await init({ bytes: readFileSync(${JSON.stringify(join(root, "dist", "tensorlane.wasm"))}) });
WebAssembly.Module = function () { throw new Error("no module may be compiled: the full one holds every kernel"); };
const { run } = await import("./conv-part.js");
console.log(run());`,
    );
    expect(out).toBe(eager);
  });
});
