/**
 * The terminal chat: a transport that reads what you type (or a pipe) and prints what the
 * bot says. It feeds the same pipeline as XMPP. Interactive mode has a prompt and slash
 * commands to act as another sender, speak in a room, change presence or subscribe;
 * piped mode turns each input line into a chat message and prints each reply on its own line.
 */
import * as readline from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Element } from "@xmpp/xml";
import { TypedEmitter } from "../emitter.ts";
import { bare, local } from "../jid.ts";
import { simulateIqReply } from "../iq/server-sim.ts";
import { MucSimulator } from "../muc/simulator.ts";
import { presence as presenceStanza, stanzaId, xml } from "../stanza.ts";
import type { Transport, TransportEvents } from "../transport.ts";
import { parseConsoleCommand, CONSOLE_HELP } from "./commands.ts";

/** Events beyond the transport's: `end` when input is exhausted or `/quit` is typed. */
export interface ConsoleTransportEvents extends TransportEvents {
  end: { reason: "eof" | "quit" };
}

/** Options of the console transport. */
export interface ConsoleTransportOptions {
  input?: Readable;
  output?: Writable;
  /** Interactive (prompt, colours, slash commands echoed) — default: input is a TTY. */
  interactive?: boolean;
  /** The bot's name, shown before its lines. */
  botName?: string;
  /** Who you are at start. Default `you@console.local/terminal`. */
  user?: string;
}

const DOMAIN = "console.local";

/** Terminal chat transport. */
export class ConsoleTransport extends TypedEmitter<ConsoleTransportEvents> implements Transport {
  readonly kind = "console";
  readonly #in: Readable;
  readonly #out: Writable;
  readonly #interactive: boolean;
  readonly #botName: string;
  readonly #botJid: string;
  readonly #muc: MucSimulator;
  #rl: readline.Interface | undefined;
  #user: string;
  #room: string | undefined;
  #online = false;
  #ended = false;

  constructor(opts: ConsoleTransportOptions = {}) {
    super();
    this.#in = opts.input ?? process.stdin;
    this.#out = opts.output ?? process.stdout;
    this.#interactive = opts.interactive ?? Boolean((this.#in as { isTTY?: boolean }).isTTY);
    this.#botName = opts.botName ?? "bot";
    this.#botJid = `${this.#botName.toLowerCase()}@${DOMAIN}/console`;
    this.#user = opts.user ?? `you@${DOMAIN}/terminal`;
    this.#muc = new MucSimulator((el) => queueMicrotask(() => this.emit("stanza", el)), () => this.#botJid);
  }

  /** True with a prompt on a terminal; false for piped input (one line in, reply lines out). */
  get interactive(): boolean {
    return this.#interactive;
  }

  get jid(): string | undefined {
    return this.#online ? this.#botJid : undefined;
  }

  async start(): Promise<void> {
    this.#online = true;
    this.emit("online", { jid: this.#botJid, resumed: false });
    const rl = readline.createInterface({
      input: this.#in,
      output: this.#interactive ? this.#out : undefined,
      terminal: this.#interactive,
    });
    this.#rl = rl;
    rl.on("line", (line) => this.#onLine(line));
    rl.on("close", () => this.#end("eof"));
    if (this.#interactive) {
      this.#print(`botrun terminal chat with "${this.#botName}". You are ${bare(this.#user)}. Type /help for commands, /quit or Ctrl-D to leave.`);
      this.#prompt();
    }
  }

  async send(stanza: Element): Promise<void> {
    // There is no server: the bot's iq requests are answered as one would (empty roster, ...).
    const reply = simulateIqReply(stanza, this.#botJid);
    if (reply) return void queueMicrotask(() => this.emit("stanza", reply));
    if (this.#muc.outbound(stanza)) {
      if (stanza.name === "message") this.#show(stanza);
      else if (this.#interactive) this.#info(`${this.#botName} ${stanza.attrs.type === "unavailable" ? "left" : "joined"} ${bare(String(stanza.attrs.to))}`);
      return;
    }
    this.#show(stanza);
  }

  async stop(): Promise<void> {
    this.#online = false;
    this.#ended = true;
    this.#rl?.close();
    await new Promise<void>((resolve) => {
      if (this.#out.write("")) resolve();
      else this.#out.once("drain", () => resolve());
    });
  }

  #onLine(raw: string): void {
    const line = raw.replace(/\r$/, "");
    const cmd = parseConsoleCommand(line);
    if (cmd) {
      this.#command(cmd);
    } else if (line.trim() !== "") {
      const from = this.#room ? `${this.#room}/${local(this.#user) ?? "you"}` : this.#user;
      const type = this.#room ? "groupchat" : "chat";
      this.emit("stanza", xml("message", { from, to: this.#room ?? this.#botJid, type, id: stanzaId() }, xml("body", {}, line)));
    }
    this.#prompt();
  }

  #command(cmd: NonNullable<ReturnType<typeof parseConsoleCommand>>): void {
    switch (cmd.name) {
      case "help":
        this.#print(CONSOLE_HELP);
        break;
      case "quit":
        this.#end("quit");
        break;
      case "as":
        this.#user = cmd.jid.includes("/") ? cmd.jid : `${cmd.jid}/terminal`;
        this.#info(`you are now ${this.#user}`);
        break;
      case "room":
        this.#room = bare(cmd.room);
        this.#info(`speaking in ${this.#room} as ${local(this.#user)}; /chat to go back`);
        break;
      case "chat":
        this.#room = undefined;
        this.#info(`speaking to ${this.#botName} directly`);
        break;
      case "presence": {
        const el = presenceStanza({ type: cmd.type, show: cmd.show, status: cmd.status });
        el.attrs.from = this.#room ? `${this.#room}/${local(this.#user)}` : this.#user;
        el.attrs.to = this.#botJid;
        this.emit("stanza", el);
        break;
      }
      case "subscribe":
      case "unsubscribe": {
        const el = presenceStanza({ type: cmd.name });
        el.attrs.from = bare(this.#user);
        el.attrs.to = bare(this.#botJid);
        this.emit("stanza", el);
        break;
      }
      case "error":
        this.#info(cmd.message);
        break;
    }
  }

  #show(stanza: Element): void {
    const to = String(stanza.attrs.to ?? "");
    if (stanza.name === "message") {
      const body = stanza.getChildText("body");
      if (body === null) return;
      if (!this.#interactive) return this.#write(body + "\n");
      const where = stanza.attrs.type === "groupchat" ? `[${bare(to)}] ` : bare(to) !== bare(this.#user) ? `(to ${to}) ` : "";
      this.#print(`${where}${this.#botName}> ${body}`);
    } else if (stanza.name === "presence" && this.#interactive) {
      const type = stanza.attrs.type ?? "available";
      const status = stanza.getChildText("status");
      const show = stanza.getChildText("show");
      this.#info(`${this.#botName} sent presence ${type}${show ? ` (${show})` : ""}${status ? `: ${status}` : ""}${to ? ` to ${to}` : ""}`);
    } else if (this.#interactive) {
      this.#info(`${this.#botName} sent ${stanza.toString()}`);
    }
  }

  #end(reason: "eof" | "quit"): void {
    if (this.#ended) return;
    this.#ended = true;
    this.emit("end", { reason });
  }

  #prompt(): void {
    if (!this.#interactive || this.#ended) return;
    this.#rl?.setPrompt(this.#room ? `${local(this.#user)}@${local(this.#room)}> ` : `${local(this.#user)}> `);
    this.#rl?.prompt(true);
  }

  #info(text: string): void {
    if (this.#interactive) this.#print(`* ${text}`);
  }

  #print(text: string): void {
    if (this.#interactive && this.#rl) {
      readline.clearLine(this.#out, 0);
      readline.cursorTo(this.#out, 0);
    }
    this.#write(text + "\n");
    if (!this.#ended) this.#prompt();
  }

  #write(text: string): void {
    this.#out.write(text);
  }
}
