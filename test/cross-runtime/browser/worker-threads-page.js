// A cross-origin isolated page that trains in a module Web Worker with 2 threads.
import { report } from "/cross-runtime/browser/report.js";

const worker = new Worker("/cross-runtime/browser/worker-threads.js", { type: "module" });
report(
  new Promise((resolve, reject) => {
    worker.onmessage = (event) => (event.data.error ? reject(new Error(event.data.error)) : resolve(event.data.result));
    worker.onerror = (event) => reject(new Error(`worker error: ${event.message}`));
  }),
);
