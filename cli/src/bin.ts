// The `tensorlane` executable (rollup adds the #!/usr/bin/env node line to dist/cli.js).
// `train` runs under a supervisor (supervise.ts) so that Ctrl-C leaves a resumable run.
import { watchParent } from "./parent-watch.js";
import { main } from "./program.js";
import { CHILD_ENV, superviseTrain } from "./supervise.js";

// `tensorlane eval ... | head`: a closed pipe ends the command quietly, not with an EPIPE trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}

const supervised = process.argv[2] === "train" && process.env[CHILD_ENV] === undefined && !process.argv.some((a) => a === "-h" || a === "--help");
// The trainer under a supervising command stops by itself when that command dies (parent-watch.ts).
const parentPid = Number(process.env[CHILD_ENV]);
if (Number.isSafeInteger(parentPid) && parentPid > 0 && typeof process.send === "function") watchParent(parentPid);
process.exitCode = supervised ? await superviseTrain(process.argv) : await main(process.argv);
