// What a browser downloads to run each library: raw bytes and gzip -9 bytes, per file and total.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";

const require = createRequire(import.meta.url);
const local = (p) => new URL(p, import.meta.url);

export const BUNDLES = {
  // The single ESM bundle; the wasm is inlined in it as base64.
  tensorlane: [local("../dist/tensorlane.js")],
  // The minified JS of tfjs-core and the wasm backend, and the SIMD .wasm it fetches.
  "tfjs-wasm": [
    require.resolve("@tensorflow/tfjs-core/dist/tf-core.min.js"),
    require.resolve("@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js"),
    require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"),
  ],
  "tfjs-cpu": [require.resolve("@tensorflow/tfjs-core/dist/tf-core.min.js"), require.resolve("@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js")],
  convnetjs: [require.resolve("convnetjs/build/convnet-min.js")],
};

/** name -> { raw, gzip, files: [{ file, raw, gzip }] } or { unavailable }. */
export function measureBundles() {
  const out = {};
  for (const [name, files] of Object.entries(BUNDLES)) {
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length > 0) {
      out[name] = { unavailable: `missing ${missing.map(String).join(", ")} (run \`npm run build\`)` };
      continue;
    }
    const rows = files.map((f) => {
      const bytes = readFileSync(f);
      const file = String(f)
        .replace(/^.*node_modules\//, "")
        .replace(/^file:.*\/(dist\/)/, "$1");
      return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
    out[name] = { raw: sum(rows, "raw"), gzip: sum(rows, "gzip"), files: rows };
  }
  return out;
}

function sum(rows, key) {
  return rows.reduce((s, r) => s + r[key], 0);
}
