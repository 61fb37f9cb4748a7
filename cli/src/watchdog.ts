// The trainer's watchdog: a worker thread (started by parent-watch.ts, built beside cli.js as
// dist/watchdog.js) that ends the trainer when its `tensorlane` command is gone and the training
// loop is too busy to notice (a validation pass, the test set, a long step). It gives the loop
// WATCHDOG_GRACE_MS to stop by itself, waits for a write to the run folder in progress to end,
// then does what the loop would have done: removes this process's temporary files, releases the
// lock if it is still this run's, removes the run folder if this run made it and it stayed empty,
// says why on stderr, and ends the process (SIGKILL: the loop's thread cannot run a handler).
import { writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { ENDING, goneMessage, IDLE, signalReaches, WRITING, type WatchdogData, type WatchdogMessage, type WatchedRun } from "./parent-watch.js";
import { removeLeftoversOf } from "./run-files.js";

const { parentPid, flag: shared, graceMs } = workerData as WatchdogData;
const flag = new Int32Array(shared);
let run: WatchedRun | null = null;
let farewell = "";
parentPort?.on("message", (m: WatchdogMessage) => {
  if (m.type === "run") run = m.run;
  else farewell = m.text;
});

let goneAt: number | null = null;
const timer = setInterval(() => {
  if (goneAt === null) {
    if (process.ppid === parentPid && signalReaches(parentPid)) return;
    goneAt = performance.now();
  }
  if (performance.now() - goneAt < graceMs) return;
  clearInterval(timer);
  end();
}, 50);

function end(): void {
  // A write in progress ends within its own checks (it renames, or its last check sees the parent
  // gone and the loop exits); ENDING already set: the loop is ending the process itself.
  for (;;) {
    const was = Atomics.compareExchange(flag, 0, IDLE, ENDING);
    if (was === IDLE) break;
    if (was === ENDING) return;
    Atomics.wait(flag, 0, WRITING, 20);
  }
  if (run !== null) removeLeftoversOf(run, process.pid, run.startedAt);
  try {
    writeSync(2, `\n${goneMessage(parentPid, farewell)}\n`); // process.stderr would wait for the busy main thread
  } catch {
    // no terminal left to tell
  }
  process.kill(process.pid, "SIGKILL");
}
