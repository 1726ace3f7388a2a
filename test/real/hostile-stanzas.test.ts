// A hostile user through real Prosody: a message nested 30,000 levels deep sent to the echo bot
// running with the --debug stanza trace (XMPP_DEBUG) is dropped with one log line, the process
// does not crash, the connection stays up and the bot answers the next message.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { rawLogin, plainAuthText, type RawConnection } from "../env/raw-xmpp.ts";
import { pidAlive } from "../env/proc.ts";
import { startEchoRuntime, type EchoRuntime } from "./helpers/echo-runtime.ts";

const PW = "hostile-stanzas-pw";
let prosody: ProsodyHandle;
let bot: EchoRuntime | undefined;
let peer: RawConnection | undefined;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  process.on("uncaughtException", onUncaught);
  prosody = await startProsody();
  await prosody.register("bot", PW);
  await prosody.register("eve", PW);
});

afterAll(async () => {
  peer?.close();
  await bot?.stop();
  await prosody?.stop();
  process.off("uncaughtException", onUncaught);
  vi.restoreAllMocks();
  if (prosody) expect(pidAlive(prosody.pid), "prosody left behind").toBe(false);
});

describe("hostile stanzas from a user", () => {
  it("a message nested 30,000 levels deep with --debug: dropped, no crash, still online and answering", async () => {
    const trace = vi.spyOn(console, "debug").mockImplementation(() => {});
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    bot = await startEchoRuntime({
      XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
      XMPP_DOMAIN: "localhost",
      XMPP_USERNAME: "bot",
      XMPP_PASSWORD: PW,
      XMPP_MECHANISM: "PLAIN",
      XMPP_CA_FILE: prosody.caFile,
      XMPP_DEBUG: "1",
    });
    const r = await rawLogin({ host: "127.0.0.1", port: prosody.directTlsPort, domain: "localhost", security: "direct", caFile: prosody.caFile }, "PLAIN", plainAuthText("eve", PW));
    if (!r.ok) throw new Error(`eve's login failed: ${r.condition}`);
    peer = r.conn;
    const deep = `${"<a>".repeat(30_000)}${"</a>".repeat(30_000)}`;
    peer.send(`<message to='bot@localhost' type='chat' id='deep'><body>deep</body>${deep}</message>`);
    peer.send(`<message to='bot@localhost' type='chat' id='next'><body>next</body></message>`);
    const echo = await peer.waitFor(/<message\b[^>]*>[\s\S]*?<body>(deep|next)<\/body>[\s\S]*?<\/message>/, 30_000);
    expect(uncaught.map(String)).toEqual([]);
    expect(echo[1]).toBe("next");
    expect(uncaught).toEqual([]);
    expect(bot.events.map((e) => e.type)).toEqual(["online"]);
    // One line about the drop (through the transport's logger, or console.warn by default).
    const said = [...bot.lines, ...warn.mock.calls.map((c) => String(c[0]))].filter((l) => /dropped an inbound/.test(l));
    expect(said).toHaveLength(1);
    // The trace was on and saw the (pruned) message.
    expect(trace.mock.calls.some((c) => /<body>deep<\/body>/.test(String(c[0])))).toBe(true);
  });
});
