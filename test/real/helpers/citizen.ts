// The slixmpp client of the citizenship suites (test/env/citizen-client.py) as a child process
// speaking JSON lines: commands in, events out.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { NS } from "@botrun/core";
import { stopChild } from "../../env/proc.ts";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "../../env/citizen-client.py");

/** An element as the client prints it (ElementTree: `{ns}name`). */
export interface Tree {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: Tree[];
}
export type ClientEvent = { event: string; tag?: string; [k: string]: unknown };

/** The slixmpp client process and its JSON lines. */
export class Citizen {
  readonly events: ClientEvent[] = [];
  readonly #listeners = new Set<() => void>();
  readonly #child: ChildProcess;
  #stderr = "";
  #tags = 0;

  constructor(jid: string, port: number, password: string) {
    this.#child = spawn("/usr/bin/python3", [SCRIPT, "--jid", jid, "--port", String(port), "--security", "none"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, CITIZEN_PASSWORD: password, PYTHONUNBUFFERED: "1" },
    });
    this.#child.stderr?.on("data", (b: Buffer) => void (this.#stderr = (this.#stderr + b.toString()).slice(-4000)));
    createInterface({ input: this.#child.stdout! }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line) as ClientEvent);
      } catch {
        return;
      }
      for (const l of [...this.#listeners]) l();
    });
    this.#child.on("exit", () => [...this.#listeners].forEach((l) => l()));
  }

  /** The first event (past or future) matching `pred`. */
  waitFor(pred: (e: ClientEvent) => boolean, what: string, timeoutMs = 20_000): Promise<ClientEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(pred);
        if (found) return done(() => resolve(found));
        if (this.#child.exitCode !== null) done(() => reject(new Error(`client exited before ${what}: ${this.#stderr}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${timeoutMs} ms; stderr: ${this.#stderr}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        f();
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Send a command; resolves with the event carrying its tag. */
  ask(cmd: Record<string, unknown>): Promise<ClientEvent> {
    const tag = `t${++this.#tags}`;
    this.#child.stdin!.write(JSON.stringify({ ...cmd, tag }) + "\n");
    return this.waitFor((e) => e.tag === tag, `answer to ${JSON.stringify(cmd)}`);
  }

  /** An iq get/set to `to` with `xml` as its child: the reply (`type` result, error or timeout). */
  async iq(to: string, type: "get" | "set", xml: string): Promise<{ id: string; type: string; stanza: Tree }> {
    return (await this.ask({ cmd: "iq", to, type, xml })) as unknown as { id: string; type: string; stanza: Tree };
  }

  stop(): Promise<void> {
    this.#child.stdin?.end(JSON.stringify({ cmd: "quit" }) + "\n");
    return stopChild(this.#child, 3000);
  }
}

export const child = (t: Tree | undefined, name: string): Tree | undefined => t?.children.find((c) => c.name === name);
export const all = (t: Tree | undefined, name: string): Tree[] => t?.children.filter((c) => c.name === name) ?? [];
export const errorCondition = (t: Tree) => child(t, "{jabber:client}error")?.children.find((c) => c.name.startsWith(`{${NS.stanzas}}`))?.name.split("}")[1];

