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
import { shellArg } from "./format.js";
import { removeLeftoversOf } from "./run-files.js";

export const CHILD_ENV = "TENSORLANE_TRAIN_CHILD";

/**
 * What the child tells its parent: its run folder as soon as it holds the lock (what to clean up
 * if it is killed), the checkpoint it starts from, then each checkpoint it saves.
 */
export type ChildMessage =
  | { type: "locked"; dir: string; lock: string; created: string | null }
  | { type: "run" | "saved"; checkpoint: string; epoch: number; numEpochs: number };

const EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/** Runs `tensorlane train ...` in a child process; resolves to the exit code. */
export async function superviseTrain(argv: string[], stderr: (text: string) => void = (t) => void process.stderr.write(t)): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, [CHILD_ENV]: String(process.pid) }, // the parent the child watches (parent-watch.ts)
  });
  let locked: Extract<ChildMessage, { type: "locked" }> | null = null;
  let saved: Exclude<ChildMessage, { type: "locked" }> | null = null;
  let stoppedBy: NodeJS.Signals | null = null;
  child.on("message", (m: ChildMessage) => {
    if (m.type === "locked") locked = m;
    else if (m.type === "saved" || m.epoch > 0) saved = m; // "run" at epoch 0: nothing saved yet
  });
  let exited = false;
  const stop = (signal: NodeJS.Signals) => {
    if (exited) return; // the run is over (a signal now would only cut the cleanup short)
    stoppedBy = signal;
    child.kill(signal); // a terminal's Ctrl-C reached the child too: a second signal changes nothing
  };
  // Kept until this process ends.
  for (const s of Object.keys(EXIT_CODES) as NodeJS.Signals[]) process.on(s, stop);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on("exit", (c, s) => done([c, s])));
  exited = true;
  const l = locked as Extract<ChildMessage, { type: "locked" }> | null;
  // The child ended without cleaning up (killed): what it left in the run folder.
  if (l !== null && code !== 0 && child.pid !== undefined) removeLeftoversOf(l, child.pid);
  const by = signal ?? stoppedBy;
  if (by === null || (signal === null && code === 0)) return code ?? 1;

  const s = saved as Exclude<ChildMessage, { type: "locked" }> | null;
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
