/** Turning what `replyWithFile` accepts (a path, a Buffer, a stream) into bytes of a known size, bounded. */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, extname } from "node:path";
import { Readable } from "node:stream";
import type { PutBody } from "./put.ts";

/** A file to upload: a path on disk, its bytes, or a stream of them. */
export type FileInput = string | Buffer | Uint8Array | Readable;

/** A few common types by extension; anything else is `application/octet-stream`. */
const TYPES: Record<string, string> = {
  ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
  ".svg": "image/svg+xml", ".txt": "text/plain", ".csv": "text/csv", ".json": "application/json",
  ".pdf": "application/pdf", ".mp4": "video/mp4", ".ogg": "audio/ogg", ".mp3": "audio/mpeg", ".zip": "application/zip",
};

/** The MIME type for a file name. */
export function typeOf(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";
}

/** Thrown when the file is larger than `limit`. */
export class TooLargeError extends Error {}

/**
 * Size and a fresh body for `input`. A path is streamed from disk (its size from `stat`); a stream
 * is read into memory first (the slot request needs the size), at most `limit` bytes.
 */
export async function openInput(input: FileInput, limit: number): Promise<{ size: number; name: string | undefined; open: () => PutBody["data"] }> {
  if (typeof input === "string") {
    const st = await stat(input);
    if (!st.isFile()) throw new Error(`${input} is not a file`);
    return { size: st.size, name: basename(input), open: () => createReadStream(input) };
  }
  if (input instanceof Readable) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of input) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += b.length;
      if (size > limit) {
        input.destroy();
        throw new TooLargeError(`the stream is larger than ${limit} bytes`);
      }
      chunks.push(b);
    }
    const all = Buffer.concat(chunks);
    return { size, name: undefined, open: () => all };
  }
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return { size: buf.length, name: undefined, open: () => buf };
}
