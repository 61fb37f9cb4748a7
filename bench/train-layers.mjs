// node bench/train-layers.mjs [--nets=16-32-64-128] [--batch=128] [--threads=2] [--steps=10]
// Where the time of a ResNet training step goes, kernel by kernel and shape by shape: every split
// kernel call of the step (forward, loss, backward, Adam) is timed through the library's bench hook
// (traceKernels, src/core/threads/dispatch.ts), and each conv call's rate is given per thread as a
// share of the SIMD128 ceiling probe, measured in the same run on one thread. With one thread the
// convs' one-task paths call their kernels directly and are not seen: trace with 2 or more.
// Nets are written as in bench/resnet.mjs ("32-64-128d": the first stage halves the image too).
// The library is bundled from src/ (the hook is not in the public API) with esbuild.
import os from "node:os";
import { measureCeiling } from "./ceiling-probe.mjs";
import { PROFILES } from "./harness.mjs";
import { netName, parseNet, resnetTrainer } from "./resnet.mjs";
import { loadLibrary } from "./threads.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const nets = opt("nets", "16-32-64-128").split(",").map(parseNet);
const batch = Number(opt("batch", "128"));
const threads = Number(opt("threads", "2"));
const steps = Number(opt("steps", "10"));

// Where each conv kernel's sizes (N, C, H, W, F, HH, WW, stride, pad, Ho, Wo) start in its arguments.
const CONV_SIZES_AT = { conv_forward_images: 4, conv_forward_images_bn: 5, conv_backward_chunks: 5 };

/**
 * The conv sizes in a conv kernel's argument list (null for other kernels), and its multiply-adds:
 * for conv3x3_winograd (out, x, U, b, bn, N, C, H, W, F, pad, ...) and conv3x3_winograd_dw_chunks
 * the direct convolution's, so its rate is what the direct tiles would need to match it. The
 * library calls conv3x3_winograd with b = 0 only for a dx (dout convolved back to the input's
 * channels).
 */
function convCall(kernel, a) {
  if (kernel === "conv3x3_winograd_dw_chunks") {
    // (partials, dout, x, N, C, H, W, F, pad, ...): the direct dw's multiply-adds
    const [N, C, H, W, F, pad] = a.slice(3, 9);
    const macs = N * F * C * 9 * (H + 2 * pad - 2) * (W + 2 * pad - 2);
    return { label: `conv dw by Winograd ${C}x${H}x${W} -> ${F}, 3x3 s1`, macs };
  }
  if (kernel === "conv3x3_winograd") {
    const [N, C, H, W, F, pad] = a.slice(5, 11);
    const macs = N * F * C * 9 * (H + 2 * pad - 2) * (W + 2 * pad - 2);
    const what = a[3] === 0 ? `conv dx by Winograd, dout ${C}x${H}x${W} -> ${F}` : `conv forward by Winograd ${C}x${H}x${W} -> ${F}`;
    return { label: `${what}, 3x3 s1`, macs };
  }
  const at = CONV_SIZES_AT[kernel];
  if (at === undefined) return null;
  const [N, C, H, W, F, HH, WW, stride, , Ho, Wo] = a.slice(at, at + 11);
  const forward = N * F * C * HH * WW * Ho * Wo;
  // The backward computes dw always and dx unless its pointer is 0 (a first layer).
  const macs = kernel === "conv_backward_chunks" ? forward * (a[0] === 0 ? 1 : 2) : forward;
  const what = kernel === "conv_backward_chunks" ? (a[0] === 0 ? "conv backward (dw)" : "conv backward") : "conv forward";
  return { label: `${what} ${C}x${H}x${W} -> ${F}, ${HH}x${WW} s${stride}`, macs };
}

const tl = await loadLibrary();
await tl.init({ threads });
console.log(
  `ResNet training step by kernel: node ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}, ${threads} thread(s), batch ${batch}, Adam`,
);
const ceiling = await measureCeiling(PROFILES.full);
console.log(`ceiling ${ceiling.gflops.toFixed(1)} GFLOPS per thread (${ceiling.chains} chains)`);

for (const options of nets) {
  const { step, dispose } = resnetTrainer(tl, batch, options);
  for (let w = 0; w < 3; w++) step();
  const rows = new Map();
  tl.traceKernels((kernel, a, tasks, run) => {
    const t0 = performance.now();
    run();
    const ms = performance.now() - t0;
    const conv = convCall(kernel, a);
    const label = conv?.label ?? `${kernel}${tasks === 1 ? " (one task)" : ""}`;
    const row = rows.get(label) ?? { label, ms: 0, calls: 0, macs: 0 };
    row.ms += ms;
    row.calls++;
    row.macs += conv?.macs ?? 0;
    rows.set(label, row);
  });
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) step();
  const stepMs = (performance.now() - t0) / steps;
  tl.traceKernels(null);
  const seen = [...rows.values()].reduce((sum, r) => sum + r.ms, 0) / steps;
  console.log(
    `\n${netName(options)}: ${stepMs.toFixed(1)} ms per step (${((batch / stepMs) * 1000).toFixed(0)} samples/s); outside the traced calls ${(stepMs - seen).toFixed(1)} ms`,
  );
  console.log("   ms/step   share  calls  GFLOPS/thread (of ceiling)  kernel");
  for (const r of [...rows.values()].sort((a, b) => b.ms - a.ms)) {
    const ms = r.ms / steps;
    const rate = r.macs > 0 ? (2 * r.macs) / (r.ms / 1000) / 1e9 / threads : null;
    const perf = rate === null ? "" : `${rate.toFixed(1)} (${((100 * rate) / ceiling.gflops).toFixed(0)}%)`;
    console.log(
      `${ms.toFixed(2).padStart(10)} ${((100 * ms) / stepMs).toFixed(1).padStart(6)}% ${String(r.calls / steps).padStart(6)}  ${perf.padEnd(26)}  ${r.label}`,
    );
  }
  dispose();
}
tl.dispose?.();
process.exit(0);
