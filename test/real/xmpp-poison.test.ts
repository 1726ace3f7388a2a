// A poison message on real Prosody (c2s_stanza_size_limit 256 KiB): a user sends 70,000 ">" (70 KB
// raw); the echo reply would be ~280 KB ("&gt;"). With the default limit botrun drops the reply
// before sending; told the server takes more (XMPP_MAX_STANZA_BYTES), it sends it, Prosody closes the
// stream with policy-violation, and botrun drops the refused reply instead of resending it on every
// reconnect. Either way the next 20 messages are answered 20/20.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { rawLogin, plainAuthText, type RawConnection } from "../env/raw-xmpp.ts";
import { pidAlive } from "../env/proc.ts";
import { startEchoRuntime, type EchoRuntime } from "./helpers/echo-runtime.ts";

let prosody: ProsodyHandle;
const running: Array<{ stop(): Promise<void> | void }> = [];

beforeAll(async () => {
  prosody = await startProsody();
  await prosody.register("bot", "bot-password");
  await prosody.register("peer", "peer-password");
});

afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
  const pid = prosody?.pid;
  await prosody?.stop();
  if (pid) expect(pidAlive(pid)).toBe(false);
});

async function echo(extra: Record<string, string>): Promise<EchoRuntime> {
  const rt = await startEchoRuntime({
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_DOMAIN: "localhost",
    XMPP_CA_FILE: prosody.caFile,
    XMPP_USERNAME: "bot",
    XMPP_PASSWORD: "bot-password",
    XMPP_MECHANISM: "SCRAM-SHA-1",
    XMPP_RECONNECT_BASE_DELAY: "0.1",
    XMPP_RECONNECT_MAX_DELAY: "1",
    ...extra,
  });
  running.push(rt);
  return rt;
}

/** The user: a raw client, so that ">" goes on the wire unescaped (70 KB, under the server's limit). */
async function user(): Promise<{ conn: RawConnection; seen: () => string }> {
  const r = await rawLogin({ host: "127.0.0.1", port: prosody.directTlsPort, domain: "localhost", security: "direct", caFile: prosody.caFile }, "PLAIN", plainAuthText("peer", "peer-password"));
  expect(r.ok).toBe(true);
  let all = "";
  r.conn.socket.on("data", (d: string | Buffer) => void (all += d.toString()));
  running.push({ stop: () => r.conn.close() });
  return { conn: r.conn, seen: () => all };
}

const say = (conn: RawConnection, id: string, body: string) => conn.send(`<message to='bot@localhost' type='chat' id='${id}'><body>${body}</body></message>`);

async function twentyAnswered(conn: RawConnection, prefix: string): Promise<number> {
  for (let i = 1; i <= 20; i++) say(conn, `${prefix}${i}`, `${prefix}${i}`);
  let answered = 0;
  for (let i = 1; i <= 20; i++) {
    await conn.waitFor(new RegExp(`<body>${prefix}${i}</body>`), 60_000);
    answered++;
  }
  return answered;
}

describe("a poison message on Prosody", () => {
  it("default limit: the ~280 KB reply is dropped before sending, one log line; the next 20 messages are answered 20/20", async () => {
    const bot = await echo({});
    const u = await user();
    say(u.conn, "poison", ">".repeat(70_000));
    await expect.poll(() => bot.lines.filter((l) => /too large/.test(l)).length, { timeout: 30_000, interval: 20 }).toBe(1);
    expect(await twentyAnswered(u.conn, "a")).toBe(20);
    expect(bot.events.filter((e) => e.type === "offline")).toEqual([]);
    expect(bot.transport.stats.droppedTooLarge).toBe(1);
    expect(u.seen()).not.toContain("&gt;&gt;&gt;&gt;");
    const line = bot.lines.find((l) => /too large/.test(l))!;
    expect(line).toMatch(/28\d{4}/); // the size
    expect(line).toContain("261120"); // the limit
    expect(line).not.toContain("&gt;");
    await bot.stop();
  });

  it("a limit above the server's: Prosody refuses the reply (policy-violation); it is dropped, never resent; 20/20 answered after the reconnect", async () => {
    const bot = await echo({ XMPP_MAX_STANZA_BYTES: "400000" });
    const u = await user();
    say(u.conn, "poison2", ">".repeat(70_000));
    await bot.waitEvent("offline", 30_000);
    await bot.waitEvent("online", 30_000, bot.events.findIndex((e) => e.type === "offline"));
    expect(await twentyAnswered(u.conn, "b")).toBe(20);
    expect(bot.transport.stats.droppedRefused).toBe(1);
    // One refusal only: the reply was not written again on the new stream (nor the poison handled twice).
    expect(bot.events.filter((e) => e.type === "offline")).toHaveLength(1);
    expect(bot.lines.filter((l) => /refused a stanza/.test(l))).toHaveLength(1);
    expect(u.seen()).not.toContain("&gt;&gt;&gt;&gt;");
    await bot.stop();
  });
});
