#!/usr/bin/env node
// The `tensorlane` executable: runs the bundled CLI in dist/. This small launcher is committed
// (not built) so that npm links the bin even in a fresh clone before the first build.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  console.error("tensorlane: the command line is not built yet: run `npm run build` (or `npm start`) at the repository root");
  process.exit(1);
}
await import(cli.href);
