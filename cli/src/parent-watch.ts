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

let watchedPpid: number | null = null;
const atExit = new Set<() => void>();
let farewell: () => string = () => "";

/**
 * Starts watching `parentPid` (the supervising command, which passes its pid: the trainer may
 * start after it died, and then process.ppid is already another process's).
 */
export function watchParent(parentPid: number): void {
  if (watchedPpid !== null) return;
  watchedPpid = parentPid;
  checkParent();
  setInterval(checkParent, 100).unref();
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

// Where a dead parent's children are not handed to another process (Windows), ppid stays the
// same: signal 0 then tells (it reaches a zombie too, which ppid covers on Linux and macOS).
function signalReaches(pid: number): boolean {
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

/** The line the trainer leaves on stderr when it stops (the checkpoint to resume from). */
export function setFarewell(text: () => string): void {
  farewell = text;
}

function stopOrphan(): never {
  const parent = watchedPpid;
  watchedPpid = null;
  for (const cleanup of atExit) {
    try {
      cleanup();
    } catch {
      // keep going: the other cleanups matter as much
    }
  }
  try {
    process.stderr.write(`\ntensorlane: the tensorlane command (pid ${parent}) is gone: training stopped. ${farewell()}\n`);
  } catch {
    // no terminal left to tell
  }
  process.exit(1);
}
