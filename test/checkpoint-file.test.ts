// Atomic file writes and safetensors files on disk: a failed write leaves the old file intact and
// no temporary file behind; bad files give errors that name them.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { FileFormatError } from "../src/index.js";
import { readFileBytes, readSafetensorsFile, writeFileAtomic, writeSafetensorsFile } from "../src/node/index.js";

const root = mkdtempSync(join(tmpdir(), "tensorlane-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function freshDir(): string {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir);
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

const OLD = new TextEncoder().encode("old checkpoint contents");

describe("writeFileAtomic", () => {
  it("writes bytes and leaves no temporary file", async () => {
    const dir = freshDir();
    const path = join(dir, "a.bin");
    await writeFileAtomic(path, Uint8Array.of(1, 2, 3));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    await writeFileAtomic(path, Uint8Array.of(9));
    expect(Array.from(readFileSync(path))).toEqual([9]);
    expect(readdirSync(dir)).toEqual(["a.bin"]);
  });

  it("writes chunks from sync and async iterables", async () => {
    const dir = freshDir();
    await writeFileAtomic(join(dir, "s"), [Uint8Array.of(1), Uint8Array.of(2, 3)]);
    async function* chunks() {
      yield Uint8Array.of(4);
      yield Uint8Array.of(5, 6);
    }
    await writeFileAtomic(join(dir, "a"), chunks());
    expect(Array.from(readFileSync(join(dir, "s")))).toEqual([1, 2, 3]);
    expect(Array.from(readFileSync(join(dir, "a")))).toEqual([4, 5, 6]);
  });

  it("a stream that fails halfway leaves the old file intact and no temporary file", async () => {
    const dir = freshDir();
    const path = join(dir, "model.safetensors");
    writeFileSync(path, OLD);
    function* failing() {
      yield new Uint8Array(1 << 16).fill(7); // some bytes reach the temporary file first
      throw new Error("disk on fire");
    }
    const e = await rejection(writeFileAtomic(path, failing()));
    expect(e.message).toContain(`could not write ${path} (disk on fire); any previous file there is unchanged`);
    expect((e.cause as Error).message).toBe("disk on fire");
    expect(readFileSync(path)).toEqual(Buffer.from(OLD));
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
  });

  it("a bad chunk is a TypeError, and the old file stays", async () => {
    const dir = freshDir();
    const path = join(dir, "x");
    writeFileSync(path, OLD);
    const e = await rejection(writeFileAtomic(path, [Uint8Array.of(1), "nope" as unknown as Uint8Array]));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/every chunk must be a Uint8Array/);
    expect(readFileSync(path)).toEqual(Buffer.from(OLD));
    expect(readdirSync(dir)).toEqual(["x"]);
  });

  it("a rename that fails (the target is a folder) removes the temporary file", async () => {
    const dir = freshDir();
    const target = join(dir, "taken");
    mkdirSync(target);
    writeFileSync(join(target, "inside"), OLD);
    const e = await rejection(writeFileAtomic(target, Uint8Array.of(1)));
    expect(e.message).toMatch(/could not write .*taken \(.*\); any previous file there is unchanged/);
    expect((e as NodeJS.ErrnoException).code).toMatch(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(dir)).toEqual(["taken"]);
    expect(readFileSync(join(target, "inside"))).toEqual(Buffer.from(OLD));
  });

  it("a missing folder is an error that names the path", async () => {
    const path = join(root, "no-such-dir", "f.bin");
    const e = await rejection(writeFileAtomic(path, Uint8Array.of(1)));
    expect(e.message).toContain(path);
    expect((e as NodeJS.ErrnoException).code).toBe("ENOENT");
  });

  // Root ignores folder permissions: as root (CI), the write runs in a child process as the
  // unprivileged user nobody, on a copy of the built Node entry, in a folder it may read but not write.
  it("a folder it may not write to leaves the old file intact (EACCES)", async () => {
    const dir = freshDir();
    const path = join(dir, "ro.bin");
    writeFileSync(path, OLD);
    if (process.getuid?.() === 0) {
      const lib = join(root, "lib");
      mkdirSync(lib);
      // Every chunk of the build: node.js imports the library's chunks (data.js, the kernel families).
      const dist = resolve(import.meta.dirname, "..", "dist");
      for (const file of readdirSync(dist).filter((f) => f.endsWith(".js"))) copyFileSync(join(dist, file), join(lib, file));
      for (const d of [root, lib, dir]) chmodSync(d, 0o755);
      const script =
        `import { writeFileAtomic } from ${JSON.stringify(pathToFileURL(join(lib, "node.js")).href)};\n` +
        `try { await writeFileAtomic(${JSON.stringify(path)}, Uint8Array.of(1)); console.log("wrote"); } catch (e) { console.log(e.code); }`;
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { uid: 65534, gid: 65534, encoding: "utf8", cwd: lib });
      expect(child.stdout.trim(), child.stderr).toBe("EACCES");
    } else {
      chmodSync(dir, 0o555);
      try {
        const e = await rejection(writeFileAtomic(path, Uint8Array.of(1)));
        expect((e as NodeJS.ErrnoException).code).toBe("EACCES");
      } finally {
        chmodSync(dir, 0o755);
      }
    }
    expect(readFileSync(path)).toEqual(Buffer.from(OLD));
    expect(readdirSync(dir)).toEqual(["ro.bin"]);
  });

  it("concurrent writes to one path: the result is one whole version, never a mix", async () => {
    const dir = freshDir();
    const path = join(dir, "race");
    const a = new Uint8Array(200_000).fill(1);
    const b = new Uint8Array(300_000).fill(2);
    await Promise.all([writeFileAtomic(path, a), writeFileAtomic(path, b), writeFileAtomic(path, a)]);
    const got = readFileSync(path);
    expect([a.length, b.length]).toContain(got.length);
    expect(got.every((v) => v === got[0])).toBe(true);
    expect(readdirSync(dir)).toEqual(["race"]);
  });
});

describe("safetensors files", () => {
  it("round trip through disk", async () => {
    const path = join(freshDir(), "ckpt.safetensors");
    await writeSafetensorsFile(path, { W1: { shape: [2, 2], data: Float32Array.of(1, -2, 3, -4) } }, { epoch: "2" });
    const back = await readSafetensorsFile(path);
    expect(Array.from(back.tensors.W1.data)).toEqual([1, -2, 3, -4]);
    expect(back.metadata).toEqual({ epoch: "2" });
  });

  it("a truncated file is a FileFormatError naming the file", async () => {
    const path = join(freshDir(), "cut.safetensors");
    await writeSafetensorsFile(path, { W: { shape: [4], data: Float32Array.of(1, 2, 3, 4) } });
    writeFileSync(path, readFileSync(path).subarray(0, 30));
    const e = await rejection(readSafetensorsFile(path));
    expect(e).toBeInstanceOf(FileFormatError);
    expect(e.message).toContain(path);
  });

  it("missing files, folders and oversized files are clear errors", async () => {
    const dir = freshDir();
    expect((await rejection(readSafetensorsFile(join(dir, "none")))).message).toBe(`checkpoint not found: ${join(dir, "none")}`);
    expect((await rejection(readSafetensorsFile(dir))).message).toMatch(/is a folder, not a file/);
    writeFileSync(join(dir, "big"), new Uint8Array(100));
    expect((await rejection(readFileBytes(join(dir, "big"), { maxBytes: 99 }))).message).toMatch(/100 bytes, over the 99-byte limit/);
  });
});
