// Whether a process on this host still runs: what makes a run folder's lock or temporary file stale.
import { readFileSync } from "node:fs";

/**
 * True while `pid` runs. Signal 0 asks the kernel without sending anything: ESRCH means gone,
 * EPERM means alive but someone else's. A zombie (exited, not yet reaped by its parent; in a
 * container whose first process never reaps, for good) counts as gone: Linux shows it as state Z.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return !zombie(pid);
}

function zombie(pid: number): boolean {
  try {
    // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false; // no /proc (macOS, Windows): signal 0 is all there is
  }
}
