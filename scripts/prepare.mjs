#!/usr/bin/env node
// npm's `prepare` script: builds the library's dist/ when it is missing or older than its
// sources, so that `import "tensorlane"` finds dist/tensorlane.js however it was installed:
// - `npm i <git-url>`: npm clones, installs the devDependencies, runs this, packs dist/;
// - `npm i <folder>`: npm links the folder and runs this in it; a fresh clone has no
//   devDependencies yet, so this installs them first (`npm ci`, once) and then builds;
// - `npm i` in a clone of this repository (`npm ci` there skips it: the test, build and start
//   scripts build anyway).
// An up-to-date dist/ is left alone, so a repeated `npm ci` costs nothing; `npm test` and
// `npm run build` always rebuild.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isStale } from "./staleness.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// `npm ci` in this repository (a developer's or CI's clone): `npm test`, `npm run build` and
// `npm start` build anyway, so the install does not spend 20 s on it first.
if (process.env.npm_command === "ci" && process.env.INIT_CWD !== undefined && resolve(process.env.INIT_CWD) === root) process.exit(0);

const sources = ["src", "assembly", "types", "scripts/build-wasm.mjs", "rollup.config.mjs", "asconfig.json", "tsconfig.json", "tsconfig.types.json"];
const entry = join(root, "dist", "tensorlane.js");
if (existsSync(join(root, "dist", "types", "index.d.ts")) && !isStale(root, entry, sources)) process.exit(0);

// The npm that runs this script (npm_execpath): `npm` on PATH may be the npm 6 that a
// devDependency puts in node_modules/.bin.
const npmCli = process.env.npm_execpath;
const npm = (args, options) =>
  npmCli ? spawnSync(process.execPath, [npmCli, ...args], options) : spawnSync(process.platform === "win32" ? "npm.cmd" : "npm", args, options);
if (!existsSync(join(root, "node_modules", "assemblyscript", "package.json"))) {
  // A folder install of a fresh clone: the build tools are devDependencies; then build below.
  process.stdout.write(`tensorlane: installing the build tools (devDependencies) in ${root}\n`);
  const ci = npm(["ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: root, stdio: "inherit" });
  if (ci.status !== 0) {
    process.stderr.write(`tensorlane: \`npm ci\` in ${root} failed (above); run it there yourself, then install the folder again\n`);
    process.exit(ci.status ?? 1);
  }
}

process.stdout.write("tensorlane: building dist/ (wasm kernels, bundles, types; about 20 s)\n");
const result = npm(["run", "build:lib", "--silent"], { cwd: root, stdio: "inherit" });
if (result.status !== 0) {
  process.stderr.write("tensorlane: building dist/ failed (above). A git or folder install needs the devDependencies (npm installs them for a git URL).\n");
  process.exit(result.status ?? 1);
}
