// docs/bring-a-pytorch-model.md runs as written: every ts/js block in Node, on its own, in a
// fresh folder, against the built package imported by name (as test/readme.test.ts runs the
// README). A block's input files are named in an HTML comment just before it:
//   <!-- doctest: files model.onnx=test/fixtures/torch/finetune/pretrained_0to4.onnx -->
// (name in the folder = path in the repository). Python blocks are not run here (test/torch and
// the fixtures' scripts cover PyTorch's side).
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { transformSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const DOC = "docs/bring-a-pytorch-model.md";
const dir = mkdtempSync(join(tmpdir(), "tensorlane-docs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HAVE_DATA = existsSync("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");

interface Block {
  line: number;
  lang: string;
  heading: string;
  code: string;
  files: Record<string, string>;
}

function blocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const out: Block[] = [];
  let heading = "(top)";
  let files: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(`{3,})\s*([\w-]*)/.exec(lines[i]);
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && l.startsWith(fence[1]));
      if (end < 0) throw new Error(`${DOC}:${i + 1}: a code fence that never closes`);
      out.push({ line: i + 1, lang: fence[2].toLowerCase(), heading, code: lines.slice(i + 1, end).join("\n"), files });
      files = {};
      i = end;
      continue;
    }
    const h = /^#{1,6}\s+(.*)$/.exec(lines[i]);
    if (h) heading = h[1].trim();
    const c = /^<!--\s*doctest:\s*files\s+(.*?)\s*-->\s*$/.exec(lines[i]);
    if (c) files = Object.fromEntries(c[1].split(/\s+/).map((pair) => pair.split("=") as [string, string]));
  }
  return out;
}

const all = blocks(readFileSync(join(root, DOC), "utf8"));
const runnable = all.filter((b) => ["ts", "typescript", "js", "javascript"].includes(b.lang));

describe(DOC, () => {
  it("has TypeScript blocks for import, fine-tuning, export and state_dicts, and Python for PyTorch's side", () => {
    expect(runnable.length).toBeGreaterThanOrEqual(4);
    expect(all.filter((b) => b.lang === "python").length).toBeGreaterThanOrEqual(2);
    for (const b of all) expect(["ts", "python"], `${DOC}:${b.line} has language "${b.lang}"`).toContain(b.lang);
  });

  for (const block of runnable) {
    const needsData = block.code.includes("/usr/share/datasets/fashion-mnist");
    it.skipIf(needsData && !HAVE_DATA && !process.env.CI)(`the ${block.lang} block at ${DOC}:${block.line} ("${block.heading}") runs as written`, () => {
      expect(existsSync(join(root, "dist", "onnx.js")), "run `npm run build` first").toBe(true);
      const app = join(dir, `line-${block.line}`);
      mkdirSync(join(app, "node_modules"), { recursive: true });
      symlinkSync(root, join(app, "node_modules", "tensorlane"), "dir");
      writeFileSync(join(app, "package.json"), JSON.stringify({ type: "module", private: true }));
      for (const [name, path] of Object.entries(block.files)) copyFileSync(join(root, path), join(app, name));
      writeFileSync(join(app, "block.mjs"), transformSync(block.code, { loader: "ts", format: "esm", target: "node20" }).code);
      try {
        const out = execFileSync(process.execPath, ["--enable-source-maps", "block.mjs"], { cwd: app, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
        console.log(`${DOC}:${block.line}:\n${out.trim().slice(-1500)}`);
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string; message: string };
        throw new Error(`${DOC}:${block.line} (under "${block.heading}") fails when run as written:\n${(e.stderr || e.message).trim()}\n${(e.stdout ?? "").trim().slice(-2000)}`);
      }
    });
  }
});
