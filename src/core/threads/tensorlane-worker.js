// tensorlane's thread worker: plain JavaScript with no imports, shipped as dist/tensorlane-worker.js
// and started with `new Worker(new URL("./tensorlane-worker.js", import.meta.url), { type: "module" })`
// (a file served from the page's own origin: no blob:, no eval, so a strict CSP keeps working).
//
// One file, two roles, chosen by the first message:
//   "supervisor"  started by the library's thread; it starts the kernel workers and watches them.
//                 Its event loop stays free while the library's thread blocks in Atomics.wait, so
//                 when a kernel worker dies (terminated, out of memory, crashed) it can mark the
//                 worker dead in the control block and wake the waiting thread, which then throws
//                 instead of hanging.
//   "kernel"      instantiates the kernel modules over the shared memory and runs one kernel call
//                 per command: it never allocates, it only calls exports on pointer ranges (or,
//                 for a kernel family first used after the start, instantiates one more module).
//
// The control block (a SharedArrayBuffer, not wasm memory) has one slot per thread; the layout is
// sent in the first message by src/core/threads/pool.ts, which owns it.

/** Web-style worker (browsers, Deno, Bun) or Node's worker_threads. */
const web = typeof globalThis.postMessage === "function" && typeof globalThis.addEventListener === "function";
const nodeThreads = web ? null : globalThis.process.getBuiltinModule("worker_threads");

function onParentMessage(handler) {
  if (web) globalThis.addEventListener("message", (event) => handler(event.data));
  else nodeThreads.parentPort.on("message", handler);
}

function toParent(message) {
  if (web) globalThis.postMessage(message);
  else nodeThreads.parentPort.postMessage(message);
}

let started = false;
onParentMessage((message) => {
  if (message && message.type === "start" && !started) {
    started = true;
    if (message.role === "supervisor") supervise(message);
    else runKernels(message);
  } else if (message && message.type === "stop") {
    stopChildren();
  } else if (message && message.type === "test-kill") {
    // Test hook: terminate kernel worker `index` after `delayMs` (the fault tests); index 0: this
    // supervisor stops beating and exits, taking its kernel workers with it.
    setTimeout(() => {
      if (message.index > 0) children[message.index - 1]?.terminate();
      else if (web) globalThis.close();
      else globalThis.process.exit(1); // ends this thread at once, and its kernel workers with it
    }, message.delayMs);
  }
});

// ---- supervisor ---------------------------------------------------------------------------------

const children = [];
let heartbeat = 0;

function supervise(start) {
  const { layout, count } = start;
  const control = new Int32Array(start.control);
  // Proof of life for a caller waiting on the kernel workers (see pool.ts).
  heartbeat = setInterval(() => Atomics.add(control, layout.heartbeat, 1), layout.heartbeatMs);
  let ready = 0;
  for (let index = 1; index < count; index++) {
    const child = web
      ? new Worker(start.workerUrl, { type: "module", name: `tensorlane kernel ${index}` })
      : new nodeThreads.Worker(new URL(start.workerUrl), { name: `tensorlane kernel ${index}`, execArgv: [] });
    children.push(child);
    let dead = false;
    const died = (reason) => {
      if (dead) return;
      dead = true;
      const base = index * layout.slotInts;
      Atomics.store(control, base + layout.status, layout.statusDead);
      writeMessage(control, base, layout, reason);
      Atomics.store(control, base + layout.done, -1);
      Atomics.notify(control, base + layout.done);
      toParent({ type: "dead", index, reason });
    };
    const onMessage = (m) => {
      if (m && m.type === "ready") {
        ready++;
        if (ready === count - 1) toParent({ type: "ready" });
      } else if (m && m.type === "failed") {
        toParent({ type: "failed", index, reason: m.reason });
      }
    };
    if (web) {
      child.addEventListener("message", (e) => onMessage(e.data));
      child.addEventListener("error", (e) => {
        e.preventDefault?.();
        died(`worker ${index} failed: ${e.message || "error"}`);
      });
    } else {
      child.on("message", onMessage);
      child.on("error", (e) => died(`worker ${index} failed: ${e?.message ? e.message : e}`));
      child.on("exit", (code) => died(`worker ${index} exited (code ${code})`));
    }
    const message = { ...start, role: "kernel", index };
    try {
      child.postMessage(message);
    } catch {
      // An engine that cannot send a compiled module to a worker: send the bytes only.
      child.postMessage({ ...message, modules: start.modules.map((m) => ({ ...m, module: undefined })) });
    }
  }
  if (count <= 1) toParent({ type: "ready" });
}

function stopChildren() {
  clearInterval(heartbeat);
  for (const child of children) child.terminate();
  children.length = 0;
  if (web) globalThis.close();
  else nodeThreads.parentPort.close();
}

function writeMessage(control, base, layout, text) {
  const n = Math.min(text.length, layout.messageInts);
  for (let i = 0; i < n; i++) control[base + layout.message + i] = text.charCodeAt(i);
  control[base + layout.messageLength] = n;
}

// ---- kernel worker ------------------------------------------------------------------------------

async function runKernels(start) {
  const { layout, index } = start;
  const control = new Int32Array(start.control);
  const args = new Float64Array(start.control);
  const base = index * layout.slotInts;
  // Every kernel module over the one shared memory, the core first (the float64 module has no
  // data of its own); kernel indices count through the modules' name lists in order.
  const kernels = [];
  const abort = () => {
    throw new Error("tensorlane kernel aborted");
  };
  try {
    for (const { module, bytes, names } of start.modules) {
      const compiled = module instanceof WebAssembly.Module ? module : await WebAssembly.compile(bytes);
      const { exports } = await WebAssembly.instantiate(compiled, { env: { memory: start.memory, abort } });
      for (const name of names) kernels.push(exports[name.slice(name.indexOf(":") + 1)]);
    }
  } catch (error) {
    toParent({ type: "failed", reason: String(error?.message ? error.message : error) });
    return;
  }
  const cmd = base + layout.command;
  const done = base + layout.done;
  const argBase = (base + layout.args) >> 1; // index into the Float64Array
  // A fresh control block starts at 0. (Not read after "ready": the first command may come
  // before this thread runs again.)
  let seen = 0;
  toParent({ type: "ready" });
  for (;;) {
    // Spin briefly (a training step issues its kernels back to back), then sleep.
    let next = Atomics.load(control, cmd);
    for (let spin = 0; next === seen && spin < layout.spin; spin++) next = Atomics.load(control, cmd);
    while (next === seen) {
      Atomics.wait(control, cmd, seen);
      next = Atomics.load(control, cmd);
    }
    seen = next;
    if (next === layout.stop) break;
    const kernel = kernels[control[base + layout.kernel]];
    const argc = control[base + layout.argc];
    let status = 0;
    try {
      if (control[base + layout.kernel] === layout.addModule) {
        // A kernel family first used after the workers started: its bytes lie in the shared memory.
        const bytes = new Uint8Array(start.memory.buffer, args[argBase], args[argBase + 1]).slice();
        const module = new WebAssembly.Module(bytes);
        const { exports } = new WebAssembly.Instance(module, { env: { memory: start.memory, abort } });
        for (const e of WebAssembly.Module.exports(module)) if (e.kind === "function") kernels.push(exports[e.name]);
      } else if (control[base + layout.mode] === 1) {
        // Chunks: take [start, end) ranges from the shared counter until none is left.
        const call = Array.from(args.subarray(argBase, argBase + argc));
        const rangeArg = control[base + layout.rangeArg];
        const count = control[base + layout.chunks];
        const table = start.count * layout.slotInts;
        control[base + layout.taken] = 0;
        for (let r = Atomics.add(control, layout.claim, 1); r < count; r = Atomics.add(control, layout.claim, 1)) {
          call[rangeArg] = control[table + 2 * r];
          call[rangeArg + 1] = control[table + 2 * r + 1];
          control[base + layout.taken]++;
          kernel(...call);
        }
      } else
        switch (argc) {
          case 0:
            kernel();
            break;
          case 1:
            kernel(args[argBase]);
            break;
          case 2:
            kernel(args[argBase], args[argBase + 1]);
            break;
          case 3:
            kernel(args[argBase], args[argBase + 1], args[argBase + 2]);
            break;
          case 4:
            kernel(args[argBase], args[argBase + 1], args[argBase + 2], args[argBase + 3]);
            break;
          default:
            kernel(...args.subarray(argBase, argBase + argc));
        }
    } catch (error) {
      status = layout.statusThrew;
      writeMessage(control, base, layout, String(error?.message ? error.message : error));
    }
    control[base + layout.status] = status;
    Atomics.store(control, done, seen);
    Atomics.notify(control, done);
  }
  if (web) globalThis.close();
  else nodeThreads.parentPort.close();
}
