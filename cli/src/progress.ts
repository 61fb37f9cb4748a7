// Training progress for a terminal: a live bar (cli-progress) with epoch, batch, loss, samples/s
// and ETA when stdout is a TTY; plain periodic lines otherwise (CI logs, pipes, files).
//
// The Solver's loop is synchronous, so no timer fires while it runs: the bar is redrawn from
// update() (cli-progress's synchronous mode, throttled), and plain lines are written on a clock
// checked at every iteration.
import cliProgress from "cli-progress";
import type { ProgressEvent } from "tensorlane";

export interface ProgressInfo {
  numEpochs: number;
  iterationsPerEpoch: number;
  batchSize: number;
  /** Iterations already done (resume). */
  startIteration: number;
}

export interface Progress {
  update(event: ProgressEvent): void;
  /** A line of its own (epoch summaries), kept above the bar. */
  log(line: string): void;
  stop(): void;
}

export interface Output {
  write(text: string): void;
  isTTY: boolean;
  columns?: number;
}

/** Seconds as "1m 05s" / "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/**
 * How far back the displayed speed looks, in ms: the rate is an exponential moving average of
 * the iterations' speed with this time constant, so the ETA follows a host that slows down or
 * speeds up within a minute or two instead of averaging over the whole run (which also kept the
 * first steps' warm-up in it for good).
 */
export const RATE_WINDOW_MS = 30_000;

/** Tracks throughput and the loss average shared by both displays. */
class Meter {
  readonly #info: ProgressInfo;
  readonly #now: () => number;
  readonly #start: number;
  #last: { t: number; iteration: number } | null = null;
  /** Iterations per ms, smoothed over RATE_WINDOW_MS; null before the first timed iteration. */
  #rate: number | null = null;
  #recentLoss: number[] = [];

  constructor(info: ProgressInfo, now: () => number) {
    this.#info = info;
    this.#now = now;
    this.#start = now();
  }

  observe(event: ProgressEvent) {
    this.#recentLoss.push(event.loss);
    if (this.#recentLoss.length > 20) this.#recentLoss.shift();
    const t = this.#now();
    const last = this.#last ?? { t: this.#start, iteration: this.#info.startIteration };
    const dt = t - last.t;
    if (dt > 0) {
      const rate = (event.iteration - last.iteration) / dt;
      // Seeded with the first interval, then each interval weighs by its length.
      this.#rate = this.#rate === null ? rate : this.#rate + (1 - Math.exp(-dt / RATE_WINDOW_MS)) * (rate - this.#rate);
      this.#last = { t, iteration: event.iteration };
    }
    const finite = this.#recentLoss.filter(Number.isFinite);
    const loss = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
    const per = this.#info.iterationsPerEpoch;
    // The epoch in progress (1-based) and the batch within it; an epoch end shows as its last batch.
    const epoch = Math.min(Math.floor((event.iteration - 1) / per) + 1, this.#info.numEpochs);
    const batch = event.iteration - (epoch - 1) * per;
    const rate = this.#rate ?? 0;
    return {
      epoch,
      batch,
      loss,
      samplesPerSecond: rate * 1000 * this.#info.batchSize,
      eta: rate > 0 ? (event.numIterations - event.iteration) / rate / 1000 : NaN,
    };
  }
}

/** The display for `out`: a live bar on a terminal, lines every 5 s otherwise. `now` (ms) is the clock (tests pass their own). */
export function createProgress(out: Output, info: ProgressInfo, numIterations: number, now: () => number = () => performance.now()): Progress {
  return out.isTTY ? new BarProgress(out, info, numIterations, now) : new LineProgress(out, info, now);
}

class BarProgress implements Progress {
  readonly #out: Output;
  readonly #meter: Meter;
  readonly #bar: cliProgress.SingleBar;

  constructor(out: Output, info: ProgressInfo, numIterations: number, now: () => number) {
    this.#out = out;
    this.#meter = new Meter(info, now);
    const per = info.iterationsPerEpoch;
    this.#bar = new cliProgress.SingleBar(
      {
        format: `epoch {epoch}/${info.numEpochs} {bar} batch {batch}/${per} | loss {loss} | {rate} samples/s | ETA {eta_text}`,
        barsize: 24,
        hideCursor: false,
        gracefulExit: false, // a handler could not run during the synchronous loop anyway: let Ctrl-C stop the process
        clearOnComplete: true,
        stream: process.stdout,
        fps: 8,
      },
      cliProgress.Presets.shades_classic,
    );
    // cli-progress saves the cursor position at start() and restores it at stop(); the epoch
    // lines written above the bar scroll the screen, so the restored position would be stale and
    // the summary would overwrite them. The bar lives on the last line: no save/restore needed.
    const terminal = (this.#bar as unknown as { terminal: { cursorSave(): void; cursorRestore(): void } }).terminal;
    terminal.cursorSave = () => {};
    terminal.cursorRestore = () => {};
    const epoch = Math.min(Math.floor(info.startIteration / per) + 1, info.numEpochs);
    this.#bar.start(numIterations, info.startIteration, { epoch, batch: 0, loss: "-", rate: "-", eta_text: "-" });
  }

  update(event: ProgressEvent): void {
    const m = this.#meter.observe(event);
    this.#bar.update(event.iteration, {
      epoch: m.epoch,
      batch: m.batch,
      loss: Number.isFinite(m.loss) ? m.loss.toFixed(4) : String(m.loss),
      rate: Math.round(m.samplesPerSecond),
      eta_text: formatDuration(m.eta),
    });
  }

  log(line: string): void {
    this.#out.write(`\r\x1b[2K${line}\n`);
    (this.#bar as unknown as { render(force: boolean): void }).render(true); // redraw the bar under the new line
  }

  stop(): void {
    this.#bar.stop();
  }
}

class LineProgress implements Progress {
  readonly #out: Output;
  readonly #meter: Meter;
  readonly #info: ProgressInfo;
  readonly #now: () => number;
  #lastLine: number;
  static readonly EVERY_MS = 5000;

  constructor(out: Output, info: ProgressInfo, now: () => number) {
    this.#out = out;
    this.#info = info;
    this.#now = now;
    this.#lastLine = now();
    this.#meter = new Meter(info, now);
  }

  update(event: ProgressEvent): void {
    const m = this.#meter.observe(event);
    const now = this.#now();
    if (now - this.#lastLine < LineProgress.EVERY_MS || event.iteration === event.numIterations) return;
    this.#lastLine = now;
    const loss = Number.isFinite(m.loss) ? m.loss.toFixed(4) : String(m.loss);
    this.#out.write(
      `epoch ${m.epoch}/${this.#info.numEpochs} batch ${m.batch}/${this.#info.iterationsPerEpoch} | loss ${loss} | ${Math.round(m.samplesPerSecond)} samples/s | ETA ${formatDuration(m.eta)}\n`,
    );
  }

  log(line: string): void {
    this.#out.write(`${line}\n`);
    this.#lastLine = this.#now();
  }

  stop(): void {}
}
