// The `tensorlane` executable (rollup adds the #!/usr/bin/env node line to dist/cli.js).
import { main } from "./program.js";

process.exitCode = await main(process.argv);
