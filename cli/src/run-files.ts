// Writing the files of a run folder (checkpoint.safetensors, training.svg, summary.json). Every
// write is atomic: a temporary file `.<name>.<pid>.<n>.tmp` beside the target, fsync, rename over
// it. A failed write removes its temporary file, so the previous version stays whole and loadable.
//
// The writes are synchronous on purpose: the trainer's checks for a dead parent (parent-watch.ts)
// then never run while a write is half done. `check` runs before the temporary file is created
// and again just before the rename, so a trainer whose parent died never starts a write and never
// commits one (it may end the process: the exit path removes this process's temporary files).
//
// `guard` wraps each write as a whole: the trainer's watchdog thread (parent-watch.ts) never ends
// the process while one is in progress.
//
// The file system is a parameter (`fs`): tests inject full disks and read-only folders into it.
import * as nodeFs from "node:fs";
import { dirname, join } from "node:path";
import { processAlive } from "./processes.js";
import { removeLockIfHeld } from "./run-lock.js";

/** The calls the writer makes: node:fs, or a test's stand-in that fails on cue. */
export interface SyncFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset?: number, length?: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

/** The files a run folder holds; only their temporary files are ever cleaned up. */
export const RUN_FILES = ["checkpoint.safetensors", "summary.json", "training.svg"] as const;

/** A write into the run folder failed; the file it was replacing is unchanged. */
export class RunWriteError extends Error {
  override name = "RunWriteError";
  constructor(
    readonly path: string,
    /** The system error code (ENOSPC, EROFS, EACCES, ...) when there is one. */
    readonly code: string | undefined,
    options: { cause: unknown },
  ) {
    super(`could not write ${path} (${options.cause instanceof Error ? options.cause.message : String(options.cause)})`, options);
  }
}

let counter = 0;

/** Writes the files of one run folder, each atomically (see the top of this file). */
export class RunFolderWriter {
  readonly #fs: SyncFs;
  readonly #check: () => void;
  readonly #guard: (write: () => void) => void;

  constructor(
    readonly dir: string,
    options: { fs?: SyncFs; check?: () => void; guard?: (write: () => void) => void } = {},
  ) {
    this.#fs = options.fs ?? nodeFs;
    this.#check = options.check ?? (() => undefined);
    this.#guard = options.guard ?? ((write) => write());
  }

  /** Writes `<dir>/<name>` atomically; throws RunWriteError (and leaves no temporary file) when it cannot. */
  write(name: string, data: FileData): void {
    this.writeTogether([[name, data]]);
  }

  /**
   * Writes several files as one step: every temporary file is written and synced first, then
   * they are renamed in the order given, one right after the other (microseconds, no fsync in
   * between), so an interruption leaves the run's files from one epoch, not a checkpoint of
   * epoch k beside a summary of epoch k - 1. A failure before the renames changes no file.
   */
  writeTogether(files: readonly (readonly [string, FileData])[]): void {
    this.#guard(() => this.#writeTogether(files));
  }

  #writeTogether(files: readonly (readonly [string, FileData])[]): void {
    const fs = this.#fs;
    const temps: { temp: string; path: string }[] = [];
    const discard = () => {
      for (const t of temps) ignore(() => fs.unlinkSync(t.temp));
    };
    this.#check();
    for (const [name, data] of files) {
      const path = join(this.dir, name);
      const temp = join(this.dir, temporaryName(name, process.pid, ++counter));
      let fd: number | undefined;
      try {
        fd = fs.openSync(temp, "wx", 0o644);
        temps.push({ temp, path });
        for (const chunk of data instanceof Uint8Array ? [data] : data) {
          let written = 0;
          while (written < chunk.length) written += fs.writeSync(fd, chunk, written, chunk.length - written);
        }
        fs.fsyncSync(fd); // a full disk often shows only here (delayed allocation) or at close
        fs.closeSync(fd);
        fd = undefined;
      } catch (error) {
        if (fd !== undefined) ignore(() => fs.closeSync(fd!));
        discard();
        throw new RunWriteError(path, (error as NodeJS.ErrnoException | null)?.code, { cause: error });
      }
    }
    try {
      this.#check(); // may end the process; if it throws instead, the write leaves nothing
    } catch (error) {
      discard();
      throw error;
    }
    for (let i = 0; i < temps.length; i++) {
      try {
        fs.renameSync(temps[i].temp, temps[i].path);
      } catch (error) {
        for (const t of temps.slice(i)) ignore(() => fs.unlinkSync(t.temp));
        throw new RunWriteError(temps[i].path, (error as NodeJS.ErrnoException | null)?.code, { cause: error });
      }
    }
    syncFolder(this.dir);
  }
}

/** A file's bytes, whole or in chunks (a checkpoint's tensors are written without a copy). */
export type FileData = Uint8Array | Iterable<Uint8Array>;

/** The name of a run file's temporary file, made by process `pid` (its `n`-th write). */
export function temporaryName(name: string, pid: number, n: number): string {
  return `.${name}.${pid}.${n}.tmp`;
}

/** The run files' temporary files in `dir`, with the pid that made each. */
function temporaryFiles(dir: string): { file: string; pid: number }[] {
  let names: string[];
  try {
    names = nodeFs.readdirSync(dir);
  } catch {
    return []; // the folder is gone or unreadable: nothing to clean
  }
  const out: { file: string; pid: number }[] = [];
  for (const file of names) {
    const m = /^\.(.+)\.(\d+)\.\d+\.tmp$/.exec(file);
    if (m && (RUN_FILES as readonly string[]).includes(m[1])) out.push({ file, pid: Number(m[2]) });
  }
  return out;
}

/** Removes the temporary files process `pid` left in `dir` (it died, or is ending now). */
export function removeTemporaryFilesOf(dir: string, pid: number): void {
  for (const t of temporaryFiles(dir)) if (t.pid === pid) ignore(() => nodeFs.unlinkSync(join(dir, t.file)));
}

/** Removes temporary files whose process is gone (a crash of an earlier run); returns their names. */
export function removeStaleTemporaryFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const t of temporaryFiles(dir)) {
    if (t.pid === process.pid || processAlive(t.pid)) continue;
    try {
      nodeFs.unlinkSync(join(dir, t.file));
      removed.push(t.file);
    } catch {
      // gone already
    }
  }
  return removed;
}

/**
 * What a run's process `pid` leaves when it dies or is ended without its own cleanup: its
 * temporary files, the lock if still its own (the same run when `startedAt` is given), and the
 * folders mkdir made for it (`created`) while nothing was written there.
 */
export function removeLeftoversOf(run: { dir: string; lock: string; created: string | null }, pid: number, startedAt?: string): void {
  removeTemporaryFilesOf(run.dir, pid);
  removeLockIfHeld(run.lock, pid, startedAt);
  if (run.created !== null) removeEmptyFolders(run.dir, run.created);
}

/** Removes `dir` and its parents up to `top` (the first folder mkdir created), while they are empty. */
export function removeEmptyFolders(dir: string, top: string): void {
  for (let d = dir; ; d = dirname(d)) {
    try {
      nodeFs.rmdirSync(d);
    } catch {
      return; // not empty (someone else's files), or gone
    }
    if (d === top || dirname(d) === d) return;
  }
}

/** What a failed write means for the user, and what to do about it, by error code. */
export function describeWriteFailure(code: string | undefined, dir: string): { what: string; fix: string } {
  switch (code) {
    case "ENOSPC":
      return { what: "the disk is full (ENOSPC)", fix: "Free some space" };
    case "EDQUOT":
      return { what: "the disk quota is used up (EDQUOT)", fix: "Free some space or raise the quota" };
    case "EROFS":
      return { what: "the file system became read-only (EROFS)", fix: `Make ${dir} writable again (e.g. remount it read-write)` };
    case "EACCES":
    case "EPERM":
      return { what: `permission to write in the folder was denied (${code})`, fix: `Make ${dir} writable for this user` };
    case "EIO":
      return { what: "the disk reported an input/output error (EIO)", fix: "Check the disk" };
    default:
      return { what: code ? `the write failed (${code})` : "the write failed", fix: "Fix the cause" };
  }
}

// Makes the rename durable. Some platforms cannot open or fsync a folder: best effort.
function syncFolder(dir: string): void {
  try {
    const fd = nodeFs.openSync(dir, "r");
    try {
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  } catch {
    // not supported here; the file itself was synced
  }
}

function ignore(fn: () => void): void {
  try {
    fn();
  } catch {
    // cleaning up after a failure that is already being reported
  }
}
