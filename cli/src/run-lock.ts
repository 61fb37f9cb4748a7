// One writer per run folder. `train` and `--resume` take `<run>/.lock` before they read or write
// anything there: a file created atomically (open with "wx") that names the writer, so a second
// command is refused with a message that names the first. The trainer is a child process of the
// `tensorlane` command (supervise.ts), and the lock records both:
//   {"pid": <trainer, the writer>, "commandPid": <the tensorlane command or null>, "host", "startedAt", "command"}
// A lock whose processes are all gone (on this host) is stale: it is taken over, with a note. A
// lock whose command is gone but whose trainer still runs is an orphan that stops by itself
// within a second (it watches its parent, parent-watch.ts): the new command waits for it. A lock
// from another host cannot be checked from here: refused, naming the file to delete.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { CliError } from "./errors.js";
import { processAlive } from "./processes.js";

export const LOCK_NAME = ".lock";

export interface LockInfo {
  /** The process that writes the run folder (the trainer). */
  pid: number;
  /** The `tensorlane` command that started the trainer, or null when it runs on its own. */
  commandPid: number | null;
  host: string;
  startedAt: string;
  command: string;
}

export interface RunLock {
  readonly path: string;
  readonly info: LockInfo;
  /**
   * The first folder made again (mkdir's answer) when the run folder vanished while this command
   * waited for the lock: a killed run that had made the folder removes it, empty, as it ends.
   */
  readonly remade: string | undefined;
  /** Removes the lock if it is still this process's (idempotent, never throws). */
  release(): void;
}

export interface LockOptions {
  /** The tensorlane command supervising this process (null: none). */
  commandPid: number | null;
  /** What the lock says was run ("tensorlane train --out runs/a"). */
  command: string;
  /** Notes for the user (stale lock taken over, waited for an orphan). */
  note: (text: string) => void;
  /** How a path is shown in messages. */
  show?: (path: string) => string;
  /** How long to wait for an orphaned trainer to stop (ms). */
  waitMs?: number;
}

/** Takes `<dir>/.lock` (the folder must exist; it is made again if it vanishes meanwhile), or throws a CliError that names its holder. */
export async function lockRunFolder(dir: string, options: LockOptions): Promise<RunLock> {
  const path = join(dir, LOCK_NAME);
  const show = options.show ?? ((p: string) => p);
  const waitMs = options.waitMs ?? 3000;
  const info: LockInfo = { pid: process.pid, commandPid: options.commandPid, host: hostname(), startedAt: new Date().toISOString(), command: options.command };
  const start = Date.now();
  let waitedFor: number | null = null;
  let remade: string | undefined;
  let remakes = 0;
  for (;;) {
    const made = create(path, info);
    if (made === "no folder") {
      if (++remakes > 3)
        throw new CliError(`the run folder ${show(dir)} keeps vanishing while this command waits for its lock: is something else removing it?`);
      const top = remakeFolder(dir, show);
      remade ??= top;
      continue;
    }
    if (made) {
      if (waitedFor !== null)
        options.note(`waited ${((Date.now() - start) / 1000).toFixed(1)} s for the trainer of a killed tensorlane command (pid ${waitedFor}) to stop`);
      return {
        path,
        info,
        remade,
        release: () => removeLockIfHeld(path, info.pid, info.startedAt),
      };
    }
    const holder = readLock(path);
    if (holder === null) continue; // released between our attempt and the read: try again
    if (holder === "unreadable") {
      // Created but not yet written (a moment), or its writer died in between: stale after a while.
      if (ageMs(path) < 2000) {
        await sleep(20);
        continue;
      }
      takeOver(path, null, () => options.note(`${show(path)} was unreadable (its writer died while creating it): taking it over`));
      continue;
    }
    if (holder.host !== info.host) {
      throw new CliError(
        `${show(dir)} is locked by a tensorlane run on another host (${holder.host}: pid ${holder.pid}, started ${holder.startedAt}, \`${holder.command}\`). ` +
          `This machine cannot tell whether it still runs: if it does not, delete ${show(path)} and run the command again`,
      );
    }
    const trainer = holder.pid !== process.pid && processAlive(holder.pid);
    const command = holder.commandPid !== null && holder.commandPid !== process.pid && processAlive(holder.commandPid);
    if (!trainer && !command) {
      takeOver(path, holder, () =>
        options.note(
          `${show(path)} was left by a run that is gone (pid ${holder.pid}${holder.commandPid !== null ? `, command pid ${holder.commandPid}` : ""}, started ${holder.startedAt}): taking it over`,
        ),
      );
      continue;
    }
    // One of the pair is gone and the other stops within a second (an orphaned trainer notices
    // its parent is gone; a command cleans up after its trainer died): wait for it.
    if (trainer !== command && holder.commandPid !== null && Date.now() - start < waitMs) {
      if (trainer) waitedFor = holder.pid;
      await sleep(50);
      continue;
    }
    const who = command ? holder.commandPid : holder.pid;
    throw new CliError(
      trainer && !command && holder.commandPid !== null
        ? `${show(dir)} is still being written by the trainer of a tensorlane command that is gone (pid ${holder.pid}); it did not stop within ${waitMs / 1000} s. Stop it (kill ${holder.pid}) and run the command again`
        : `${show(dir)} is in use by another tensorlane run (pid ${who} on this host, started ${holder.startedAt}: \`${holder.command}\`). ` +
            `Wait for it to finish or stop it (kill ${who}; Ctrl-C in its terminal), then run the command again`,
    );
  }
}

/** Reads a lock file: null when it is not there, "unreadable" when it is not a lock's JSON (yet). */
export function readLock(path: string): LockInfo | "unreadable" | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new CliError(`cannot read the run folder's lock ${path} (${(error as Error).message})`);
  }
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid !== "number" || typeof v.host !== "string" || (v.commandPid !== null && typeof v.commandPid !== "number")) return "unreadable";
    return { pid: v.pid, commandPid: v.commandPid ?? null, host: v.host, startedAt: String(v.startedAt ?? "?"), command: String(v.command ?? "?") };
  } catch {
    return "unreadable";
  }
}

// Creates the lock with its content in one write; false when one is there already, "no folder"
// when the run folder is gone.
function create(path: string, info: LockInfo): boolean | "no folder" {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "no folder";
    throw new CliError(`cannot create the run folder's lock ${path} (${(error as Error).message})`);
  }
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`);
  } catch (error) {
    closeSync(fd);
    removeQuietly(path);
    throw new CliError(`cannot write the run folder's lock ${path} (${(error as Error).message})`);
  }
  closeSync(fd);
  return true;
}

// Removes a stale lock, unless someone else replaced it meanwhile. Two commands that both found it
// stale take turns through `.lock.takeover` (created with "wx" as well), so neither removes the
// lock the other just made.
function takeOver(path: string, stale: LockInfo | null, note: () => void): void {
  const mutex = `${path}.takeover`;
  let fd: number;
  try {
    fd = openSync(mutex, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new CliError(`cannot take over the stale lock ${path} (${(error as Error).message})`);
    if (ageMs(mutex) > 5000) removeQuietly(mutex); // its owner died within the few microseconds it holds it
    return;
  }
  try {
    const now = readLock(path);
    const same = stale === null ? now === "unreadable" : now !== null && now !== "unreadable" && now.pid === stale.pid && now.startedAt === stale.startedAt;
    if (same) {
      removeQuietly(path);
      note();
    }
  } finally {
    closeSync(fd);
    removeQuietly(mutex);
  }
}

// The run folder vanished: the run that held the lock made it, wrote nothing and, killed, removed
// it as it ended. Made again (a few times: a folder that keeps vanishing is an error).
function remakeFolder(dir: string, show: (path: string) => string): string | undefined {
  try {
    return mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new CliError(`cannot create the run folder ${show(dir)} (${(error as Error).message})`);
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Removes the lock at `path` if process `pid` still holds it (and, given `startedAt`, the same run
 * of that process); a lock that is gone, unreadable or another's is left to the next command.
 */
export function removeLockIfHeld(path: string, pid: number, startedAt?: string): void {
  let holder: LockInfo | "unreadable" | null;
  try {
    holder = readLock(path);
  } catch {
    return; // unreadable: the next command decides
  }
  if (holder !== null && holder !== "unreadable" && holder.pid === pid && (startedAt === undefined || holder.startedAt === startedAt)) removeQuietly(path);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or the folder became read-only: a later command takes the lock over
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
