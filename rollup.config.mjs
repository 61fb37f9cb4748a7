// Bundles the platform-neutral library with the wasm inlined (as base64 in src/generated):
//   dist/tensorlane.js       ESM, for Node, browsers, bundlers, Deno, Bun (`import "tensorlane"`)
//   dist/tensorlane.iife.js  a plain <script> build that sets the global `tensorlane`
//   dist/tensorlane.wasm     the standalone module (`tensorlane/wasm`), for runtimes that need a
//                            precompiled WebAssembly.Module (Cloudflare Workers): init({ module })
// Hand-written declarations for the non-TypeScript entries (types/*.d.ts) are copied beside the
// ones tsc emits into dist/types.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import esbuild from "rollup-plugin-esbuild";

const copyAssets = {
  name: "copy-standalone-wasm-and-entry-types",
  writeBundle() {
    mkdirSync("dist/types", { recursive: true });
    copyFileSync("build/tensorlane.wasm", "dist/tensorlane.wasm");
    for (const file of readdirSync("types")) copyFileSync(`types/${file}`, `dist/types/${file}`);
  },
};

const plugins = [esbuild({ target: "es2022", minify: true })];

export default [
  {
    input: "src/index.ts",
    output: { file: "dist/tensorlane.js", format: "es", sourcemap: true },
    plugins: [...plugins, copyAssets],
  },
  {
    input: "src/index.ts",
    output: { file: "dist/tensorlane.iife.js", format: "iife", name: "tensorlane", sourcemap: true },
    plugins,
  },
];
