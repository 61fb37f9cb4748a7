// Shared by the browser pages: run the scenario and leave the outcome where the test reads it.
import { scenario } from "/cross-runtime/scenario.js";

export async function run(tl, init) {
  const t0 = performance.now();
  await init();
  const t1 = performance.now();
  const result = await scenario(tl);
  return { ...result, initMs: t1 - t0, runMs: performance.now() - t1 };
}

const violations = [];
if (typeof document !== "undefined") {
  document.addEventListener("securitypolicyviolation", (e) => violations.push(`${e.violatedDirective}: ${e.blockedURI}`));
}

export function report(promise) {
  promise.then(
    (result) => (globalThis.__crossRuntime = { result, violations }),
    (error) => (globalThis.__crossRuntime = { error: String(error?.stack ? error.stack : error), violations }),
  );
}
