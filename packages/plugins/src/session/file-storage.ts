/**
 * File storage for sessions: one JSON file per key in a directory, written atomically
 * (temp file + rename) with mode 0600, so a crash never leaves half a file.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StorageAdapter } from "./storage.ts";

/**
 * Longest base64url file name stem: with `.json` and the temp suffix it stays far below the usual
 * 255-byte file name limit (a 200-character JID local part used to fail with ENAMETOOLONG).
 */
const MAX_STEM = 160;

/** Stores each key as `<dir>/<base64url(key)>.json`, or `<dir>/~<sha256(key)>.json` for long keys. */
export class FileStorage<T> implements StorageAdapter<T> {
  readonly dir: string;
  #ready: Promise<unknown> | undefined;
  constructor(dir: string) {
    this.dir = dir;
  }

  /** The file holding `key`. */
  pathOf(key: string): string {
    const stem = Buffer.from(key, "utf8").toString("base64url");
    // `~` is not in the base64url alphabet: a hashed name never collides with a short key's.
    return join(this.dir, `${stem.length <= MAX_STEM ? stem : `~${createHash("sha256").update(key, "utf8").digest("hex")}`}.json`);
  }

  async read(key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.pathOf(key), "utf8")) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async write(key: string, value: T): Promise<void> {
    this.#ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.#ready;
    const target = this.pathOf(key);
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(value), { mode: 0o600 });
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}

/** A file storage adapter in `dir` (created on first write, mode 0700). */
export function fileStorage<T>(dir: string): FileStorage<T> {
  return new FileStorage<T>(dir);
}
