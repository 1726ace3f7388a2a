/**
 * Ownership and mode checks of the file token store: a token directory other users can write to,
 * or a token file owned by someone else or readable by others, is refused (another local user
 * could plant a token file and have the bot log in as their account, or read the bot's tokens).
 */
import type { Stats } from "node:fs";
import { AuthConfigError } from "./errors.ts";

/** The current uid, or undefined where the platform has none (Windows): no checks there. */
function currentUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");

function refuse(message: string): never {
  throw new AuthConfigError(`token store: ${message} (BOTRUN_TOKEN_STORE)`, "BOTRUN_TOKEN_STORE");
}

/**
 * Throw `AuthConfigError` unless `dir` (stat of the directory itself) belongs to the current
 * user and is writable by no one else. The message names the path and the command that fixes it.
 */
export function assertSafeDir(dir: string, st: Stats): void {
  const uid = currentUid();
  if (uid === undefined) return;
  if (!st.isDirectory()) refuse(`${dir} is not a directory`);
  if (st.uid !== uid) refuse(`directory ${dir} belongs to uid ${st.uid}, not to this user (uid ${uid}); fix: chown ${uid} ${dir} && chmod 700 ${dir}, or use another directory`);
  if (st.mode & 0o022) refuse(`directory ${dir} is writable by other users (mode ${octal(st.mode)}); fix: chmod 700 ${dir}`);
}

/**
 * Throw `AuthConfigError` unless the token file (fstat of the open file) is a regular file of the
 * current user that only the user can read or write.
 */
export function assertSafeFile(file: string, st: Stats): void {
  const uid = currentUid();
  if (uid === undefined) return;
  if (!st.isFile()) refuse(`${file} is not a regular file`);
  if (st.uid !== uid) refuse(`${file} belongs to uid ${st.uid}, not to this user (uid ${uid}); it is not used. Fix: remove it and run \`botrun auth\`, or chown ${uid} ${file} if you trust it`);
  if (st.mode & 0o077) refuse(`${file} is accessible to other users (mode ${octal(st.mode)}); fix: chmod 600 ${file}`);
}
