#!/usr/bin/env node
// Compares the core module's code with the one an earlier revision builds: for each export, the
// function bodies it reaches, in the release build's text format with every name erased.
//   node scripts/compare-kernels.mjs <git-revision> [--module core|f64] [--show EXPORT]
//   node scripts/compare-kernels.mjs --families [--show FAMILY:EXPORT]
// Equal bodies are the same instructions in the same order, hence the same bits in every engine:
// the proof that a rewrite of a kernel's source (e.g. over the element type `real`) left the
// float32 kernels exactly as they were. Prints the exports whose code differs; exits 1 if any.
// A difference is not always a change of bits: Binaryen may declare locals in another order or
// schedule independent instructions differently. `--show EXPORT` prints the instruction diff
// (diff -u of the name-erased text) to judge; the kernel specs and the pinned scenario hash decide.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// --families: the kernel families' modules (build/families/*.wat) against the full module of the
// same build (build/tensorlane.wat), export by export: the split changes the grouping, and Binaryen
// may optimize a kernel differently in a smaller module (operand order, a constant argument
// propagated); `--show FAMILY:EXPORT` prints the diff to judge. Needs `npm run build:wasm`.
if (process.argv.includes("--families")) {
  const full = reachable(readFileSync(join(root, "build", "tensorlane.wat"), "utf8"));
  const show = process.argv.includes("--show") ? process.argv[process.argv.indexOf("--show") + 1] : undefined;
  let same = 0;
  const differ = [];
  for (const file of readdirSync(join(root, "build", "families")).filter((f) => f.endsWith(".wat") && !f.includes(".debug"))) {
    const family = file.replace(/\.wat$/, "");
    const split = reachable(readFileSync(join(root, "build", "families", file), "utf8"));
    for (const [name, body] of split) {
      if (full.get(name) === body) same++;
      else differ.push(`${family}:${name}`);
      if (show === `${family}:${name}`) {
        const dir = mkdtempSync(join(tmpdir(), "tensorlane-kernels-diff-"));
        writeFileSync(join(dir, "full.wat"), `${full.get(name)}\n`);
        writeFileSync(join(dir, "family.wat"), `${body}\n`);
        spawnSync("diff", ["-u", join(dir, "full.wat"), join(dir, "family.wat")], { stdio: "inherit" });
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  console.log(`families against the full module: ${same} exports with the same code, ${differ.length} differ${differ.length ? `: ${differ.join(", ")}` : ""}`);
  process.exit(0);
}
const [revision] = process.argv.slice(2).filter((a, i, all) => !a.startsWith("--") && !(i > 0 && all[i - 1].startsWith("--")));
const option = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const which = option("--module") ?? "core";
const show = option("--show");
if (!revision) {
  console.error("usage: node scripts/compare-kernels.mjs <git-revision> [--module core|f64]");
  process.exit(2);
}
const asc = join(root, "node_modules", ".bin", "asc");

/** Builds assembly/ as of `rev` (or the working tree for null); returns the module's text. */
function build(rev) {
  const dir = mkdtempSync(join(tmpdir(), "tensorlane-kernels-"));
  try {
    let src = root;
    if (rev !== null) {
      execFileSync("sh", ["-c", `git -C "${root}" archive ${rev} assembly asconfig.json | tar -x -C "${dir}"`]);
      src = dir;
    }
    const entry = which === "f64" ? "assembly/f64.ts" : "assembly/index.ts";
    const extra = which === "f64" ? ["--use", "real=f64", "--importMemory"] : ["--use", "real=f32"];
    execFileSync(
      asc,
      [entry, "--config", "asconfig.json", "--target", "release", "--outFile", join(dir, "m.wasm"), "--textFile", join(dir, "m.wat"), ...extra],
      {
        cwd: src,
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    return readFileSync(join(dir, "m.wat"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Export name -> the normalized bodies of the functions it reaches (itself first, then callees in first-call order). */
function reachable(wat) {
  const bodies = new Map();
  for (const m of wat.matchAll(/\n \(func \$(\S+) (.*?)\n \)/gs)) bodies.set(m[1], m[2]);
  const erase = (text) => text.replace(/\$[^\s()]+/g, "$");
  const out = new Map();
  for (const m of wat.matchAll(/\(export "(\w+)" \(func \$(\S+?)\)\)/g)) {
    const seen = [];
    const visit = (name) => {
      if (seen.includes(name) || !bodies.has(name)) return;
      seen.push(name);
      for (const call of bodies.get(name).matchAll(/\bcall \$(\S+)/g)) visit(call[1]);
    };
    visit(m[2]);
    out.set(m[1], seen.map((name) => erase(bodies.get(name))).join("\n;;\n"));
  }
  return out;
}

const before = reachable(build(revision));
const now = reachable(build(null));
const differ = [...now.keys()].filter((name) => before.has(name) && before.get(name) !== now.get(name));
const added = [...now.keys()].filter((name) => !before.has(name));
const removed = [...before.keys()].filter((name) => !now.has(name));
console.log(`${which} module against ${revision}: ${now.size - added.length - differ.length} exports with the same code, ${differ.length} differ`);
if (differ.length) console.log(`  differ: ${differ.join(", ")}`);
if (added.length) console.log(`  new: ${added.join(", ")}`);
if (removed.length) console.log(`  gone: ${removed.join(", ")}`);
if (show !== undefined) {
  if (!before.has(show) || !now.has(show)) throw new Error(`--show: ${show} is not an export of both builds`);
  const dir = mkdtempSync(join(tmpdir(), "tensorlane-kernels-diff-"));
  writeFileSync(join(dir, "before.wat"), `${before.get(show)}\n`);
  writeFileSync(join(dir, "now.wat"), `${now.get(show)}\n`);
  spawnSync("diff", ["-u", join(dir, "before.wat"), join(dir, "now.wat")], { stdio: "inherit" });
  rmSync(dir, { recursive: true, force: true });
}
process.exit(differ.length ? 1 : 0);
