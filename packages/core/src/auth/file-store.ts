/**
 * `FileTokenStore`, the default token store: one JSON file per account key, atomic 0600 writes.
 * Files and directories with an unsafe owner or mode, and symbolic links, are refused
 * (file-safety.ts).
 */
import { randomBytes } from "node:crypto";
import { constants as fsc, promises as fs } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { AuthConfigError } from "./errors.ts";
import { assertSafeDir, assertSafeFile } from "./file-safety.ts";
import { toTokenSet } from "./token-set.ts";
import type { TokenSet, TokenStore } from "./types.ts";

/** Read errors that retrying will not fix. */
const UNREADABLE = new Set(["EACCES", "EPERM", "EISDIR", "ENOTDIR", "ELOOP"]);

/** Default directory of the file store: `~/.botrun/tokens`. */
export function defaultTokenDir(): string {
  return path.join(homedir(), ".botrun", "tokens");
}

/**
 * One JSON file per account key in `dir` (created 0700). Saves write a temp file in the same
 * directory (mode 0600), fsync it, then rename it over the target, so readers never see a partial
 * file; concurrent saves of one key are serialised in-process and each lands whole across processes.
 */
export class FileTokenStore implements TokenStore {
  readonly dir: string;
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(dir: string = defaultTokenDir()) {
    this.dir = path.resolve(dir);
  }

  /** The file holding `key`'s tokens. Keys are percent-encoded so that any key maps to one safe name. */
  fileFor(key: string): string {
    if (!key) throw new Error("token store: empty account key");
    const safe = encodeURIComponent(key).replace(/^\./, "%2E").replace(/\*/g, "%2A");
    return path.join(this.dir, `${safe}.json`);
  }

  async load(key: string): Promise<TokenSet | undefined> {
    const file = this.fileFor(key);
    if (!(await this.#checkDir())) return undefined;
    let text: string;
    try {
      // O_NOFOLLOW: a symbolic link in place of the file is refused (ELOOP), never followed.
      const fh = await fs.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
      try {
        assertSafeFile(file, await fh.stat());
        text = await fh.readFile("utf8");
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (err instanceof AuthConfigError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      if (code === "ELOOP") throw new AuthConfigError(`token store: ${file} is a symbolic link; it is not followed: replace it with the file itself (BOTRUN_TOKEN_STORE)`, "BOTRUN_TOKEN_STORE");
      const message = `token store: cannot read ${file}: ${code ?? "error"}`;
      // Unreadable because of how it is set up (permissions, a directory in the way): a configuration error, not worth retrying.
      if (code && UNREADABLE.has(code)) throw new AuthConfigError(`${message}; fix BOTRUN_TOKEN_STORE or the file's permissions`, "BOTRUN_TOKEN_STORE");
      throw new Error(message);
    }
    try {
      return toTokenSet(JSON.parse(text));
    } catch (err) {
      // Never echo the content: it holds tokens.
      throw new AuthConfigError(
        `token store: ${file} is not a valid token file (${(err as Error).name}); delete it and run \`botrun auth\` (BOTRUN_TOKEN_STORE)`,
        "BOTRUN_TOKEN_STORE",
      );
    }
  }

  save(key: string, tokens: TokenSet): Promise<void> {
    return this.#serialise(key, () => this.#write(key, tokens));
  }

  delete(key: string): Promise<void> {
    return this.#serialise(key, async () => {
      await fs.rm(this.fileFor(key), { force: true });
    });
  }

  /** False when the directory does not exist; throws `AuthConfigError` when it is unsafe (owner, mode). */
  async #checkDir(): Promise<boolean> {
    let st;
    try {
      st = await fs.stat(this.dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return false;
      if (code && UNREADABLE.has(code)) throw new AuthConfigError(`token store: cannot use directory ${this.dir}: ${code} (BOTRUN_TOKEN_STORE)`, "BOTRUN_TOKEN_STORE");
      throw err;
    }
    assertSafeDir(this.dir, st);
    return true;
  }

  /** Run `op` after every earlier operation on `key` (whatever their outcome). */
  #serialise(key: string, op: () => Promise<void>): Promise<void> {
    const prev = this.#chains.get(key) ?? Promise.resolve();
    const next = prev.then(op, op);
    const tail = next.catch(() => undefined);
    this.#chains.set(key, tail);
    void tail.then(() => {
      if (this.#chains.get(key) === tail) this.#chains.delete(key);
    });
    return next;
  }

  async #write(key: string, tokens: TokenSet): Promise<void> {
    const file = this.fileFor(key);
    const data = JSON.stringify(toTokenSet(tokens), null, 2) + "\n";
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.#checkDir();
    const tmp = path.join(this.dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    const fh = await fs.open(tmp, "wx", 0o600);
    try {
      try {
        await fh.chmod(0o600); // the umask cannot widen it, but be explicit
        await fh.writeFile(data, "utf8");
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw new Error(`token store: cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    await fsyncDir(this.dir);
  }
}

/** Make the rename durable; not supported everywhere, so best effort. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, "r");
    await fh.sync();
  } catch {
    // ignore: some platforms cannot fsync a directory
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
