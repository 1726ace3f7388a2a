/**
 * File storage for sessions: one JSON file per key in a directory, written atomically
 * (temp file + rename) with mode 0600, so a crash never leaves half a file.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StorageAdapter } from "./storage.ts";

/** Stores each key as `<dir>/<base64url(key)>.json`. */
export class FileStorage<T> implements StorageAdapter<T> {
  readonly dir: string;
  #ready: Promise<unknown> | undefined;
  constructor(dir: string) {
    this.dir = dir;
  }

  /** The file holding `key`. */
  pathOf(key: string): string {
    return join(this.dir, `${Buffer.from(key, "utf8").toString("base64url")}.json`);
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
