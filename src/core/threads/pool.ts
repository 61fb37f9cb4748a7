// The worker pool: a supervisor worker that starts `count - 1` kernel workers over the shared wasm
// memory, and the control block through which the calling thread hands them kernel calls.
//
// Dispatch is one slot per worker in a SharedArrayBuffer: the caller writes the kernel index and
// the arguments, bumps `command` and notifies; the worker runs the call, stores the sequence number
// in `done` and notifies. Both sides spin briefly before Atomics.wait, because a training step
// issues dozens of calls back to back and a futex wake-up costs more than a short spin.
// The calling thread runs task 0 itself, then waits for the others.
//
// Chunked calls (runChunks) balance the load instead of fixing it: the caller writes a table of
// [start, end) ranges after the slots, and every thread (the caller too) takes the next range
// from a shared counter until none is left. A thread that runs slower (another process on its
// core, an efficiency core) simply takes fewer ranges. Which thread runs a range never changes
// its result.

/** Int32 offsets inside a slot; sent to the worker in its first message (this file owns them). */
export const LAYOUT = {
  slotInts: 256, // 1 KiB per slot: slots never share a cache line
  command: 0, // sequence number of the latest command (stop: -1)
  done: 16, // sequence number of the latest finished command; -1 once the worker is dead
  kernel: 32, // index into the kernel names, or addModule
  argc: 33,
  status: 34, // 0 ok, statusThrew, statusDead
  messageLength: 35,
  args: 48, // 32 float64 arguments from here (an even Int32 index)
  message: 128, // 128 UTF-16 code units of an error message
  messageInts: 128,
  maxArgs: 32,
  mode: 36, // 0: one call with the slot's arguments; 1: chunks (take ranges until none is left)
  rangeArg: 37, // chunks: the index of the [start, end) pair in the arguments
  chunks: 38, // chunks: how many ranges the table holds
  taken: 39, // chunks: how many ranges this worker ran (for tests and benchmarks)
  claim: 16, // in slot 0 (the calling thread's, otherwise unused): the next range to take
  maxChunks: 256, // the range table: 2 Int32 per range, from Int32 index count * slotInts
  addModule: -2, // in `kernel`: instantiate the module whose bytes the arguments (pointer, length) locate
  statusThrew: 1,
  statusDead: 2,
  stop: -1,
  // worker: Atomics.load polls before sleeping (about 0.5-1.5 ms). A training step leaves gaps of
  // that order between split calls (small layers run on the calling thread); a worker that slept
  // in them costs a 60-500 µs wake-up per call. Measured on the FC step: 20,000 polls 1.42x,
  // 500,000 polls 1.61x with 2 threads (2,000,000: no better).
  spin: 500000,
  heartbeat: 0, // in slot 0 (the calling thread's, otherwise unused): the supervisor bumps it
  heartbeatMs: 250,
} as const;

/** Polls of the calling thread before it sleeps in Atomics.wait. */
const CALLER_SPIN = 20000;
/** A supervisor silent this long is taken for dead (its kernel workers die with it). */
const SUPERVISOR_SILENCE_MS = 5000;

/** What the pool needs from the environment to start a worker. */
export interface WorkerHost {
  /** Starts the supervisor script; messages from it go to `onMessage`. */
  start(url: URL | string, onMessage: (message: PoolMessage) => void, onError: (reason: string) => void): WorkerHandle;
}

export interface WorkerHandle {
  postMessage(message: unknown): void;
  terminate(): void;
  /** Node: let the process exit while the pool idles (no-op elsewhere). */
  unref(): void;
  ref(): void;
}

export type PoolMessage = { type: "ready" } | { type: "failed"; index: number; reason: string } | { type: "dead"; index: number; reason: string };

export interface PoolOptions {
  count: number;
  memory: WebAssembly.Memory;
  /**
   * The kernel modules every worker instantiates over `memory`, in order (the core first), each
   * with the names of its function exports as the pool lists them: kernel indices count through
   * the modules' names in this order.
   */
  modules: readonly { module: WebAssembly.Module; bytes: Uint8Array; names: readonly string[] }[];
  workerUrl: URL | string;
  host: WorkerHost;
  /** False on a page's main thread, where Atomics.wait throws: the caller then only spins. */
  canBlock: boolean;
}

export class Pool {
  readonly count: number;
  /** Why the pool stopped working (a worker died), or null while it works. */
  broken: string | null = null;
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private readonly sequence: number[];
  /** False on a page's main thread: the caller spins instead of Atomics.wait. */
  readonly canBlock: boolean;
  private readonly supervisor: WorkerHandle;
  private disposed = false;
  /** Ranges each thread ran in the last chunked call (the workers' counts live in their slots). */
  private taken: number[] = [];

  private constructor(count: number, control: SharedArrayBuffer, supervisor: WorkerHandle, canBlock: boolean) {
    this.count = count;
    this.control = new Int32Array(control);
    this.args = new Float64Array(control);
    this.sequence = new Array<number>(count).fill(0);
    this.supervisor = supervisor;
    this.canBlock = canBlock;
  }

  /** Starts the workers; resolves once every one has instantiated the module. */
  static start(options: PoolOptions): Promise<Pool> {
    const control = new SharedArrayBuffer((options.count * LAYOUT.slotInts + 2 * LAYOUT.maxChunks) * 4);
    return new Promise<Pool>((resolve, reject) => {
      let pool: Pool | null = null;
      let settled = false;
      const fail = (reason: string): void => {
        if (!settled) {
          settled = true;
          supervisor.terminate();
          const deno = /requires read access/i.test(reason)
            ? ` (Deno: allow reading the worker script, e.g. --allow-read=${String(options.workerUrl).replace(/^file:\/\//, "")})`
            : "";
          reject(new Error(`init: could not start ${options.count - 1} worker thread(s): ${reason}${deno}`));
        } else if (pool && !pool.broken && !pool.disposed) {
          pool.broken = reason;
        }
      };
      const supervisor = options.host.start(
        options.workerUrl,
        (message) => {
          if (message.type === "ready" && !settled) {
            settled = true;
            pool = new Pool(options.count, control, supervisor, options.canBlock);
            supervisor.unref();
            resolve(pool);
          } else if (message.type === "failed") {
            fail(`worker ${message.index}: ${message.reason}`);
          } else if (message.type === "dead") {
            fail(message.reason);
          }
        },
        (reason) => fail(`the supervisor worker failed: ${reason}`),
      );
      const start = {
        type: "start",
        role: "supervisor",
        count: options.count,
        layout: LAYOUT,
        control,
        memory: options.memory,
        modules: options.modules,
        workerUrl: String(options.workerUrl),
      };
      try {
        supervisor.postMessage(start);
      } catch {
        // Engines that cannot send a compiled Module: the bytes only.
        supervisor.postMessage({ ...start, modules: options.modules.map((m) => ({ ...m, module: undefined })) });
      }
    });
  }

  /**
   * Runs `kernel` once per task, task i on thread i (0: here). Returns when all finished; throws
   * if a call threw or a worker died (after every live worker finished its task).
   */
  run(kernelIndex: number, name: string, direct: (...args: number[]) => unknown, tasks: readonly (readonly number[])[]): void {
    this.dispatch(kernelIndex, name, direct, tasks, null);
  }

  /**
   * Runs `kernel` once per range: the call's arguments are `perThread[t]` on thread t (they may
   * differ, e.g. in a scratch pointer) with the range's [start, end) at `rangeArg`, `rangeArg + 1`.
   * Threads take ranges from a shared counter until none is left. Returns when all are done;
   * throws like `run`.
   */
  runChunks(
    kernelIndex: number,
    name: string,
    direct: (...args: number[]) => unknown,
    perThread: readonly (readonly number[])[],
    rangeArg: number,
    ranges: readonly (readonly [number, number])[],
  ): void {
    if (ranges.length > LAYOUT.maxChunks) throw new RangeError(`runChunks: ${ranges.length} ranges, more than the ${LAYOUT.maxChunks} the table holds`);
    const table = this.count * LAYOUT.slotInts;
    for (let r = 0; r < ranges.length; r++) {
      this.control[table + 2 * r] = ranges[r][0];
      this.control[table + 2 * r + 1] = ranges[r][1];
    }
    Atomics.store(this.control, LAYOUT.claim, 0);
    this.dispatch(kernelIndex, name, direct, perThread, { rangeArg, count: ranges.length, ranges });
  }

  /**
   * Instantiates one more kernel module on every worker, synchronously: a kernel family first used
   * after the workers started (families.ts). Its bytes (importing the shared memory) lie in wasm
   * memory at [ptr, ptr + length); each worker compiles them and lists the module's function exports
   * after the kernels it has, in export order. Throws if a worker fails.
   */
  addModule(ptr: number, length: number, name: string): void {
    const tasks = Array.from({ length: this.count }, () => [ptr, length]);
    this.dispatch(LAYOUT.addModule, `adding the ${name} kernels`, () => undefined, tasks, null);
  }

  /** Ranges each thread ran in the last chunked call (index 0: the calling thread). */
  lastChunksTaken(): number[] {
    return this.taken.map((own, t) => (t === 0 ? own : this.control[t * LAYOUT.slotInts + LAYOUT.taken]));
  }

  private dispatch(
    kernelIndex: number,
    name: string,
    direct: (...args: number[]) => unknown,
    tasks: readonly (readonly number[])[],
    chunks: { rangeArg: number; count: number; ranges: readonly (readonly [number, number])[] } | null,
  ): void {
    const c = this.control;
    this.checkAlive(name);
    for (const task of tasks) {
      if (task.length > LAYOUT.maxArgs)
        throw new RangeError(`runTasks: a task has ${task.length} arguments, more than the ${LAYOUT.maxArgs} a worker slot holds`);
    }
    for (let t = 1; t < tasks.length; t++) {
      const base = t * LAYOUT.slotInts;
      const task = tasks[t];
      c[base + LAYOUT.kernel] = kernelIndex;
      c[base + LAYOUT.argc] = task.length;
      c[base + LAYOUT.mode] = chunks === null ? 0 : 1;
      if (chunks !== null) {
        c[base + LAYOUT.rangeArg] = chunks.rangeArg;
        c[base + LAYOUT.chunks] = chunks.count;
      }
      const a = (base + LAYOUT.args) >> 1;
      for (let i = 0; i < task.length; i++) this.args[a + i] = task[i];
      const seq = ++this.sequence[t];
      Atomics.store(c, base + LAYOUT.command, seq);
      Atomics.notify(c, base + LAYOUT.command);
    }
    let ownError: unknown = null;
    try {
      if (chunks === null) direct(...tasks[0]);
      else {
        const args = tasks[0].slice();
        this.taken = new Array<number>(tasks.length).fill(0);
        for (let r = Atomics.add(c, LAYOUT.claim, 1); r < chunks.count; r = Atomics.add(c, LAYOUT.claim, 1)) {
          args[chunks.rangeArg] = chunks.ranges[r][0];
          args[chunks.rangeArg + 1] = chunks.ranges[r][1];
          this.taken[0]++;
          direct(...args);
        }
      }
    } catch (error) {
      ownError = error;
    }
    let failure: string | null = null;
    let silent = false; // the supervisor stopped beating: no point waiting for the other slots
    for (let t = 1; t < tasks.length && !silent; t++) {
      const base = t * LAYOUT.slotInts;
      const doneAt = base + LAYOUT.done;
      const seq = this.sequence[t];
      let done = Atomics.load(c, doneAt);
      for (let spin = 0; done !== seq && done !== -1 && spin < CALLER_SPIN; spin++) done = Atomics.load(c, doneAt);
      // Beyond the spin, wait in slices and watch the supervisor's heartbeat: if it died, nobody
      // would ever wake us (it is what reports a dead kernel worker).
      let beat = Atomics.load(c, LAYOUT.heartbeat);
      let beatAt = performance.now();
      let polls = 0;
      while (done !== seq && done !== -1) {
        if (this.canBlock) Atomics.wait(c, doneAt, done, 1000);
        done = Atomics.load(c, doneAt);
        if (done === seq || done === -1 || (!this.canBlock && ++polls % 65536 !== 0)) continue;
        const now = performance.now();
        const current = Atomics.load(c, LAYOUT.heartbeat);
        if (current !== beat) {
          beat = current;
          beatAt = now;
        } else if (now - beatAt > SUPERVISOR_SILENCE_MS) {
          this.broken = `the supervisor worker stopped (no heartbeat for ${SUPERVISOR_SILENCE_MS / 1000} s)`;
          failure ??= `tensorlane threads: ${this.broken} while running ${name}; the worker pool is stopped and the library continues on 1 thread. Call \`await tl.init({ threads: n })\` to start new workers (tensors are unaffected)`;
          silent = true;
          break;
        }
      }
      if (silent) break;
      const status = c[base + LAYOUT.status];
      if (done === -1 || status === LAYOUT.statusDead) {
        const reason = this.message(base);
        this.broken = reason;
        failure ??= `tensorlane threads: ${reason} while running ${name}; the worker pool is stopped and the library continues on 1 thread. Call \`await tl.init({ threads: n })\` to start new workers (tensors are unaffected)`;
      } else if (status === LAYOUT.statusThrew) {
        failure ??= `tensorlane threads: ${name} failed on thread ${t}: ${this.message(base)}`;
      }
    }
    if (ownError !== null) throw ownError;
    if (failure !== null) throw new Error(failure);
  }

  /** Throws if a worker died while idle. */
  private checkAlive(name: string): void {
    if (this.broken === null) {
      for (let t = 1; t < this.count; t++) {
        if (Atomics.load(this.control, t * LAYOUT.slotInts + LAYOUT.status) === LAYOUT.statusDead) this.broken = this.message(t * LAYOUT.slotInts);
      }
    }
    if (this.broken !== null) {
      throw new Error(
        `tensorlane threads: the worker pool is broken (${this.broken}), so ${name} cannot run on it. Call \`await tl.init({ threads: n })\` to start new workers (tensors are unaffected)`,
      );
    }
  }

  private message(base: number): string {
    const n = Math.min(this.control[base + LAYOUT.messageLength], LAYOUT.messageInts);
    let text = "";
    for (let i = 0; i < n; i++) text += String.fromCharCode(this.control[base + LAYOUT.message + i]);
    return text || "a worker stopped";
  }

  /** Test hook: the supervisor terminates kernel worker `index` (0: itself) after `delayMs`. */
  killWorkerForTest(index: number, delayMs: number): void {
    this.supervisor.postMessage({ type: "test-kill", index, delayMs });
  }

  /** Stops every worker. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (let t = 1; t < this.count; t++) {
      Atomics.store(this.control, t * LAYOUT.slotInts + LAYOUT.command, LAYOUT.stop);
      Atomics.notify(this.control, t * LAYOUT.slotInts + LAYOUT.command);
    }
    try {
      this.supervisor.postMessage({ type: "stop" });
    } catch {
      // already gone
    }
    this.supervisor.terminate();
  }
}
