// From the inlined kernel modules to compiled ones: base64, inflating, compiling with a clear error
// where the host forbids it, and the one import every kernel module has (env.abort). Used by
// runtime.ts (init) and families.ts (a family first used after init).
import { runtime } from "./runtime-state.js";

/**
 * Base64 to bytes with the platform's atob (WHATWG; in Node 16+, browsers, workers, Deno, Bun and
 * workerd), which decodes the inlined modules the same everywhere; smaller than a decoder of our own.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * An inlined module's bytes. They are stored zlib-deflated (base64 of the deflated module gzips
 * to a quarter less than base64 of the module, whose 3-byte groups hide repeats from gzip) and
 * inflated with the platform's DecompressionStream (Node 18+, current browsers, Deno, Bun, workerd).
 */
export async function inflate(compressed: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  if (typeof DecompressionStream !== "function") {
    throw new Error(
      "init: this JavaScript environment has no DecompressionStream to unpack the inlined wasm; " +
        'pass the module instead: `init({ bytes })` with the bytes of "tensorlane/wasm" (dist/tensorlane.wasm), or `init({ module })`',
    );
  }
  const stream = new Blob([compressed]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Cloudflare Workers (workerd) and pages whose Content-Security-Policy lacks 'wasm-unsafe-eval' say so in these words. */
export function compilingForbidden(error: unknown): string | null {
  const message = error instanceof Error ? error.message : String(error);
  return /disallowed|refused|unsafe-eval|content security/i.test(message) ? message : null;
}

// Where compiling from bytes is forbidden, say what to do instead of passing on the engine's message.
export async function compileBytes(bytes: BufferSource): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (error) {
    const message = compilingForbidden(error);
    if (message !== null) {
      throw new Error(
        "init: this environment forbids compiling WebAssembly from bytes (" +
          message +
          "). " +
          'On Cloudflare Workers, pass the precompiled module: `import wasm from "tensorlane/wasm"; await tl.init({ module: wasm })`. ' +
          "In a page, allow it with the CSP source 'wasm-unsafe-eval' in script-src.",
        { cause: error },
      );
    }
    throw error;
  }
}

export function toBytes(source: BufferSource): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return new Uint8Array(source);
}

// AssemblyScript's abort(message, file, line, column): strings are UTF-16 with their byte length
// stored 4 bytes before the pointer.
export function onAbort(message: number, file: number, line: number, column: number): never {
  throw new Error(`tensorlane kernel aborted: ${readString(message)} at ${readString(file)}:${line}:${column}`);
}

function readString(ptr: number): string {
  const k = runtime.kernels;
  if (!ptr || !k) return "?";
  const bytes = new Uint32Array(k.memory.buffer)[(ptr - 4) >>> 2];
  return String.fromCharCode(...new Uint16Array(k.memory.buffer, ptr, bytes >>> 1));
}
