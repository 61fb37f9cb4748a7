// Every fenced block of README.md and docs/*.md runs as written, against the built packages.
//
// Each document runs top to bottom in a folder of its own (so a guide may train a run in one
// block and read its checkpoint in the next), with `tensorlane` linked into its node_modules, as
// after `npm install tensorlane`:
//   js, javascript, mjs   written to a .mjs file exactly as pasted and run by Node (no transform)
//   ts, typescript        transformed by esbuild (types removed), then run by Node
//   sh, bash, shell       each line that runs the CLI (`npx tensorlane ...` or `tensorlane ...`)
//                         runs cli/dist/cli.js; `train` gets a small budget appended (see BUDGET),
//                         `init-experiment` a narrow --width. Any other command needs a skip mark.
//   python                python3 (with PyTorch); fails in CI when PyTorch is missing
//   html                  served from the document's folder and opened in headless Chromium: it
//                         must show or log something, with no uncaught error and no console error
//   text, json, plain     output and data shown in the prose: nothing to run
// Comments just before a block, one per line:
//   <!-- doctest: files model.onnx=test/fixtures/x.onnx -->   copy repository files into the folder
//                                                            (a folder is linked, not copied)
//   <!-- doctest: skip (reason) -->                            do not run it, and say why
// Every other language needs a skip mark. Skipped blocks are listed, and their number may not grow
// past MAX_SKIPPED. A block that reads /usr/share/datasets/fashion-mnist runs when the data set is
// there and fails in CI (process.env.CI) when it is not.
import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, extname, join, resolve, sep } from "node:path";
import { transformSync } from "esbuild";
import type { BrowserContext } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { CHROMIUM_OPTIONS, chromiumUnavailable } from "./cross-runtime/harness.js";

const root = resolve(import.meta.dirname, "..");
const cli = join(root, "cli", "dist", "cli.js");
const dir = mkdtempSync(join(tmpdir(), "tensorlane-docs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Skip marks allowed across all documents: raise it only with a reason in the block's mark. */
const MAX_SKIPPED = 5;
const DATA = "/usr/share/datasets/fashion-mnist";
const HAVE_DATA = existsSync(join(DATA, "train-images-idx3-ubyte.gz"));
const CI = Boolean(process.env.CI);

export interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  heading: string;
  code: string;
  /** The reason in a `<!-- doctest: skip (...) -->` mark, or null. */
  skip: string | null;
  /** Files to copy into the document's folder first: name there -> path in the repository. */
  files: Record<string, string>;
}

type Kind = "js" | "ts" | "shell" | "python" | "html" | "text" | "other";
const KINDS: Record<string, Kind> = {
  js: "js",
  javascript: "js",
  mjs: "js",
  ts: "ts",
  typescript: "ts",
  sh: "shell",
  bash: "shell",
  shell: "shell",
  python: "python",
  py: "python",
  html: "html",
  text: "text",
  json: "text",
  "": "text",
};
const kindOf = (lang: string): Kind => KINDS[lang] ?? "other";

/** The fenced blocks of a Markdown file, with the heading each one sits under and its doctest marks. */
export function fencedBlocks(markdown: string, file = "README.md"): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  let heading = "(top)";
  let skip: string | null = null;
  let files: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^(`{3,})\s*([\w-]*)/.exec(line);
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && l.startsWith(fence[1]));
      if (end < 0) throw new Error(`${file}:${i + 1}: a code fence that never closes`);
      blocks.push({ line: i + 1, lang: fence[2].toLowerCase(), heading, code: lines.slice(i + 1, end).join("\n"), skip, files });
      i = end;
      skip = null;
      files = {};
      continue;
    }
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) heading = h[1].trim();
    const mark = /^<!--\s*doctest:\s*(\w+)\s*(.*?)\s*-->\s*$/.exec(line);
    if (mark) {
      if (mark[1] === "skip") {
        skip = /^\(?(.*?)\)?$/.exec(mark[2])?.[1]?.trim() ?? "";
        if (skip === "") throw new Error(`${file}:${i + 1}: a skip mark must give its reason: <!-- doctest: skip (why) -->`);
      } else if (mark[1] === "files") {
        for (const pair of mark[2].split(/\s+/)) {
          const [name, path] = pair.split("=");
          if (!name || !path) throw new Error(`${file}:${i + 1}: doctest files takes name=path pairs (got "${pair}")`);
          files[name] = path;
        }
      } else throw new Error(`${file}:${i + 1}: unknown doctest mark "${mark[1]}" (skip or files)`);
    } else if (line.trim() !== "" && !line.startsWith("<!--")) {
      skip = null;
      files = {};
    }
  }
  return blocks;
}

/** The commands of a shell block: continuation lines joined, comments and prompts removed, split into words. */
export function shellCommands(code: string): string[][] {
  const out: string[][] = [];
  const joined = code.replace(/\\\n/g, " ").split("\n");
  for (const raw of joined) {
    const words: string[] = [];
    let word = "";
    let inWord = false;
    let quote: string | null = null;
    const line = raw.replace(/^\s*\$\s+/, "");
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quote) {
        if (c === quote) quote = null;
        else word += c;
      } else if (c === "'" || c === '"') {
        quote = c;
        inWord = true;
      } else if (c === "#" && !inWord) break;
      else if (/\s/.test(c)) {
        if (inWord) words.push(word);
        word = "";
        inWord = false;
      } else {
        word += c;
        inWord = true;
      }
    }
    if (inWord) words.push(word);
    if (words.length > 0) out.push(words);
  }
  return out;
}

/**
 * The arguments a CLI line of the docs runs with: the line's own, then a small budget so a
 * training command takes seconds (later options win: `--epochs 20 ... --epochs 1`).
 */
export function cliArgs(words: string[]): string[] | null {
  const args = words[0] === "npx" && words[1] === "tensorlane" ? words.slice(2) : words[0] === "tensorlane" ? words.slice(1) : null;
  if (args === null) return null;
  if (args.includes("--help") || args.includes("-h") || args.includes("--version")) return args;
  const has = (flag: string) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  if (args[0] === "train") {
    const budget = [...(has("--resume") ? ["--epochs", "2"] : ["--epochs", "1"]), "--train-samples", "500"];
    if (!has("--val")) budget.push("--val", "100");
    return [...args, ...budget];
  }
  if (args[0] === "init-experiment" && !has("--width")) return [...args, "--width", "256"];
  return args;
}

/** The packages a JavaScript block imports by name, other than node: built-ins and tensorlane. */
export function importedPackages(code: string): string[] {
  const names = new Set<string>();
  for (const [, spec] of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"'./][^"']*)["']/g)) {
    if (spec.startsWith("node:")) continue;
    const parts = spec.split("/");
    const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
    if (name !== "tensorlane") names.add(name);
  }
  return [...names];
}

function run(command: string, args: string[], cwd: string, timeout = 240_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { cwd, encoding: "utf8", timeout, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: "0" } }, (error, stdout, stderr) => {
      done({
        code: error ? (typeof error.code === "number" ? error.code : 1) : 0,
        stdout,
        stderr: stderr || (error && typeof error.code !== "number" ? error.message : ""),
      });
    });
  });
}

// At most this many block processes at once, whatever vitest runs concurrently.
let running = 0;
const waiting: (() => void)[] = [];
const LIMIT = Math.max(2, Math.min(3, availableParallelism()));
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= LIMIT) await new Promise<void>((go) => waiting.push(go));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

// Debian's interpreter, where python3-torch installs PyTorch (a python3 earlier on PATH, e.g. a
// pyenv shim, may not have it).
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
let torchChecked: boolean | null = null;
function haveTorch(): boolean {
  if (torchChecked === null) {
    try {
      execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore", timeout: 60_000 });
      torchChecked = true;
    } catch {
      torchChecked = false;
    }
  }
  return torchChecked;
}

// One server over the documents' folders and one Chromium, started by the first html block.
let browser: Promise<{ context: BrowserContext; origin: string; server: Server; profile: string }> | null = null;
afterAll(async () => {
  if (browser === null) return;
  const { context, server, profile } = await browser;
  await context.close();
  await new Promise((r) => server.close(r));
  rmSync(profile, { recursive: true, force: true });
});
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".map": "application/json",
  ".onnx": "application/octet-stream",
};
function startBrowser() {
  browser ??= (async () => {
    const server = createServer((req, res) => {
      const file = resolve(dir, `.${decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)}`);
      if (req.url === "/favicon.ico") {
        res.writeHead(204).end(); // asked for by the browser, not by the page
        return;
      }
      if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }).end(readFileSync(file));
    });
    const origin = await new Promise<string>((done) =>
      server.listen(0, "127.0.0.1", () => done(`http://127.0.0.1:${(server.address() as { port: number }).port}`)),
    );
    const { chromium } = await import("playwright-core");
    const profile = mkdtempSync(join(tmpdir(), "tensorlane-docs-chromium-"));
    const context = await chromium.launchPersistentContext(profile, CHROMIUM_OPTIONS);
    return { context, origin, server, profile };
  })();
  return browser;
}

/**
 * Opens a page of a document's folder in Chromium: it passes when it changes its text or logs to
 * the console (within 60 s) with no uncaught error, failed request or console error.
 */
async function runPage(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const { context, origin } = await startBrowser();
  const page = await context.newPage();
  const problems: string[] = [];
  const logs: string[] = [];
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  page.on("console", (m) => (m.type() === "error" ? problems.push(`console.error: ${m.text()}`) : logs.push(m.text())));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`${r.status()} for ${r.url()}`));
  await page.addInitScript(() => {
    const w = window as unknown as { __changed: boolean };
    w.__changed = false;
    document.addEventListener("DOMContentLoaded", () => {
      new MutationObserver(() => (w.__changed = true)).observe(document.documentElement, { subtree: true, childList: true, characterData: true });
    });
  });
  try {
    await page.goto(`${origin}/${path}`, { waitUntil: "load" });
    const deadline = Date.now() + 60_000;
    while (
      Date.now() < deadline &&
      problems.length === 0 &&
      logs.length === 0 &&
      !(await page.evaluate(() => (window as unknown as { __changed: boolean }).__changed))
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    // The page's text without its scripts' source.
    const text = await page.evaluate(() =>
      [...(document.body?.childNodes ?? [])]
        .filter((n) => n.nodeName !== "SCRIPT")
        .map((n) => n.textContent)
        .join(""),
    );
    const shown = [...logs.map((l) => `console: ${l}`), `page: ${text.trim()}`].join("\n");
    if (problems.length > 0) return { code: 1, stdout: shown, stderr: problems.join("\n") };
    if (logs.length === 0 && !(await page.evaluate(() => (window as unknown as { __changed: boolean }).__changed))) {
      return { code: 1, stdout: shown, stderr: "the page neither changed its text nor logged anything within 60 s" };
    }
    return { code: 0, stdout: shown, stderr: "" };
  } finally {
    await page.close();
  }
}

const documents = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];
const all = documents
  .map((doc) => ({ doc, text: readFileSync(join(root, doc), "utf8") }))
  .map(({ doc, text }) => ({ doc, text, blocks: fencedBlocks(text, doc) }));

describe("docs: the runner", () => {
  it("finds headings, lines, marks and commands", () => {
    const sample = fencedBlocks(
      "# A\n\n<!-- doctest: skip (needs workerd) -->\n```ts\nx\n```\n## B\n<!-- doctest: files a.onnx=test/a.onnx -->\n```js\ny\n```\n```sh\nls\n```\n",
    );
    expect(sample).toEqual([
      { line: 4, lang: "ts", heading: "A", code: "x", skip: "needs workerd", files: {} },
      { line: 9, lang: "js", heading: "B", code: "y", skip: null, files: { "a.onnx": "test/a.onnx" } },
      { line: 12, lang: "sh", heading: "B", code: "ls", skip: null, files: {} },
    ]);
    expect(shellCommands("npx tensorlane train --name 'a b' \\\n  --epochs 20   # twenty\n\n$ tensorlane eval --checkpoint x")).toEqual([
      ["npx", "tensorlane", "train", "--name", "a b", "--epochs", "20"],
      ["tensorlane", "eval", "--checkpoint", "x"],
    ]);
    expect(cliArgs(["npx", "tensorlane", "train", "--epochs", "20"])).toEqual([
      "train",
      "--epochs",
      "20",
      "--epochs",
      "1",
      "--train-samples",
      "500",
      "--val",
      "100",
    ]);
    expect(cliArgs(["npm", "test"])).toBeNull();
    expect(
      importedPackages(
        'import * as ort from "onnxruntime-web";\nimport { x } from "@scope/pkg/sub";\nimport "node:fs";\nimport * as tl from "tensorlane/node";',
      ),
    ).toEqual(["onnxruntime-web", "@scope/pkg"]);
  });

  it("every block is run, or is text, or says why it is not run; the skipped ones stay few", () => {
    const skipped: string[] = [];
    const problems: string[] = [];
    for (const { doc, blocks } of all) {
      for (const b of blocks) {
        const where = `${doc}:${b.line} (${b.lang || "plain"}, "${b.heading}")`;
        const kind = kindOf(b.lang);
        if (b.skip !== null) skipped.push(`  ${where}: ${b.skip}`);
        else if (kind === "other") problems.push(`${where}: a ${b.lang} block cannot run here: mark it <!-- doctest: skip (why) -->`);
        else if (kind === "shell") {
          for (const words of shellCommands(b.code)) {
            if (cliArgs(words) === null)
              problems.push(`${where}: "${words.join(" ")}" is not a tensorlane command: mark the block <!-- doctest: skip (why) -->`);
          }
        }
      }
      if (blocks.some((b) => kindOf(b.lang) === "ts" && b.skip === null) && !/TypeScript/.test(readFileSync(join(root, doc), "utf8"))) {
        problems.push(`${doc} has ts blocks but its prose never says they are TypeScript`);
      }
    }
    console.log(`Blocks not run (${skipped.length}, at most ${MAX_SKIPPED}):\n${skipped.join("\n")}`);
    expect(problems).toEqual([]);
    expect(skipped.length, "more blocks skipped than allowed: run them, or raise MAX_SKIPPED with a reason").toBeLessThanOrEqual(MAX_SKIPPED);
  });

  it("the README stays a five-minute read: at most 300 lines", () => {
    const lines = readFileSync(join(root, "README.md"), "utf8").trimEnd().split("\n").length;
    expect(lines, "README.md: move detail into docs/").toBeLessThanOrEqual(300);
  });

  it("no document points outside the repository", () => {
    for (const { doc, text } of all) {
      expect(text, doc).not.toMatch(/SPEC\.md|TOOLCHAIN\.md|\.\.\/shared/);
      for (const [, target, anchor] of text.matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
        if (/^(https?:|mailto:)/.test(target)) continue;
        const path = target === "" ? join(root, doc) : resolve(root, dirname(doc), target);
        expect(path.startsWith(root), `${doc} links ${target}, outside the repository`).toBe(true);
        expect(existsSync(path), `${doc} links ${target}, which does not exist`).toBe(true);
        if (anchor && path.endsWith(".md")) {
          // GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens.
          const slugs = [...readFileSync(path, "utf8").matchAll(/^#{1,6}\s+(.*)$/gm)].map(([, h]) =>
            h
              .trim()
              .toLowerCase()
              .replace(/[^\p{L}\p{N}\s_-]/gu, "")
              .replace(/\s/g, "-"),
          );
          expect(slugs, `${doc} links ${target}#${anchor}, a heading that does not exist`).toContain(anchor);
        }
      }
    }
  });
});

for (const { doc, blocks } of all) {
  const runnable = blocks.filter((b) => !["text", "other"].includes(kindOf(b.lang)) && b.skip === null);
  if (runnable.length === 0) continue;
  const folder = join(dir, doc.replace(/[/.]/g, "-"));

  /** Runs one block in the document's folder; resolves to why it was not run here, or null. */
  async function runBlock(block: Block): Promise<string | null> {
    const kind = kindOf(block.lang);
    const where = `${doc}:${block.line} (the ${block.lang} block under "${block.heading}")`;
    const needsData = block.code.includes(DATA);
    const needsTorch = kind === "python";
    if (needsData && !HAVE_DATA) {
      if (CI) throw new Error(`${where} needs ${DATA} (apt-get install dataset-fashion-mnist), which CI must have`);
      console.log(`${where}: not run here: needs ${DATA} (CI has it)`);
      return `needs ${DATA}`;
    }
    if (needsTorch && !haveTorch()) {
      if (CI) throw new Error(`${where} needs python3 with PyTorch (apt-get install python3-torch), which CI must have`);
      console.log(`${where}: not run here: needs python3 with PyTorch (CI has it)`);
      return "needs python3 with PyTorch";
    }
    if (kind === "html" && chromiumUnavailable() !== null) {
      if (CI) throw new Error(`${where} needs headless Chromium, which CI must have: ${chromiumUnavailable()}`);
      console.log(`${where}: not run here: ${chromiumUnavailable()} (CI has it)`);
      return "needs Chromium";
    }
    expect(existsSync(join(root, "dist", "tensorlane.js")) && existsSync(cli), "run `npm run build` first").toBe(true);
    if (!existsSync(folder)) {
      mkdirSync(join(folder, "node_modules"), { recursive: true });
      symlinkSync(root, join(folder, "node_modules", "tensorlane"), "dir");
      writeFileSync(join(folder, "package.json"), JSON.stringify({ type: "module", private: true }));
    }
    // Other packages a block imports (onnxruntime-web, ...) come from the repository's devDependencies.
    for (const name of importedPackages(block.code)) {
      const link = join(folder, "node_modules", name);
      if (existsSync(link) || !existsSync(join(root, "node_modules", name))) continue;
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(root, "node_modules", name), link, "dir");
    }
    for (const [name, path] of Object.entries(block.files)) {
      const to = join(folder, name);
      mkdirSync(dirname(to), { recursive: true });
      if (statSync(join(root, path)).isDirectory()) {
        if (!existsSync(to)) symlinkSync(join(root, path), to, "dir");
      } else copyFileSync(join(root, path), to);
    }
    const steps: [string, string[], string][] = [];
    if (kind === "html") {
      const file = `block-${block.line}.html`;
      writeFileSync(join(folder, file), block.code);
      const r = await limited(() => runPage(`${folder.slice(dir.length + 1)}/${file}`));
      if (r.code !== 0) throw new Error(`${where} fails in Chromium:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
      console.log(`${where}: Chromium\n${r.stdout.split("\n").slice(-4).join("\n")}`);
    }
    if (kind === "js" || kind === "ts") {
      let code = block.code;
      if (kind === "ts") {
        try {
          code = transformSync(code, { loader: "ts", format: "esm", target: "node20" }).code;
        } catch (error) {
          throw new Error(`${where} does not parse: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      const file = `block-${block.line}.mjs`;
      writeFileSync(join(folder, file), code);
      steps.push([process.execPath, ["--enable-source-maps", file], file]);
    } else if (kind === "python") {
      const file = `block-${block.line}.py`;
      writeFileSync(join(folder, file), block.code);
      steps.push([PYTHON, [file], `python3 ${file}`]);
    } else if (kind === "shell") {
      for (const words of shellCommands(block.code)) {
        const args = cliArgs(words);
        if (args === null) throw new Error(`${where}: "${words.join(" ")}" is not a tensorlane command; mark the block <!-- doctest: skip (why) -->`);
        steps.push([process.execPath, [cli, ...args], `tensorlane ${args.join(" ")}`]);
      }
    }
    for (const [command, args, shown] of steps) {
      const r = await limited(() => run(command, args, folder));
      if (r.code !== 0) {
        throw new Error(
          `${where} fails when run as written (${shown}, exit code ${r.code}):\n${r.stderr.trim().slice(-3000)}\n${r.stdout.trim().slice(-2000)}`,
        );
      }
      console.log(`${where}: ${shown}\n${r.stdout.trim().split("\n").slice(-4).join("\n")}`);
    }
    return null;
  }

  // A block runs after the blocks above it in the same document (they may make its files), each
  // block once, whichever test asks first: a test filtered to one block still runs those above it.
  const done: Promise<string | null>[] = [];
  const upTo = (k: number): Promise<string | null> =>
    (done[k] ??= (k === 0 ? Promise.resolve() : upTo(k - 1).catch(() => undefined)).then(() => runBlock(runnable[k])));

  describe(doc, () => {
    runnable.forEach((block, k) => {
      it.concurrent(`${block.lang} block at ${doc}:${block.line} ("${block.heading}") runs as written`, async (ctx) => {
        const skipped = await upTo(k);
        if (skipped !== null) ctx.skip(skipped);
        // Generous: a test's time includes waiting for the blocks above it (each command has its
        // own 240 s limit). On 2 idle cores the whole file takes well under a minute.
      }, 900_000);
    });
  });
}
