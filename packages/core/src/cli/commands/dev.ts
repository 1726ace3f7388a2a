/**
 * `botrun dev <bot...>`: runs the bots in a child `botrun` process and restarts it when a source
 * file in a bot's folder changes. On a terminal the child shares it (the terminal chat comes back
 * after each restart); piped input is forwarded line by line, and lines that arrive during a
 * restart wait for the new process. A bot that fails to start is retried at the next change.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { watch, type FSWatcher } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { resolveBotFile } from "../resolve-bot.ts";

const BIN = fileURLToPath(new URL("../../../bin/botrun.mjs", import.meta.url));
/** What counts as a source change (data files a bot writes, e.g. sessions, do not). */
const SOURCE = /(\.[cm]?[jt]sx?|(^|[/\\])\.env[^/\\]*|(^|[/\\])package\.json)$/;
const IGNORED = /(^|[/\\])(node_modules|\.git|dist)([/\\]|$)/;
/** Several events arrive for one save: they are folded into one restart. */
const SETTLE_MS = 150;

/** Options of `runDev`. */
export interface DevOptions {
  /** Bot specs (as for `botrun <bot...>`): their folders are watched. */
  bots: string[];
  /** The child's arguments: the bots and options such as --env-file. */
  args: string[];
  cwd: string;
  /** Where dev's own lines go (default: stderr). */
  say?: (line: string) => void;
}

/** Run and restart until the child exits on its own (end of input, /quit) or a signal; resolves with the exit code. */
export async function runDev(opts: DevOptions): Promise<number> {
  const tty = Boolean(process.stdin.isTTY);
  // On a terminal, over the chat's prompt line rather than after it.
  const say = opts.say ?? ((l: string) => process.stderr.write(`${tty ? "\r\x1b[2K" : ""}${l}\n`));
  const dirs = [...new Set(opts.bots.map((b) => path.dirname(resolveBotFile(b, opts.cwd))))];
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarting = false;
  let inputEnded = false;
  const pending: string[] = [];
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const start = () => {
    const c = spawn(process.execPath, ["--", BIN, ...opts.args], {
      cwd: opts.cwd,
      stdio: [tty ? "inherit" : "pipe", "inherit", "inherit"],
    });
    child = c;
    c.stdin?.on("error", () => {}); // a child that died: its exit handler reports it
    if (!tty) {
      for (const line of pending.splice(0)) c.stdin!.write(line + "\n");
      if (inputEnded) c.stdin!.end();
    }
    c.on("exit", (code, signal) => {
      if (child === c) child = undefined;
      if (restarting) return;
      const status = code ?? (signal ? 128 : 1);
      if (stopping || status === 0) finish(status);
      else say(`botrun dev: the bot exited with code ${status}; waiting for a change`);
    });
  };

  const restart = async (file: string) => {
    if (restarting || stopping) return;
    restarting = true;
    say(`botrun dev: ${file} changed, restarting`);
    const old = child;
    if (old && old.exitCode === null && old.signalCode === null) {
      const exited = new Promise((r) => old.once("exit", r));
      old.kill("SIGTERM");
      await exited;
    }
    restarting = false;
    if (stopping) return finish(0);
    start();
    say("botrun dev: restarted");
  };

  let timer: NodeJS.Timeout | undefined;
  let changed = "";
  const watchers: FSWatcher[] = dirs.map((dir) =>
    watch(dir, { recursive: true }, (_event, name) => {
      const file = name ? String(name) : "";
      if (!file || IGNORED.test(file) || !SOURCE.test(file)) return;
      changed = path.relative(opts.cwd, path.join(dir, file)) || file;
      clearTimeout(timer);
      timer = setTimeout(() => void restart(changed), SETTLE_MS);
    }),
  );

  if (!tty) {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    rl.on("line", (line) => {
      if (child?.stdin && !restarting) child.stdin.write(line + "\n");
      else pending.push(line);
    });
    rl.on("close", () => {
      inputEnded = true;
      if (child?.stdin && !restarting) child.stdin.end();
    });
  }
  const onSignal = () => {
    stopping = true;
    if (child) child.kill("SIGTERM");
    else finish(0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  say(`botrun dev: watching ${dirs.map((d) => path.relative(opts.cwd, d) || ".").join(", ")}; a change restarts the bot`);
  start();
  const code = await done;
  clearTimeout(timer);
  for (const w of watchers) w.close();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  process.stdin.pause();
  return code;
}
