#!/usr/bin/env node
// The `tensorlane` executable: runs the bundled CLI in dist/. This small launcher is committed
// (not built) so that npm links the bin even in a fresh clone before the first build.
try {
  await import("../dist/cli.js");
} catch (error) {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/cli.js")) {
    console.error("tensorlane: the command line is not built yet: run `npm run build` (or `npm start`) at the repository root");
    process.exit(1);
  }
  throw error;
}
