// Files on disk for checkpoints (Node only). Writes are atomic: the bytes go to a temporary file in
// the same folder, are flushed to disk (fsync), and only then renamed over the target, so a crash
// or a failed write leaves either the old file or the new one, never a torn mix.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { open, rename, stat, unlink, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
  decodeSafetensors,
  internal,
  loadCheckpoint,
  type LoadedCheckpoint,
  type SafetensorsContents,
  type SafetensorsTensor,
  type SaveCheckpointOptions,
} from "../index.js";
import { describe } from "./describe.js";

const { checkpointParts, encodeSafetensorsParts } = internal;

/** Data for writeFileAtomic: bytes, or chunks (a failing iterator aborts the write cleanly). */
export type FileData = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

let tempCounter = 0;

/**
 * Writes `data` to `path` atomically: a temporary file beside it, fsync, rename over `path`,
 * then fsync of the folder. On any failure the temporary file is removed, `path` is untouched,
 * and the error says so.
 */
export async function writeFileAtomic(path: string, data: FileData): Promise<void> {
  const fn = "writeFileAtomic";
  if (typeof path !== "string" || path.length === 0) throw new TypeError(`${fn}: path must be a non-empty string (got ${describe(path)})`);
  if (!(data instanceof Uint8Array) && !isIterable(data)) {
    throw new TypeError(`${fn}: data must be a Uint8Array or an iterable of Uint8Array chunks (got ${describe(data)})`);
  }
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temp, "wx", 0o644);
    const chunks = data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks as AsyncIterable<Uint8Array>) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`${fn}: every chunk must be a Uint8Array (got ${describe(chunk)})`);
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, written, chunk.length - written);
        written += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    const message = `${fn}: could not write ${path} (${reason}); any previous file there is unchanged`;
    const wrapped = error instanceof TypeError ? new TypeError(message, { cause: error }) : new Error(message, { cause: error });
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code !== undefined) Object.assign(wrapped, { code }); // e.g. ENOSPC, EACCES, for callers that branch on it
    throw wrapped;
  }
  await syncDirectory(dir);
}

/**
 * writeFileAtomic for code that cannot await (a Solver's onProgress callback runs inside the
 * synchronous training loop): same guarantees, blocking.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array | Iterable<Uint8Array>): void {
  const fn = "writeFileAtomicSync";
  if (typeof path !== "string" || path.length === 0) throw new TypeError(`${fn}: path must be a non-empty string (got ${describe(path)})`);
  if (!(data instanceof Uint8Array) && !(data !== null && typeof data === "object" && Symbol.iterator in data)) {
    throw new TypeError(`${fn}: data must be a Uint8Array or an iterable of Uint8Array chunks (got ${describe(data)})`);
  }
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx", 0o644);
    for (const chunk of data instanceof Uint8Array ? [data] : data) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`${fn}: every chunk must be a Uint8Array (got ${describe(chunk)})`);
      let written = 0;
      while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      unlinkSync(temp);
    } catch {
      // never created
    }
    const reason = error instanceof Error ? error.message : String(error);
    const wrapped = new Error(`${fn}: could not write ${path} (${reason}); any previous file there is unchanged`, { cause: error });
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code !== undefined) Object.assign(wrapped, { code });
    throw wrapped;
  }
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // not supported here; the file itself was synced
  }
}

// Makes the rename itself durable. Some platforms cannot open or fsync a folder: best effort.
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // not supported here (e.g. Windows); the file itself was synced
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function isIterable(value: unknown): value is Iterable<Uint8Array> | AsyncIterable<Uint8Array> {
  return value !== null && typeof value === "object" && (Symbol.iterator in value || Symbol.asyncIterator in value);
}

/** Default cap for readFileBytes: files larger than this are refused before reading. */
export const MAX_READ_BYTES = 2 ** 31 - 1;

/**
 * Reads a whole file, with errors that say what to do: not found, a folder, too large.
 * `what` says what the file is for ("checkpoint", "data file").
 */
export async function readFileBytes(path: string, options: { what?: string; maxBytes?: number } = {}): Promise<Uint8Array> {
  const what = options.what ?? "file";
  const maxBytes = options.maxBytes ?? MAX_READ_BYTES;
  if (typeof path !== "string" || path.length === 0) throw new TypeError(`readFileBytes: path must be a non-empty string (got ${describe(path)})`);
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new Error(`${what} ${path} is a folder, not a file`);
    size = info.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`${what} not found: ${path}`, { cause: error });
    if (code === "EACCES") throw new Error(`${what} ${path} cannot be read (permission denied)`, { cause: error });
    throw error;
  }
  if (size > maxBytes) throw new RangeError(`${what} ${path} is ${size} bytes, over the ${maxBytes}-byte limit`);
  const buffer = await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Writes tensors and metadata as a safetensors file, atomically (streamed: no full copy in memory). */
export async function writeSafetensorsFile(path: string, tensors: Record<string, SafetensorsTensor>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, encodeSafetensorsParts(tensors, metadata));
}

/** Reads and validates a safetensors file (FileFormatError, naming the file, when it is bad). */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  const bytes = await readFileBytes(path, { what: "checkpoint" });
  return decodeSafetensors(bytes, path);
}

/** Saves a model (and, with a Solver, what resuming needs) as a checkpoint file, atomically. */
export async function saveCheckpointFile(path: string, options: SaveCheckpointOptions): Promise<void> {
  await writeFileAtomic(path, checkpointParts(options));
}

/** saveCheckpointFile, blocking: for a Solver's onProgress callback. */
export function saveCheckpointFileSync(path: string, options: SaveCheckpointOptions): void {
  writeFileAtomicSync(path, checkpointParts(options));
}

/** Reads and checks a checkpoint file and rebuilds its model (see loadCheckpoint). */
export async function loadCheckpointFile(path: string): Promise<LoadedCheckpoint> {
  return loadCheckpoint(await readFileBytes(path, { what: "checkpoint" }), path);
}
