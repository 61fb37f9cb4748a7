// Ctrl-C during `tensorlane train`. The Solver's loop is synchronous, so a signal handler in the
// training process would only run after training: instead the command runs training in a child
// process (the same command, marked by TENSORLANE_TRAIN_CHILD) and stays free to react. On
// SIGINT/SIGTERM the child stops at once, abandoning the step it was in (nothing of it reaches a
// file); the last epoch's checkpoint is intact because every checkpoint is written to a temporary
// file and renamed over the old one. The parent removes a half-written temporary file and prints
// the exact command that resumes the run. The child reports each checkpoint over IPC.
import { spawn } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export const CHILD_ENV = "TENSORLANE_TRAIN_CHILD";

interface Saved {
  checkpoint: string;
  epoch: number;
  numEpochs: number;
}

/** Runs `tensorlane train ...` in a child process; resolves to the exit code. */
export async function superviseTrain(argv: string[], stderr: (text: string) => void = (t) => void process.stderr.write(t)): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, [CHILD_ENV]: "1" },
  });
  let saved: Saved | null = null;
  let stoppedBy: NodeJS.Signals | null = null;
  child.on("message", (m) => (saved = m as Saved));
  const stop = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    child.kill(signal); // a terminal's Ctrl-C reached the child too: a second signal changes nothing
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on("exit", (c, s) => done([c, s])));
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  const by = signal ?? stoppedBy;
  if (by === null || (signal === null && code === 0)) return code ?? 1;

  const s = saved as Saved | null;
  let text = `\ntensorlane: interrupted (${by}); the step in progress was abandoned.\n`;
  if (s === null) {
    text += "No epoch had finished, so nothing was saved: run the same command again to start over.\n";
  } else {
    removeTemporaryFiles(s.checkpoint, child.pid);
    const arg = /^[\w./@:=+-]+$/.test(s.checkpoint) ? s.checkpoint : `'${s.checkpoint.replace(/'/g, "'\\''")}'`;
    text +=
      `The checkpoint of epoch ${s.epoch}/${s.numEpochs} is intact: ${s.checkpoint}\n` +
      `Resume with:\n  tensorlane train --resume ${arg}\n`;
  }
  stderr(text);
  return by === "SIGINT" ? 130 : 143;
}

// A checkpoint being written when the signal came: `.checkpoint.safetensors.<pid>.<n>.tmp`.
function removeTemporaryFiles(checkpoint: string, pid: number | undefined): void {
  if (pid === undefined) return;
  const prefix = `.${basename(checkpoint)}.${pid}.`;
  try {
    for (const name of readdirSync(dirname(checkpoint))) {
      if (name.startsWith(prefix) && name.endsWith(".tmp")) rmSync(join(dirname(checkpoint), name), { force: true });
    }
  } catch {
    // The folder is gone or unreadable: nothing to clean.
  }
}
