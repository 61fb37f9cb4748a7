// The shipped files: entry points and their types, no eval / new Function / network in any bundle,
// the <script> build's global, and downstream consumers (Node by package name, esbuild, Vite,
// TypeScript) that use the package with no configuration. Needs `npm run build` (npm test does it).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runInNewContext } from "node:vm";
import { inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const dist = join(root, "dist");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  exports: Record<string, string | Record<string, string>>;
};
// Line continuations (backslash, newline) are not part of a string literal: esbuild's lineLimit breaks
// the inlined base64 with them (rollup.config.mjs), so they are joined before looking at the code.
const read = (file: string) => readFileSync(join(dist, file), "utf8").replace(/\\\n/g, "");

// Code generation from strings, and every way to reach the network or the file system.
const FORBIDDEN: [string, RegExp][] = [
  ["eval", /\beval\s*\(/],
  ["new Function", /\bnew\s+Function\b/],
  ["Function(...)", /(?<![\w$.])Function\s*\(/],
  ["setTimeout with a string", /\bset(?:Timeout|Interval)\s*\(\s*["'`]/],
  ["fetch", /\bfetch\s*\(/],
  ["XMLHttpRequest", /\bXMLHttpRequest\b/],
  ["WebSocket", /\bWebSocket\b/],
  ["importScripts", /\bimportScripts\b/],
  ["dynamic import", /(?<![\w$.])import\s*\(/],
  ["require", /(?<![\w$.])require\s*\(/],
  ["a node: module", /["']node:/],
];

/** What a bundle does that it must not; the inlined base64 wasm is removed first (it is data). */
function forbiddenIn(code: string): string[] {
  const withoutData = code.replace(/"[A-Za-z0-9+/=]{1000,}"/g, '""');
  return FORBIDDEN.filter(([, re]) => re.test(withoutData)).map(([what, re]) => `${what}: ${withoutData.match(re)![0]}`);
}

/**
 * The dynamic imports allowed: the lazily loaded chunks that start threads and hold the float64
 * kernels (as rollup, or a consumer's bundler, names them).
 */
const LAZY_CHUNK_IMPORT = /import\(\s*["']\.\/(?:chunks\/|assets\/)?(?:threads|float64)-[\w-]+\.js["']\s*\)/g;

function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

describe("dist files and the exports map", () => {
  it("the scan for forbidden constructs catches each of them (so a clean result means something)", () => {
    const samples = [
      'eval("1")',
      'new Function("a")',
      'Function("return 1")()',
      'setTimeout("x()", 1)',
      "fetch(url)",
      "new XMLHttpRequest()",
      "new WebSocket(u)",
      "importScripts(u)",
      'import("./x.js")',
      'require("fs")',
      'from "node:fs"',
    ];
    samples.forEach((code, i) => expect(forbiddenIn(code), code).toEqual(expect.arrayContaining([expect.stringContaining(FORBIDDEN[i][0])])));
    expect(forbiddenIn("x.isFunction(y); obj.eval2(); typeof f === 'function'; evaluate(x)")).toEqual([]);
  });

  for (const file of ["tensorlane.js", "tensorlane.iife.js"]) {
    it(`${file} has no eval, no new Function, no network or file access`, () => {
      // The allowed exceptions: the ESM entry loads what starts worker threads and the float64
      // kernels, chunks of their own, only when init({ threads, float64 }) asks for them (the
      // IIFE build has both inlined).
      const code = read(file);
      const lazy = code.match(LAZY_CHUNK_IMPORT) ?? [];
      expect(new Set(lazy).size, "distinct lazily loaded chunks").toBe(file === "tensorlane.js" ? 2 : 0);
      expect(forbiddenIn(code.replace(LAZY_CHUNK_IMPORT, ""))).toEqual([]);
    });
  }

  it("the threads and float64 chunks and the thread worker script have no eval, no network, no imports", () => {
    const chunk = (name: string) => `chunks/${read("tensorlane.js").match(new RegExp(`\\./chunks/(${name}-[\\w-]+\\.js)`))![1]}`;
    for (const file of [chunk("threads"), chunk("float64"), "tensorlane-worker.js"]) {
      expect(forbiddenIn(read(file)), file).toEqual([]);
      expect(read(file), `${file} imports nothing`).not.toMatch(/(^|[;}])\s*import\b|\bfrom\s*["']/);
    }
  });

  it("every entry point has types listed first and both files exist", () => {
    const entries = Object.entries(pkg.exports).filter(([key]) => key !== "./package.json");
    expect(entries.map(([key]) => key)).toEqual(expect.arrayContaining([".", "./wasm", "./wasm-f64", "./iife"]));
    for (const [key, target] of entries) {
      expect(typeof target, `exports["${key}"] must give conditions`).toBe("object");
      const conditions = target as Record<string, string>;
      expect(Object.keys(conditions)[0], `exports["${key}"]: "types" must come first`).toBe("types");
      for (const [condition, file] of Object.entries(conditions)) {
        expect(existsSync(join(root, file)), `exports["${key}"].${condition} -> ${file}`).toBe(true);
      }
      expect(conditions.types).toMatch(/\.d\.ts$/);
    }
  });

  it("tensorlane/wasm-f64 is inlined in the float64 chunk; tensorlane/wasm's kernels are the inlined core and families, each exported once", () => {
    // Inlined modules are base64 strings of 400 characters or more (the smallest family, optim, has 636).
    // Base64 of a zlib header: "eN" + one of o-r is 78 DA (zopfli's, the core and float64 modules),
    // "eP" is 78 F9 (level 9 with a preset dictionary: the families, deflated with the core as one).
    const inlined = (file: string) => [...read(file).matchAll(/"(e[NP][A-Za-z0-9+/=]{400,})"/g)].map((m) => decodeBase64(m[1]));
    const float64Chunk = `chunks/${read("tensorlane.js").match(/\.\/chunks\/(float64-[\w-]+\.js)/)![1]}`;
    const f64 = new Uint8Array(readFileSync(join(root, (pkg.exports["./wasm-f64"] as Record<string, string>).default)));
    expect(WebAssembly.validate(f64)).toBe(true);
    for (const file of [float64Chunk, "tensorlane.iife.js"]) {
      expect(
        inlined(file).some((b) => !(b[1] & 0x20) && Buffer.compare(inflateSync(b), f64) === 0),
        `${file} inlines tensorlane/wasm-f64`,
      ).toBe(true);
    }
    const full = new WebAssembly.Module(readFileSync(join(root, (pkg.exports["./wasm"] as Record<string, string>).default)));
    const functions = (m: WebAssembly.Module) =>
      WebAssembly.Module.exports(m)
        .filter((e) => e.kind === "function")
        .map((e) => e.name);
    for (const file of ["tensorlane.js", "tensorlane.iife.js"]) {
      // FDICT (bit 5 of the header's second byte) marks the families; of the others, the one that is not float64 is the core.
      const families = inlined(file).filter((b) => b[1] & 0x20);
      const [core, ...rest] = inlined(file).filter((b) => !(b[1] & 0x20) && Buffer.compare(inflateSync(b), f64) !== 0);
      expect(rest, `${file}: one core module`).toEqual([]);
      const coreBytes = inflateSync(core);
      const modules = [coreBytes, ...families.map((b) => inflateSync(b, { dictionary: coreBytes }))].map((bytes) => new WebAssembly.Module(bytes));
      expect(modules.length, `${file}: the core and seven families`).toBe(8);
      const exported = modules.flatMap(functions);
      expect(exported.slice().sort(), `${file}: every kernel of tensorlane/wasm, once`).toEqual(functions(full).sort());
      for (const m of modules.slice(1))
        expect(
          WebAssembly.Module.imports(m).some((i) => i.kind === "memory"),
          `${file}: a family imports the core's memory`,
        ).toBe(true);
    }
  });

  it("the <script> build defines the global `tensorlane` with the ESM bundle's API and bits", async () => {
    // A fresh realm, like a page's classic script, with the web APIs a page has that init() uses
    // to decode and inflate the inlined wasm (vm contexts get only the JavaScript built-ins).
    const context: Record<string, unknown> & { tensorlane?: Record<string, unknown> } = { atob, DecompressionStream, Blob, Response };
    runInNewContext(read("tensorlane.iife.js"), context);
    const global = context.tensorlane as unknown as typeof import("../src/index.js");
    expect(global).toBeDefined();
    const esm = (await import(/* @vite-ignore */ pathToFileURL(join(dist, "tensorlane.js")).href)) as Record<string, unknown>;
    expect(Object.keys(global).sort()).toEqual(Object.keys(esm).sort());
    await global.init();
    const values = global.randn([5], { seed: 3 }).toArray();
    const tl = esm as unknown as typeof import("../src/index.js");
    await tl.init();
    expect(Array.from(values)).toEqual(Array.from(tl.randn([5], { seed: 3 }).toArray()));
  });
});

describe("consumers need no configuration", () => {
  let app = "";
  // What `node main.js` prints when main.js imports "tensorlane" through node_modules.
  let expected = "";

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), "tensorlane-consumer-"));
    cpSync(join(root, "test", "fixtures", "consumer"), app, { recursive: true });
    mkdirSync(join(app, "node_modules"));
    symlinkSync(root, join(app, "node_modules", "tensorlane"), "dir");
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  const runNode = (file: string) => {
    const run = spawnSync(process.execPath, [file], { cwd: app, encoding: "utf8", timeout: 30_000 });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    return run.stdout.trim();
  };

  it("Node resolves the package by name and runs it", () => {
    expected = runNode("main.js");
    expect(JSON.parse(expected).shape).toEqual([2, 3]);
  });

  it("esbuild bundles it for the browser with default settings", async () => {
    const { build } = await import("esbuild");
    const outfile = join(app, "esbuild-out.js");
    const result = await build({ entryPoints: [join(app, "main.js")], bundle: true, format: "esm", platform: "browser", outfile, logLevel: "silent" });
    expect(result.errors).toEqual([]);
    expect(forbiddenIn(readFileSync(outfile, "utf8"))).toEqual([]);
    expect(runNode(outfile)).toBe(expected);
  });

  it("Vite builds it with no plugin or config", async () => {
    const { build } = await import("vite");
    const outDir = join(app, "vite-out");
    await build({
      root: app,
      configFile: false,
      logLevel: "silent",
      build: { outDir, minify: false, lib: { entry: join(app, "main.js"), formats: ["es"], fileName: "main" } },
    });
    const out = join(outDir, "main.js");
    // Vite keeps the threads and float64 chunks separate (and emits tensorlane-worker.js as an asset).
    expect(forbiddenIn(readFileSync(out, "utf8").replace(LAZY_CHUNK_IMPORT, ""))).toEqual([]);
    expect(runNode(out)).toBe(expected);
  }, 60_000);

  for (const [resolution, flags] of [
    ["NodeNext", []],
    // The declarations themselves are checked once (skipLibCheck false in the fixture's tsconfig).
    ["Bundler", ["--module", "preserve", "--moduleResolution", "bundler", "--skipLibCheck"]],
  ] as const) {
    it(`TypeScript (${resolution} resolution) types "tensorlane", "tensorlane/wasm" and the global from dist/types`, () => {
      const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
      const run = spawnSync(process.execPath, [tsc, "-p", join(app, "tsconfig.json"), ...flags], { encoding: "utf8", timeout: 60_000 });
      expect(run.stdout + run.stderr).toBe("");
      expect(run.status).toBe(0);
    }, 60_000);
  }
});
