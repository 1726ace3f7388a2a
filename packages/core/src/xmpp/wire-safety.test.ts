// Hostile input from the server through the real transport and runtime: an undefined entity becomes
// a stream error and a reconnect (never an uncaught exception); a message nested 30,000 levels deep
// with the debug trace on is dropped and the bot keeps answering.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createXmppTransport, type XmppTransport } from "./index.ts";
import { loadConfig } from "../config/index.ts";
import { createConsoleLogger } from "../logger.ts";
import { Bot } from "../bot.ts";
import { BotRuntime } from "../runtime/runtime.ts";
import { startHostileServer, type HostileServer } from "../../test-support/hostile-server.ts";

let server: HostileServer | undefined;
let runtime: BotRuntime | undefined;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeEach(() => {
  uncaught.length = 0;
  process.on("uncaughtException", onUncaught);
});
afterEach(async () => {
  await runtime?.stop();
  await server?.close();
  runtime = server = undefined;
  process.off("uncaughtException", onUncaught);
  vi.restoreAllMocks();
}, 20_000);

/** An echo bot on the real transport against the hostile server; `lines` gets every log line. */
async function echoBot(port: number, debug = false): Promise<{ transport: XmppTransport; lines: string[]; onlines: () => number }> {
  const lines: string[] = [];
  const config = loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${port}`,
    XMPP_DOMAIN: "localhost",
    XMPP_USERNAME: "bot",
    XMPP_PASSWORD: "pw",
    XMPP_MECHANISM: "PLAIN",
    XMPP_ALLOW_INSECURE: "1",
    XMPP_RECONNECT_BASE_DELAY: "0.01",
  })!;
  const logger = createConsoleLogger({ level: "info", write: (l) => lines.push(l) });
  const transport = createXmppTransport({ config, logger, debug });
  let onlines = 0;
  transport.on("online", () => void onlines++);
  const bot = new Bot({ name: "echo" });
  bot.on("message:body", (ctx) => ctx.reply(ctx.text));
  runtime = new BotRuntime(bot, transport, { logger });
  await runtime.start();
  return { transport, lines, onlines: () => onlines };
}

/** Wait until the bot on connection `n` answers a message (its session set up, requests of the new session answered). */
async function settled(n: number): Promise<void> {
  await server!.bound(n);
  server!.write(n, chat(`hello${n}`, `hello ${n}`));
  await server!.waitFor(n, new RegExp(`<body>hello ${n}</body>`));
}

const chat = (id: string, body: string) => `<message from='alice@localhost/x' to='bot@localhost/r1' type='chat' id='${id}'><body>${body}</body></message>`;

describe("hostile input on the wire", () => {
  it("an undefined entity: <restricted-xml/> stream error, one log line, reconnect, online again, no crash", async () => {
    server = await startHostileServer();
    const { lines, onlines } = await echoBot(server.port);
    await settled(1);
    server.write(1, chat("bogus", "a &bogus; entity"));
    // RFC 6120 §4.9.3.18: entity references other than the predefined five are restricted XML.
    await server.waitFor(1, /<stream:error><restricted-xml xmlns=["']urn:ietf:params:xml:ns:xmpp-streams["']\/><\/stream:error>/);
    await settled(2); // still answering on the new stream
    expect(onlines()).toBe(2);
    expect(uncaught).toEqual([]);
    const errorLines = lines.filter((l) => /bogus/.test(l));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/restricted-xml/);
  });

  it("bytes after the parse error in the same stream are ignored (no crash on a detached parser)", async () => {
    server = await startHostileServer();
    const { onlines } = await echoBot(server.port);
    await settled(1);
    server.write(1, chat("bogus", "&bogus;") + chat("x", "more"));
    server.write(1, chat("y", "and more"));
    await settled(2);
    expect(onlines()).toBe(2);
    expect(server.received[0]).not.toMatch(/<body>(more|and more)<\/body>/);
    expect(uncaught).toEqual([]);
  });

  it("a message nested 30,000 levels deep with the debug trace on: dropped, no crash, the bot keeps answering", async () => {
    vi.spyOn(console, "debug").mockImplementation(() => {});
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    server = await startHostileServer();
    const { lines } = await echoBot(server.port, true);
    await server.bound(1);
    const deep = `<message from='alice@localhost/x' type='chat' id='deep'><body>deep</body>${"<a>".repeat(30_000)}${"</a>".repeat(30_000)}</message>`;
    server.write(1, deep + chat("after", "after"));
    await server.waitFor(1, /<body>after<\/body>/);
    expect(server.received[0]).not.toMatch(/<body>deep<\/body>/);
    expect(server.connections).toBe(1);
    expect(uncaught).toEqual([]);
    // One line (the transport's logger if it passes onDropped, else console.warn).
    const said = [...lines, ...warn.mock.calls.map((c) => String(c[0]))].filter((l) => /dropped an inbound/.test(l));
    expect(said).toHaveLength(1);
  });
});
