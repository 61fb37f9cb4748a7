#!/usr/bin/env node
// npm's `prepare` script: builds the library's dist/ when it is missing or older than its
// sources. npm runs it when it installs tensorlane from a git URL (in the clone it makes, after
// installing the devDependencies) and after `npm ci` / `npm i` in a clone of this repository, so
// that `import "tensorlane"` finds dist/tensorlane.js. An up-to-date dist/ is left alone, so a
// repeated `npm ci` costs nothing; `npm test` and `npm run build` always rebuild.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) {
    if (name === "generated") continue; // written by the build itself
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

const sources = ["src", "assembly", "types", "scripts/build-wasm.mjs", "rollup.config.mjs", "asconfig.json", "tsconfig.json", "tsconfig.types.json"];
const entry = join(root, "dist", "tensorlane.js");
const built = existsSync(entry) && existsSync(join(root, "dist", "types", "index.d.ts")) ? statSync(entry).mtimeMs : 0;
if (built !== 0 && sources.every((s) => newestMtime(join(root, s)) <= built)) process.exit(0);

process.stdout.write("tensorlane: building dist/ (wasm kernels, bundles, types; about 20 s)\n");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const result = spawnSync(npm, ["run", "build:lib", "--silent"], { cwd: root, stdio: "inherit" });
if (result.status !== 0) {
  process.stderr.write("tensorlane: building dist/ failed (above). A git or folder install needs the devDependencies (npm installs them for a git URL).\n");
  process.exit(result.status ?? 1);
}
