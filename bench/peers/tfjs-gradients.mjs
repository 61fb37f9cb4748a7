// tfjs-core's Node build (tf-core.node.js) registers no gradients: the `@tensorflow/tfjs` union
// package does it by importing tfjs-core/dist/register_all_gradients, an ES module tree whose
// extensionless imports Node cannot load. esbuild (already a devDependency) bundles that tree
// into one module, loaded here from memory. Its copy of the ops runs on the same global engine
// and registries as the main copy (tfjs keeps both on the global object), so optimizer.minimize
// works exactly as it does for a user of the union package.
import { createRequire } from "node:module";
import esbuild from "esbuild";

const require = createRequire(import.meta.url);

let done = null;

/** Registers every tfjs-core gradient once per process. */
export function registerTfjsGradients() {
  done ??= (async () => {
    const entry = require.resolve("@tensorflow/tfjs-core/dist/register_all_gradients.js");
    const out = await esbuild.build({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", write: false, logLevel: "error" });
    const code = Buffer.from(out.outputFiles[0].contents).toString("base64");
    await import(`data:text/javascript;base64,${code}`);
  })();
  return done;
}
