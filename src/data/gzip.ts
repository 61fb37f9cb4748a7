// gunzip without Node built-ins: the standard DecompressionStream (Node 18+, browsers, Deno, Bun,
// workerd). Output is read chunk by chunk and capped, so a "gzip bomb" is rejected before it can
// take the memory it claims.
import { FileFormatError, internal } from "../index.js";

const { checkInteger, checkOptions, describe, formatError } = internal;

/** Default cap on decompressed bytes (1 GiB: more than a single tensor can hold anyway). */
export const MAX_GUNZIP_BYTES = 2 ** 30;

/** True when the bytes start with the gzip magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Options of gunzip: an output size limit and a name for error messages. */
export interface GunzipOptions {
  /** Refuse to produce more than this many bytes (default MAX_GUNZIP_BYTES). */
  maxBytes?: number;
  /** Names the input in error messages, e.g. a file name. */
  what?: string;
}

/** Decompresses gzip bytes. Truncated or corrupt input gives a FileFormatError. */
export async function gunzip(bytes: Uint8Array, options: GunzipOptions = {}): Promise<Uint8Array> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`gunzip: bytes must be a Uint8Array (got ${describe(bytes)})`);
  const o = checkOptions("gunzip", "options", options, ["maxBytes", "what"]);
  // NaN would disable the cap (no comparison is true), a negative one refuse everything.
  const maxBytes = o.maxBytes === undefined ? MAX_GUNZIP_BYTES : checkInteger("gunzip", "options.maxBytes", o.maxBytes, 0);
  const what = o.what as string | undefined;
  if (typeof DecompressionStream !== "function") {
    throw new TypeError("gunzip: this runtime has no DecompressionStream; decompress the file first (e.g. gunzip FILE.gz)");
  }
  if (!isGzip(bytes)) formatError("gunzip", what, "not gzip data (it does not start with the bytes 1f 8b)");
  const stream = new DecompressionStream("gzip");
  const writer = stream.writable.getWriter();
  // Errors surface on the readable side; this only keeps the writer's rejection from going unhandled.
  const written = writer
    .write(bytes as Uint8Array<ArrayBuffer>)
    .then(() => writer.close())
    .catch(() => undefined);
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        formatError("gunzip", what, `decompresses to more than ${maxBytes} bytes (the limit); refusing to continue`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof FileFormatError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    formatError("gunzip", what, `corrupt or truncated gzip data (${reason}) after ${total} decompressed bytes`);
  }
  await written;
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
