// Ctrl-C during `tensorlane train`. The Solver's loop is synchronous, so a signal handler in the
// training process would only run after training: instead the command runs training in a child
// process (the same command, marked by TENSORLANE_TRAIN_CHILD=<this pid>) and stays free to react. On
// SIGINT/SIGTERM/SIGHUP the child stops at once, abandoning the step it was in (nothing of it
// reaches a file); the last epoch's checkpoint is intact because every checkpoint is written to a
// temporary file and renamed over the old one. The parent removes what the child left (a
// half-written temporary file, the run folder's lock) and prints the exact command that resumes
// the run. The child reports its run folder and each checkpoint over IPC.
//
// If this command dies instead (SIGKILL, a crash), the child notices and stops by itself
// (parent-watch.ts).
import { spawn } from "node:child_process";
import { unlinkSync } from "node:fs";
import { shellArg } from "./format.js";
import { readLock } from "./run-lock.js";
import { removeTemporaryFilesOf } from "./run-files.js";

export const CHILD_ENV = "TENSORLANE_TRAIN_CHILD";

/** What the child tells its parent: its run folder once locked, then each checkpoint. */
export type ChildMessage =
  | { type: "run"; dir: string; lock: string; checkpoint: string; epoch: number; numEpochs: number }
  | { type: "saved"; checkpoint: string; epoch: number; numEpochs: number };

const EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/** Runs `tensorlane train ...` in a child process; resolves to the exit code. */
export async function superviseTrain(argv: string[], stderr: (text: string) => void = (t) => void process.stderr.write(t)): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, [CHILD_ENV]: String(process.pid) }, // the parent the child watches (parent-watch.ts)
  });
  let run: Extract<ChildMessage, { type: "run" }> | null = null;
  let saved: { checkpoint: string; epoch: number; numEpochs: number } | null = null;
  let stoppedBy: NodeJS.Signals | null = null;
  child.on("message", (m: ChildMessage) => {
    if (m.type === "run") run = m;
    if (m.type === "run" ? m.epoch > 0 : true) saved = m;
  });
  const stop = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    child.kill(signal); // a terminal's Ctrl-C reached the child too: a second signal changes nothing
  };
  const signals = Object.keys(EXIT_CODES) as NodeJS.Signals[];
  for (const s of signals) process.on(s, stop);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on("exit", (c, s) => done([c, s])));
  for (const s of signals) process.off(s, stop);
  const r = run as Extract<ChildMessage, { type: "run" }> | null;
  if (r !== null && code !== 0) cleanUpAfter(r, child.pid);
  const by = signal ?? stoppedBy;
  if (by === null || (signal === null && code === 0)) return code ?? 1;

  const s = saved as { checkpoint: string; epoch: number; numEpochs: number } | null;
  let text = `\ntensorlane: interrupted (${by}); the step in progress was abandoned.\n`;
  if (s === null) {
    text += "No epoch had finished, so nothing was saved: run the same command again to start over.\n";
  } else {
    text +=
      `The checkpoint of epoch ${s.epoch}/${s.numEpochs} is intact: ${s.checkpoint}\n` +
      `Resume with:\n  tensorlane train --resume ${shellArg(s.checkpoint)}\n`;
  }
  stderr(text);
  return EXIT_CODES[by] ?? 1;
}

// The child ended without cleaning up (killed): its temporary files, and the lock if still its own.
function cleanUpAfter(run: { dir: string; lock: string }, pid: number | undefined): void {
  if (pid === undefined) return;
  removeTemporaryFilesOf(run.dir, pid);
  try {
    const holder = readLock(run.lock);
    if (holder !== null && holder !== "unreadable" && holder.pid === pid) removeLock(run.lock);
  } catch {
    // unreadable: the next command decides
  }
}

function removeLock(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or the folder is read-only now: the next command takes it over as stale
  }
}
