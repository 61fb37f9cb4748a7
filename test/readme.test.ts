// The README runs as written: every fenced ts/js block is run in Node, on its own, against the
// built package (imported by name, as after `npm i tensorlane`). A block that cannot run here
// says why in an HTML comment just before it, e.g.
//   <!-- doctest: skip (needs a browser) -->
// and shell, HTML, Python and plain blocks are listed as skipped with the reason. A failure names
// the block's heading and line, with what Node printed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { transformSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "tensorlane-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

export interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  heading: string;
  code: string;
  /** Why it is not run (from a `<!-- doctest: skip (...) -->` comment or its language), or null. */
  skip: string | null;
}

const RUN = new Set(["ts", "typescript", "js", "javascript", "mjs"]);
const NOT_RUN: Record<string, string> = {
  sh: "shell commands", bash: "shell commands", console: "shell commands", "": "plain text",
  html: "needs a browser", python: "Python", json: "data", text: "plain text",
};

/** The fenced blocks of a Markdown file, with the heading each one sits under. */
export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  let heading = "(top)";
  let comment: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^(`{3,})\s*([\w-]*)/.exec(line);
    if (fence) {
      const start = i;
      const end = lines.findIndex((l, j) => j > i && l.startsWith(fence[1]));
      if (end < 0) throw new Error(`README.md:${i + 1}: a code fence that never closes`);
      const lang = fence[2].toLowerCase();
      const marked = comment === null ? null : /doctest:\s*skip\s*\(?([^)]*)\)?/.exec(comment)?.[1]?.trim() || null;
      blocks.push({
        line: start + 1, lang, heading, code: lines.slice(start + 1, end).join("\n"),
        skip: marked ?? (RUN.has(lang) ? null : (NOT_RUN[lang] ?? `language "${lang}"`)),
      });
      i = end;
      comment = null;
      continue;
    }
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) heading = h[1].trim();
    const c = /^<!--(.*)-->\s*$/.exec(line);
    if (c) comment = c[1];
    else if (line.trim() !== "") comment = null;
  }
  return blocks;
}

const blocks = fencedBlocks(readFileSync(join(root, "README.md"), "utf8"));

describe("README", () => {
  it("has runnable blocks, and the runner finds headings, lines and skip marks", () => {
    expect(blocks.filter((b) => b.skip === null).length).toBeGreaterThanOrEqual(4);
    const sample = fencedBlocks("# A\n\n<!-- doctest: skip (needs workerd) -->\n```ts\nx\n```\n## B\n```js\ny\n```\n```sh\nls\n```\n");
    expect(sample).toEqual([
      { line: 4, lang: "ts", heading: "A", code: "x", skip: "needs workerd" },
      { line: 8, lang: "js", heading: "B", code: "y", skip: null },
      { line: 11, lang: "sh", heading: "B", code: "ls", skip: "shell commands" },
    ]);
  });

  it("lists the blocks it does not run, each with its reason", () => {
    const skipped = blocks.filter((b) => b.skip !== null);
    console.log(
      `README blocks not run in Node (${skipped.length}):\n` +
        skipped.map((b) => `  README.md:${b.line} ${b.lang || "plain"} ("${b.heading}"): ${b.skip}`).join("\n"),
    );
    for (const b of skipped) expect(b.skip, `README.md:${b.line}`).toMatch(/\w/);
  });

  for (const block of blocks) {
    const name = `${block.lang || "plain"} block at README.md:${block.line} ("${block.heading}")`;
    if (block.skip !== null) continue;
    it(`${name} runs as written`, () => {
      expect(existsSync(join(root, "dist", "tensorlane.js")), "run `npm run build` first").toBe(true);
      const app = join(dir, `line-${block.line}`);
      mkdirSync(join(app, "node_modules"), { recursive: true });
      symlinkSync(root, join(app, "node_modules", "tensorlane"), "dir");
      writeFileSync(join(app, "package.json"), JSON.stringify({ type: "module", private: true }));
      const where = `README.md:${block.line} (the ${block.lang} block under "${block.heading}")`;
      let js: string;
      try {
        js = transformSync(block.code, { loader: block.lang.startsWith("t") ? "ts" : "js", format: "esm", target: "node20" }).code;
      } catch (error) {
        throw new Error(`${where} does not parse: ${error instanceof Error ? error.message : String(error)}`);
      }
      writeFileSync(join(app, "block.mjs"), js);
      try {
        execFileSync(process.execPath, ["--enable-source-maps", "block.mjs"], { cwd: app, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string; message: string };
        throw new Error(`${where} fails when run as written:\n${(e.stderr || e.message).trim()}\n${(e.stdout ?? "").trim().slice(-2000)}`);
      }
    });
  }
});
