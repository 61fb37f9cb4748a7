// The run folder's writer and lock, driven directly: a file system that fails on cue (full disk,
// read-only folder, a rename refused), locks held by live, dead, orphaned and far-away processes.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processAlive } from "../src/processes.js";
import { describeWriteFailure, removeStaleTemporaryFiles, RunFolderWriter, RunWriteError, type SyncFs } from "../src/run-files.js";
import { lockRunFolder, readLock, type LockInfo } from "../src/run-lock.js";

const root = mkdtempSync(join(tmpdir(), "tensorlane-run-folder-"));
const sleepers: ChildProcess[] = [];
afterAll(() => {
  for (const p of sleepers) if (p.exitCode === null) p.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
function freshDir(): string {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir);
  return dir;
}

const OLD = "the previous checkpoint";

/** node:fs, except that `call` fails with `code` on its `nth` use (1-based) touching a temporary file. */
function faultyFs(call: keyof SyncFs, code: string, nth = 1): SyncFs & { calls: string[] } {
  const calls: string[] = [];
  let count = 0;
  const fail = (name: string) => {
    calls.push(name);
    if (name === call && ++count === nth) throw Object.assign(new Error(`${code}: injected by the test, ${name}`), { code });
  };
  return {
    calls,
    openSync: (p, flags, mode) => (fail("openSync"), fs.openSync(p, flags, mode)),
    writeSync: (fd, b, o, l) => (fail("writeSync"), fs.writeSync(fd, b, o, l)),
    fsyncSync: (fd) => (fail("fsyncSync"), fs.fsyncSync(fd)),
    closeSync: (fd) => (fail("closeSync"), fs.closeSync(fd)),
    renameSync: (a, b) => (fail("renameSync"), fs.renameSync(a, b)),
    unlinkSync: (p) => fs.unlinkSync(p),
  };
}

/** A process that runs until the test ends (a live lock holder). */
function sleeper(): number {
  const p = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  sleepers.push(p);
  return p.pid!;
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }).stdout);
}

function writeLock(dir: string, info: Partial<LockInfo>): void {
  const full: LockInfo = { pid: 1, commandPid: null, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z", command: "tensorlane train --out x", ...info };
  writeFileSync(join(dir, ".lock"), JSON.stringify(full));
}

describe("RunFolderWriter", () => {
  it("writes atomically and leaves only the file", () => {
    const dir = freshDir();
    const w = new RunFolderWriter(dir);
    w.write("checkpoint.safetensors", [Uint8Array.of(1, 2), Uint8Array.of(3)]);
    w.write("checkpoint.safetensors", Uint8Array.of(9));
    expect([...readFileSync(join(dir, "checkpoint.safetensors"))]).toEqual([9]);
    expect(readdirSync(dir)).toEqual(["checkpoint.safetensors"]);
  });

  // What each call's failure stands for: a full disk shows in write, fsync or close (delayed
  // allocation); a folder remounted read-only or made unwritable refuses the temporary file.
  const cases: [keyof SyncFs, string, number, RegExp][] = [
    ["writeSync", "ENOSPC", 2, /the disk is full \(ENOSPC\)/],
    ["fsyncSync", "ENOSPC", 1, /the disk is full \(ENOSPC\)/],
    ["closeSync", "EDQUOT", 1, /quota/],
    ["openSync", "EROFS", 1, /the file system became read-only \(EROFS\)/],
    ["openSync", "EACCES", 1, /permission to write in the folder was denied \(EACCES\)/],
    ["renameSync", "EIO", 1, /input\/output error \(EIO\)/],
  ];
  for (const [call, code, nth, meaning] of cases) {
    it(`${code} in ${call}: the previous file stays whole, no temporary file is left, the error says what happened`, () => {
      const dir = freshDir();
      const path = join(dir, "checkpoint.safetensors");
      writeFileSync(path, OLD);
      const faulty = faultyFs(call, code, nth);
      const w = new RunFolderWriter(dir, { fs: faulty });
      let error: unknown;
      try {
        w.write("checkpoint.safetensors", [new Uint8Array(1000).fill(1), new Uint8Array(1000).fill(2)]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RunWriteError);
      expect((error as RunWriteError).code).toBe(code);
      expect((error as RunWriteError).path).toBe(path);
      expect((error as Error).message).toContain(`could not write ${path}`);
      expect(describeWriteFailure(code, dir).what).toMatch(meaning);
      expect(readFileSync(path, "utf8")).toBe(OLD);
      expect(readdirSync(dir)).toEqual(["checkpoint.safetensors"]);
      // ... and once there is space again, the same writer works.
      new RunFolderWriter(dir).write("checkpoint.safetensors", Uint8Array.of(7));
      expect([...readFileSync(path)]).toEqual([7]);
    });
  }

  it("the parent check runs before the temporary file exists and again before the rename; a check that throws leaves nothing", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "summary.json"), OLD);
    const faulty = faultyFs("unlinkSync", "NONE", 99);
    const seen: string[][] = [];
    let checks = 0;
    const w = new RunFolderWriter(dir, {
      fs: faulty,
      check: () => {
        seen.push([...faulty.calls]);
        if (++checks === 2) throw new Error("the parent is gone");
      },
    });
    expect(() => w.write("summary.json", Uint8Array.of(1))).toThrow(/the parent is gone/);
    expect(seen[0]).toEqual([]); // nothing opened before the first check
    expect(seen[1]).toEqual(["openSync", "writeSync", "fsyncSync", "closeSync"]); // written, not renamed
    expect(faulty.calls).not.toContain("renameSync");
    expect(readFileSync(join(dir, "summary.json"), "utf8")).toBe(OLD);
    expect(readdirSync(dir)).toEqual(["summary.json"]);
  });

  it("writeTogether: a failure in any file before the renames changes none of them (no checkpoint of epoch k beside a summary of k - 1)", () => {
    const dir = freshDir();
    for (const f of ["checkpoint.safetensors", "summary.json", "training.svg"]) writeFileSync(join(dir, f), OLD);
    const faulty = faultyFs("fsyncSync", "ENOSPC", 3); // the third file's
    expect(() =>
      new RunFolderWriter(dir, { fs: faulty }).writeTogether([
        ["checkpoint.safetensors", Uint8Array.of(1)],
        ["summary.json", Uint8Array.of(2)],
        ["training.svg", Uint8Array.of(3)],
      ]),
    ).toThrow(/could not write .*training\.svg/);
    expect(faulty.calls).not.toContain("renameSync");
    for (const f of ["checkpoint.safetensors", "summary.json", "training.svg"]) expect(readFileSync(join(dir, f), "utf8"), f).toBe(OLD);
    expect(readdirSync(dir).sort()).toEqual(["checkpoint.safetensors", "summary.json", "training.svg"]);
    new RunFolderWriter(dir).writeTogether([
      ["checkpoint.safetensors", Uint8Array.of(1)],
      ["summary.json", Uint8Array.of(2)],
    ]);
    expect([...readFileSync(join(dir, "checkpoint.safetensors"))]).toEqual([1]);
    expect([...readFileSync(join(dir, "summary.json"))]).toEqual([2]);
  });

  it("removeStaleTemporaryFiles removes the run files' temporary files of dead processes only", () => {
    const dir = freshDir();
    const dead = deadPid();
    const files = [
      `.checkpoint.safetensors.${dead}.3.tmp`, // a crash mid-write: removed
      `.training.svg.${dead}.1.tmp`, // removed
      `.checkpoint.safetensors.${process.pid}.1.tmp`, // this process's own: kept
      `.checkpoint.safetensors.${sleeper()}.1.tmp`, // a live writer's: kept
      `.notes.txt.${dead}.1.tmp`, // not a run file: kept
      "checkpoint.safetensors",
    ];
    for (const f of files) writeFileSync(join(dir, f), "x");
    expect(removeStaleTemporaryFiles(dir).sort()).toEqual([files[0], files[1]].sort());
    expect(readdirSync(dir).sort()).toEqual(files.slice(2).sort());
  });
});

describe("lockRunFolder", () => {
  const quiet = { commandPid: null, command: "tensorlane train --out x", note: () => undefined };

  it("creates .lock naming this process and host; release removes it; a released folder locks again", async () => {
    const dir = freshDir();
    const lock = await lockRunFolder(dir, { ...quiet, commandPid: 4242 });
    const info = readLock(join(dir, ".lock")) as LockInfo;
    expect(info).toMatchObject({ pid: process.pid, commandPid: 4242, host: hostname(), command: "tensorlane train --out x" });
    expect(Date.parse(info.startedAt)).toBeGreaterThan(Date.now() - 60_000);
    lock.release();
    lock.release(); // idempotent
    expect(readdirSync(dir)).toEqual([]);
    (await lockRunFolder(dir, quiet)).release();
  });

  it("a second writer is refused with a message naming the holder (pid, start, command)", async () => {
    const dir = freshDir();
    const holder = sleeper();
    writeLock(dir, { pid: holder, startedAt: "2026-05-01T10:00:00.000Z" });
    await expect(lockRunFolder(dir, quiet)).rejects.toThrow(
      new RegExp(
        `is in use by another tensorlane run \\(pid ${holder} on this host, started 2026-05-01T10:00:00\\.000Z: \`tensorlane train --out x\`\\)\\. Wait for it to finish or stop it \\(kill ${holder}`,
      ),
    );
    expect(readLock(join(dir, ".lock"))).toMatchObject({ pid: holder }); // untouched
  });

  it("a lock whose processes are gone is taken over, with a note", async () => {
    const dir = freshDir();
    const dead = deadPid();
    writeLock(dir, { pid: dead, commandPid: deadPid() });
    const notes: string[] = [];
    const lock = await lockRunFolder(dir, { ...quiet, note: (t) => notes.push(t) });
    expect(notes.join("\n")).toMatch(
      new RegExp(`\\.lock was left by a run that is gone \\(pid ${dead}, command pid \\d+, started 2026-01-01T00:00:00\\.000Z\\): taking it over`),
    );
    expect(readLock(join(dir, ".lock"))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it("the trainer of a command that is gone is waited for (it stops by itself), then the lock is taken", async () => {
    const dir = freshDir();
    const orphan = spawn(process.execPath, ["-e", "setTimeout(() => {}, 400)"], { stdio: "ignore" });
    writeLock(dir, { pid: orphan.pid, commandPid: deadPid() });
    const notes: string[] = [];
    const lock = await lockRunFolder(dir, { ...quiet, note: (t) => notes.push(t) });
    expect(processAlive(orphan.pid!), "taken only once the orphan had stopped").toBe(false);
    expect(notes.join("\n")).toMatch(new RegExp(`waited [\\d.]+ s for the trainer of a killed tensorlane command \\(pid ${orphan.pid}\\) to stop`));
    lock.release();
  });

  it("the run folder removed by the orphan waited for (it made the folder and wrote nothing) is made again, and the lock taken", async () => {
    const parent = freshDir();
    const dir = join(parent, "run");
    mkdirSync(dir);
    // As a killed trainer ends: its lock, then the empty folder it had made.
    const orphan = spawn(
      process.execPath,
      [
        "-e",
        `setTimeout(() => { const fs = require("node:fs"); fs.unlinkSync(${JSON.stringify(join(dir, ".lock"))}); fs.rmdirSync(${JSON.stringify(dir)}); }, 300)`,
      ],
      {
        stdio: "ignore",
      },
    );
    sleepers.push(orphan);
    writeLock(dir, { pid: orphan.pid, commandPid: deadPid() });
    const lock = await lockRunFolder(dir, quiet);
    expect(readLock(join(dir, ".lock"))).toMatchObject({ pid: process.pid });
    expect(lock.remade, "this command made the folder again").toBe(dir);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("an orphaned trainer that does not stop is named after the wait", async () => {
    const dir = freshDir();
    const stuck = sleeper();
    writeLock(dir, { pid: stuck, commandPid: deadPid() });
    await expect(lockRunFolder(dir, { ...quiet, waitMs: 300 })).rejects.toThrow(
      new RegExp(
        `is still being written by the trainer of a tensorlane command that is gone \\(pid ${stuck}\\); it did not stop within 0\\.3 s\\. Stop it \\(kill ${stuck}\\)`,
      ),
    );
  });

  it("a lock from another host is refused: this machine cannot check it, so the message names the file to delete", async () => {
    const dir = freshDir();
    writeLock(dir, { pid: 12345, host: "gpu-box-7" });
    await expect(lockRunFolder(dir, { ...quiet, show: (p) => p.replace(root, "runs") })).rejects.toThrow(
      /locked by a tensorlane run on another host \(gpu-box-7: pid 12345, started .*\)\. This machine cannot tell whether it still runs: if it does not, delete runs\/case-\d+\/\.lock and run the command again/,
    );
  });

  it("an empty lock (its writer died between creating and writing it) is waited on briefly, then taken over", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, ".lock"), "");
    const old = new Date(Date.now() - 10_000);
    utimesSync(join(dir, ".lock"), old, old);
    const notes: string[] = [];
    const lock = await lockRunFolder(dir, { ...quiet, note: (t) => notes.push(t) });
    expect(notes.join("\n")).toMatch(/was unreadable .* taking it over/);
    lock.release();
  });

  it("processAlive: this process yes, a reaped one no, a zombie no", async () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(deadPid())).toBe(false);
    expect(processAlive(-1)).toBe(false);
    if (process.platform !== "linux") return;
    // A zombie: the shell's background child exits after the shell became `sleep 5` (exec), which
    // never reaps it. Signal 0 still reaches it; it runs nothing.
    const parent = spawn("sh", ["-c", "sleep 0.1 & echo $!; exec sleep 5"], { stdio: ["ignore", "pipe", "ignore"] });
    sleepers.push(parent);
    const pid = Number(await new Promise<string>((done) => parent.stdout!.once("data", (d) => done(String(d)))));
    const state = () => {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    };
    for (let i = 0; i < 100 && state() !== "Z"; i++) await new Promise((r) => setTimeout(r, 10));
    expect(state()).toBe("Z");
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(processAlive(pid)).toBe(false);
    parent.kill("SIGKILL");
  });
});
