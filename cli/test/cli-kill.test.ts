// `tensorlane train` killed with SIGKILL (a container stop, the out-of-memory killer, kill -9):
// the signal reaches the command, not its trainer (a child process), which must notice and stop by
// itself. Two tests: eight kills at random moments, each followed at once by a resume, end with
// the exact checkpoint of a run never interrupted; and after a kill nothing of the run keeps
// running or writing past one second.
//
// The kill moments come from a seeded generator (TENSORLANE_KILL_SEED, printed, to replay a
// failure): a quarter land while the command starts up (before, during or after it spawns the
// trainer), the rest in training, up to 1.2 epochs after training starts or after the first epoch
// ends (so some land in a checkpoint write). Each attempt gets at most a few epochs done, so the
// eight kills cannot finish the run before the last resume does.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tl from "tensorlane";

const root = resolve(import.meta.dirname, "..");
const cli = join(root, "dist", "cli.js");
const dir = mkdtempSync(join(tmpdir(), "tensorlane-kill-"));
const trainers = new Set<number>(); // trainer pids seen, killed at the end if a test failed midway
afterAll(() => {
  for (const pid of trainers) if (running(pid)) process.kill(pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});
beforeAll(() => tl.init());

// 2,800 training images in batches of 20: 140 steps an epoch, about 0.05 s each on this machine.
const RUN = ["--hidden", "32", "--train-samples", "3000", "--val", "200", "--batch-size", "20", "--seed", "7"];
const EPOCHS = 24;

interface Started {
  child: ChildProcess;
  spawnedAt: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the trainer has printed its "training:" line (training starts). */
  training: Promise<number>;
  /** Resolves when this command has printed its n-th epoch line (the epoch's files are written). */
  epochEnd: (n: number) => Promise<number>;
  /** When the trainer said it noticed its command was gone. */
  noticedAt: () => number | null;
}

function start(args: string[], nodeArgs: string[] = []): Started {
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let trainingAt: (t: number) => void = () => undefined;
  const training = new Promise<number>((done) => (trainingAt = done));
  const epochs: number[] = [];
  child.stdout!.on("data", (d) => {
    stdout += d;
    if (/\ntraining: /.test(stdout)) trainingAt(performance.now());
    const lines = (stdout.match(/\nepoch \d+\//g) ?? []).length;
    while (epochs.length < lines) epochs.push(performance.now());
    for (const w of waiters.splice(0)) if (!w()) waiters.push(w);
  });
  const waiters: (() => boolean)[] = [];
  const epochEnd = (n: number) =>
    new Promise<number>((done) => {
      const ready = () => (epochs.length >= n ? (done(epochs[n - 1]), true) : false);
      if (!ready()) waiters.push(ready);
    });
  child.stderr!.on("data", (d) => {
    stderr += d;
    if (noticedAt === null && /is gone: training stopped/.test(stderr)) noticedAt = performance.now();
  });
  let noticedAt: number | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on("exit", (code, signal) => done({ code, signal })));
  return { child, spawnedAt: performance.now(), stdout: () => stdout, stderr: () => stderr, exited, training, epochEnd, noticedAt: () => noticedAt };
}

/** Alive and not a zombie (an exited process its new parent has not reaped yet runs nothing). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The processes whose parent is `pid` (Linux: /proc/<pid>/stat's fourth field). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The trainer's pid, from the run folder's lock (null before the trainer took it). */
function trainerPid(out: string): number | null {
  try {
    const pid = JSON.parse(readFileSync(join(out, ".lock"), "utf8")).pid as number;
    trainers.add(pid);
    return pid;
  } catch {
    return null;
  }
}

/** Every file in the folder with its size, mtime and content hash. */
function snapshot(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    out[name] = `${statSync(path).size} ${statSync(path).mtimeMs} ${createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16)}`;
  }
  return out;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

// mulberry32: small, seeded, the same moments on every machine.
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("tensorlane train killed with SIGKILL", () => {
  beforeAll(() => {
    expect(existsSync(cli), "run `npm run build` first").toBe(true);
  });

  it("eight kills at random moments, each resumed at once, end with the exact checkpoint of a run never interrupted", async () => {
    // The uninterrupted run, which also times this machine: start-up, and training.
    const straight = join(dir, "straight");
    const s = start(["train", ...RUN, "--epochs", String(EPOCHS), "--out", straight]);
    const trainingStarts = (await s.training) - s.spawnedAt;
    const { code } = await s.exited;
    expect(code, s.stderr()).toBe(0);
    const trainingMs = 1000 * Number(/training ([\d.]+) s\)/.exec(s.stdout())![1]);
    const epochMs = trainingMs / EPOCHS;

    const seed = Number(process.env.TENSORLANE_KILL_SEED ?? 24);
    const next = random(seed);
    const out = join(dir, "killed");
    const fresh = ["train", ...RUN, "--epochs", String(EPOCHS), "--out", out];
    const resume = [...fresh, "--resume", join(out, "checkpoint.safetensors")];
    const log: string[] = [`kill seed ${seed} (TENSORLANE_KILL_SEED); start-up ${trainingStarts.toFixed(0)} ms, training ${trainingMs.toFixed(0)} ms`];
    const stops: number[] = [];
    for (let k = 1; k <= 8; k++) {
      // At once: no waiting for the previous trainer, which may still be stopping.
      const resuming = existsSync(join(out, "checkpoint.safetensors"));
      const r = start(resuming ? resume : fresh);
      const u = next();
      const phase = u < 0.25 ? "start-up" : u < 0.6 ? "training" : "epoch 1";
      const delay = phase === "start-up" ? next() * trainingStarts : next() * 1.2 * epochMs;
      if (phase === "start-up") await sleep(delay);
      else await Promise.race([(phase === "training" ? r.training : r.epochEnd(1)).then(() => sleep(delay)), r.exited]);
      const [trainer] = childrenOf(r.child.pid!);
      const killedAt = performance.now();
      r.child.kill("SIGKILL");
      const ended = await r.exited;
      // The trainer, if it had started, stops by itself (waited for here only to measure it; the
      // next command starts before it is gone).
      let stopMs = NaN;
      if (trainer !== undefined) {
        trainers.add(trainer);
        while (running(trainer) && performance.now() - killedAt < 5000) await sleep(2);
        stopMs = performance.now() - killedAt;
        stops.push(stopMs);
      }
      const saved = existsSync(join(out, "checkpoint.safetensors"))
        ? JSON.parse(tl.decodeSafetensors(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors")))).metadata.solver).epoch
        : 0;
      log.push(
        `kill ${k}: ${resuming ? "--resume" : "fresh   "} ${delay.toFixed(0)} ms after ${phase === "start-up" ? "spawn" : phase === "training" ? "training started" : "its first epoch ended"}` +
          ` -> command ${ended.signal ?? ended.code}, checkpoint at epoch ${saved}` +
          (Number.isNaN(stopMs) ? "" : `, trainer ${trainer} stopped ${stopMs.toFixed(0)} ms after the kill`) +
          (r.noticedAt() === null ? "" : ` (it said so after ${(r.noticedAt()! - killedAt).toFixed(0)} ms)`),
      );
      expect(ended.signal, r.stderr()).toBe("SIGKILL");
    }
    // The last resume runs to the end.
    const last = start(existsSync(join(out, "checkpoint.safetensors")) ? resume : fresh);
    const done = await last.exited;
    log.push(`final run: exit ${done.code}`);
    console.log(log.join("\n"));
    expect(done.code, `${last.stderr()}\n${log.join("\n")}`).toBe(0);
    expect(last.stderr(), "no refusal and no crash on the way").not.toMatch(/error/);

    // Every trainer stopped; nothing half-written or locked is left.
    for (const pid of trainers) expect(running(pid), `trainer ${pid}`).toBe(false);
    expect(readdirSync(out).sort()).toEqual(["checkpoint.safetensors", "summary.json", "training.svg"]);
    for (const ms of stops) expect(ms, log.join("\n")).toBeLessThan(1000);
    // The exact tensors (and bytes) of the uninterrupted run.
    const a = new Uint8Array(readFileSync(join(straight, "checkpoint.safetensors")));
    const b = new Uint8Array(readFileSync(join(out, "checkpoint.safetensors")));
    const ta = tl.decodeSafetensors(a).tensors;
    const tb = tl.decodeSafetensors(b).tensors;
    expect(Object.keys(tb)).toEqual(Object.keys(ta));
    for (const name of Object.keys(ta)) {
      const x = ta[name].data;
      const y = tb[name].data;
      let differ = 0;
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) differ++;
      expect(differ, `tensor ${name}: values that differ`).toBe(0);
    }
    expect(Buffer.from(b).equals(Buffer.from(a)), "checkpoint files differ").toBe(true);
  });

  it("after a kill, within one second no trainer runs and nothing in the run folder changes afterwards", async () => {
    const out = join(dir, "orphan");
    const r = start(["train", ...RUN, "--epochs", "200", "--out", out]);
    // Mid-training, after the first checkpoint: a trainer that keeps going would rewrite it every 0.05 s.
    while (!/\nepoch 1\/200 /.test(r.stdout())) {
      expect(r.child.exitCode, r.stderr()).toBe(null);
      await sleep(5);
    }
    const trainer = trainerPid(out);
    expect(childrenOf(r.child.pid!), "the lock names the command's child, the trainer").toEqual([trainer]);
    const killedAt = performance.now();
    r.child.kill("SIGKILL");
    while (running(trainer!) && performance.now() - killedAt < 1000) await sleep(1);
    const stopMs = performance.now() - killedAt;
    console.log(`trainer ${trainer} stopped ${stopMs.toFixed(1)} ms after its command was killed`);
    expect(running(trainer!), "the trainer still runs 1 s after its command was killed").toBe(false);
    await sleep(Math.max(0, 1000 - stopMs));
    const atOneSecond = snapshot(out);
    await sleep(1500);
    expect(snapshot(out), "the run folder changed after the first second").toEqual(atOneSecond);
    expect(Object.keys(atOneSecond), "no temporary file, no lock").toEqual(["checkpoint.safetensors", "summary.json", "training.svg"]);
    // The trainer said why it stopped, and how to go on.
    const stderr = r.stderr();
    expect(stderr).toMatch(
      new RegExp(
        `tensorlane: the tensorlane command \\(pid ${r.child.pid}\\) is gone: training stopped\\. The checkpoint of epoch \\d+/200 is intact: orphan/checkpoint\\.safetensors\\nResume with:\\n  tensorlane train --resume orphan/checkpoint\\.safetensors`,
      ),
    );
    const ck = tl.loadCheckpoint(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors"))));
    expect(ck.solver!.epoch).toBeGreaterThanOrEqual(1);
    ck.model.dispose();
  });
});

// The training loop checks its parent between steps, but some stretches have no step in them: the
// accuracy checks over the validation set, the test set scored at the end, one step of a large
// model. A preload (passed on to the trainer with the command's node options) stands in for them:
// the trainer busy-waits, in its main thread, where the loop runs. Its watchdog thread
// (src/watchdog.ts) must end it anyway, cleaned up, and never in the middle of a write.
describe("tensorlane train killed while its trainer is busy between steps", () => {
  /** A preload that runs `busy` (a function body over `ms`, the busy-wait) in the trainer only. */
  function preload(name: string, body: string): string[] {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(
      file,
      [
        `import fs from "node:fs";`,
        `import { syncBuiltinESMExports } from "node:module";`,
        `const busy = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };`,
        `if (process.env.TENSORLANE_TRAIN_CHILD) {`,
        body,
        `}`,
        `syncBuiltinESMExports();`,
      ].join("\n"),
    );
    return ["--import", pathToFileURL(file).href];
  }

  /** Kills the command once `ready` holds, then waits (up to 5 s) for its trainer to end. */
  async function killWhen(r: Started, out: string, ready: () => boolean): Promise<{ trainer: number; stopMs: number }> {
    while (!ready()) {
      expect(r.child.exitCode, r.stderr()).toBe(null);
      await sleep(2);
    }
    const trainer = trainerPid(out)!;
    expect(childrenOf(r.child.pid!)).toEqual([trainer]);
    const killedAt = performance.now();
    r.child.kill("SIGKILL");
    while (running(trainer) && performance.now() - killedAt < 5000) await sleep(1);
    return { trainer, stopMs: performance.now() - killedAt };
  }

  it("a long computation (8 s without a step, after epoch 1): the watchdog ends the trainer within a second, lock released, the epoch's files intact", async () => {
    const out = join(dir, "busy");
    // After the epoch-1 line (its files are written): 8 s without a step.
    const hook = preload(
      "busy",
      [
        `  const write = process.stdout.write.bind(process.stdout);`,
        `  process.stdout.write = (chunk, ...rest) => {`,
        `    const done = write(chunk, ...rest);`,
        `    if (/^epoch 1\\//m.test(String(chunk))) busy(8000);`,
        `    return done;`,
        `  };`,
      ].join("\n"),
    );
    const r = start(["train", ...RUN, "--epochs", "5", "--out", out], hook);
    const { trainer, stopMs } = await killWhen(r, out, () => /\nepoch 1\/5 /.test(r.stdout()));
    console.log(`busy trainer ${trainer} ended ${stopMs.toFixed(0)} ms after its command was killed`);
    expect(running(trainer), "the trainer still runs 5 s after its command was killed").toBe(false);
    expect(stopMs, "the busy trainer ended within a second").toBeLessThan(1000);
    expect(readdirSync(out).sort(), "no temporary file, no lock").toEqual(["checkpoint.safetensors", "summary.json", "training.svg"]);
    expect(r.stderr()).toMatch(
      new RegExp(
        `tensorlane: the tensorlane command \\(pid ${r.child.pid}\\) is gone: training stopped\\. The checkpoint of epoch 1/5 is intact: busy/checkpoint\\.safetensors\\nResume with:\\n  tensorlane train --resume busy/checkpoint\\.safetensors`,
      ),
    );
    const ck = tl.loadCheckpoint(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors"))));
    expect(ck.solver!.epoch).toBe(1);
    ck.model.dispose();
  });

  it("a write in progress is not cut short: killed during a slow fsync of epoch 2's files, the trainer ends after it, epoch 1's files intact, no temporary file", async () => {
    const out = join(dir, "slow-write");
    // The second checkpoint's temporary file takes 500 ms to sync (longer than the watchdog's grace).
    const hook = preload(
      "slow-write",
      [
        `  const open = fs.openSync, fsync = fs.fsyncSync;`,
        `  let opened = 0, slow = -1;`,
        `  fs.openSync = (path, ...rest) => {`,
        `    const fd = open(path, ...rest);`,
        `    if (/\\.checkpoint\\.safetensors\\.\\d+\\.\\d+\\.tmp$/.test(String(path)) && ++opened === 2) slow = fd;`,
        `    return fd;`,
        `  };`,
        `  fs.fsyncSync = (fd) => {`,
        `    if (fd === slow) { slow = -1; fs.writeSync(2, "slow fsync\\n"); busy(500); fs.writeSync(2, "fsync done\\n"); }`,
        `    return fsync(fd);`,
        `  };`,
      ].join("\n"),
    );
    const r = start(["train", ...RUN, "--epochs", "5", "--out", out], hook);
    const { trainer, stopMs } = await killWhen(r, out, () => /slow fsync/.test(r.stderr()));
    console.log(`trainer ${trainer}, killed in a slow write, ended ${stopMs.toFixed(0)} ms after its command`);
    expect(running(trainer)).toBe(false);
    expect(r.stderr(), "the watchdog let the write finish (it never kills in the middle of one)").toMatch(/fsync done/);
    expect(stopMs, "ended within a second").toBeLessThan(1000);
    expect(readdirSync(out).sort(), "the write was abandoned whole: no temporary file, no lock").toEqual([
      "checkpoint.safetensors",
      "summary.json",
      "training.svg",
    ]);
    const ck = tl.loadCheckpoint(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors"))));
    expect(ck.solver!.epoch, "epoch 2's files were never renamed into place").toBe(1);
    ck.model.dispose();
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))).toMatchObject({ epochs: 1 });
  });
});
