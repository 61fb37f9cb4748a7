// The trainer (the child process of the `tensorlane` command, see supervise.ts) stops when the
// command dies, by whatever signal: SIGKILL cannot be caught, so the command cannot stop it.
// The trainer notices by itself: when its parent dies it is handed to another process (init or
// a subreaper), and process.ppid changes. The IPC channel's 'disconnect' event would say the same,
// but events do not run during the synchronous training loop; reading process.ppid is one cheap
// system call (about 0.4 us; signal 0 to the parent, for systems that do not re-parent, every 50 ms),
// so it is checked between steps, before and inside every write to the run folder
// (run-files.ts), and on a timer while the event loop is free (loading data).
//
// On the parent's death the trainer writes nothing more: it removes its own temporary files,
// releases the run folder's lock and exits.
//
// Between steps is not always often enough: an accuracy check over the validation set, the test
// set scored at the end, or one step of a large model runs for seconds without a break. A watchdog
// thread (watchdog.ts, a worker beside the training loop) covers those: when the parent has been
// gone for WATCHDOG_GRACE_MS and the process still runs, it cleans up as the loop would have and
// ends the process. A write to the run folder is never cut short by it: the two threads share a
// flag (IDLE, WRITING, ENDING), the loop sets WRITING around each write (guardWrite) and the
// watchdog waits for IDLE before it claims ENDING, so a write either completes or is never begun.

import { Worker } from "node:worker_threads";

// The shared flag's values (an Int32Array of one element over a SharedArrayBuffer).
/** The flag: no write to the run folder in progress. */
export const IDLE = 0;
/** The flag: the training loop is writing to the run folder (guardWrite). */
export const WRITING = 1;
/** The flag: one of the two threads is ending the process; the other stands down. */
export const ENDING = 2;

/** How long the watchdog leaves the training loop to notice by itself (it then says more). */
export const WATCHDOG_GRACE_MS = 250;

/** What the watchdog needs to clean up after the run: its folder, its lock, the folder mkdir made. */
export interface WatchedRun {
  dir: string;
  lock: string;
  /** The lock's startedAt: the watchdog removes the lock only while it is still this run's. */
  startedAt: string;
  created: string | null;
}

/** The messages the watchdog thread takes (watchdog.ts). */
export type WatchdogMessage = { type: "run"; run: WatchedRun | null } | { type: "farewell"; text: string };

/** What the watchdog thread is started with. */
export interface WatchdogData {
  parentPid: number;
  flag: SharedArrayBuffer;
  graceMs: number;
}

let watchedPpid: number | null = null;
const atExit = new Set<() => void>();
let farewell = "";
let flag: Int32Array | null = null;
let watchdog: Worker | null = null;

/**
 * Starts watching `parentPid` (the supervising command, which passes its pid: the trainer may
 * start after it died, and then process.ppid is already another process's), from the training
 * loop (checkParent) and from a watchdog thread.
 */
export function watchParent(parentPid: number): void {
  if (watchedPpid !== null) return;
  watchedPpid = parentPid;
  checkParent();
  setInterval(checkParent, 100).unref();
  startWatchdog(parentPid);
}

function startWatchdog(parentPid: number): void {
  const shared = new SharedArrayBuffer(4);
  try {
    // Beside dist/cli.js in the bundle (the CLI's build makes both).
    const data: WatchdogData = { parentPid, flag: shared, graceMs: WATCHDOG_GRACE_MS };
    watchdog = new Worker(new URL("./watchdog.js", import.meta.url), { workerData: data });
  } catch {
    return; // no worker threads here: the training loop's own checks remain
  }
  flag = new Int32Array(shared);
  watchdog.on("error", () => {
    flag = null; // not built, or it failed: the training loop's own checks remain
  });
  watchdog.unref(); // it never keeps the trainer alive
}

/** Ends the process, quietly cleaned up, if the parent is gone. Cheap: call it often. */
export function checkParent(): void {
  if (watchedPpid === null) return;
  if (process.ppid !== watchedPpid) stopOrphan();
  const now = performance.now();
  if (now - lastSignalCheck < 50) return; // signal 0 costs about 4 us: not at every step
  lastSignalCheck = now;
  if (!signalReaches(watchedPpid)) stopOrphan();
}

let lastSignalCheck = -Infinity;

/**
 * True while `pid` can be sent a signal. Where a dead parent's children are not handed to another
 * process (Windows), ppid stays the same: signal 0 then tells (it reaches a zombie too, which ppid
 * covers on Linux and macOS).
 */
export function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `cleanup` if the parent dies (until the returned function is called). */
export function whenParentGone(cleanup: () => void): () => void {
  atExit.add(cleanup);
  return () => atExit.delete(cleanup);
}

/**
 * Tells the watchdog thread which run folder to clean up if the parent dies while the training
 * loop cannot notice (until the returned function is called).
 */
export function watchRun(run: WatchedRun): () => void {
  post({ type: "run", run });
  return () => post({ type: "run", run: null });
}

/** The line the trainer leaves on stderr when it stops (the checkpoint to resume from). */
export function setFarewell(text: string): void {
  farewell = text;
  post({ type: "farewell", text });
}

function post(message: WatchdogMessage): void {
  watchdog?.postMessage(message);
}

/**
 * Runs one write to the run folder so that the watchdog never ends the process halfway through
 * it: if the watchdog is ending the process already, the write is never begun (this thread waits
 * for the end).
 */
export function guardWrite(write: () => void): void {
  const f = flag;
  if (f === null) return write();
  if (Atomics.compareExchange(f, 0, IDLE, WRITING) === ENDING) for (;;) Atomics.wait(f, 0, ENDING);
  try {
    write();
  } finally {
    Atomics.store(f, 0, IDLE);
    Atomics.notify(f, 0);
  }
}

function stopOrphan(): never {
  const parent = watchedPpid;
  watchedPpid = null;
  // The watchdog, if it is ending the process already, finishes alone; otherwise it stands down.
  if (flag !== null && Atomics.exchange(flag, 0, ENDING) === ENDING) for (;;) Atomics.wait(flag, 0, ENDING);
  for (const cleanup of atExit) {
    try {
      cleanup();
    } catch {
      // keep going: the other cleanups matter as much
    }
  }
  try {
    process.stderr.write(`\n${goneMessage(parent)}\n`);
  } catch {
    // no terminal left to tell
  }
  process.exit(1);
}

/** What the trainer says when it stops because its command is gone (both threads use it). */
export function goneMessage(parentPid: number | null, text = farewell): string {
  return `tensorlane: the tensorlane command (pid ${parentPid}) is gone: training stopped. ${text}`;
}
