// XEP-0363 file upload through real Prosody with mod_http_upload (Debian's prosody-modules) served
// over HTTPS on loopback: the bot finds the service by disco, gets a slot, PUTs the file and replies with the
// URL and a XEP-0066 OOB element; a second real client receives it and the test downloads the URL.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bot, BotRuntime, createXmppTransport, loadConfig, message, type Context, type Element } from "@botrun/core";
import { NS_OOB, upload, type UploadFlavor } from "@botrun/plugins";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { captureLogger } from "./helpers/echo-runtime.ts";

const PW = "upload-pw";
const LIMIT = 100_000;
let prosody: ProsodyHandle;
let bot: BotRuntime<Context & UploadFlavor>;
let user: BotRuntime;
let dir: string;
let discoItemsAsked = 0;
const inbox: Element[] = [];
const waiters = new Set<() => void>();
/** Each runtime's log lines, shown when an answer does not come. */
const logs = new Map<string, string[]>();
let markReady: () => void;
const ready = new Promise<void>((r) => (markReady = r));
const payload = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7919) % 256));

function runtimeFor<C extends Context>(b: Bot<C>, name: string): BotRuntime<C> {
  const config = loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_USERNAME: `${name}@${prosody.domain}`,
    XMPP_PASSWORD: PW,
    XMPP_RESOURCE: "r",
    XMPP_ALLOW_INSECURE: "1",
  });
  const { logger, lines } = captureLogger("debug");
  logs.set(name, lines);
  return new BotRuntime(b, createXmppTransport({ config: config!, logger }), { logger });
}

/** Ask the bot and wait for the next message it sends the user. */
async function ask(text: string): Promise<Element> {
  const seen = inbox.length;
  // To the bot's full JID: a message to the bare JID that reached Prosody before the bot's initial
  // presence would go to offline storage and come back delayed, and commands skip delayed messages.
  await user.send(message({ to: bot.transport.jid!, body: text }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${text}; ${inbox.length} messages; logs:\n${[...logs].map(([n, l]) => `${n}:\n${l.slice(-40).join("\n")}`).join("\n")}`)), 30_000);
    const check = () => {
      if (inbox.length <= seen) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(inbox[seen]!);
    };
    waiters.add(check);
  });
}

async function download(el: Element): Promise<Buffer> {
  const url = el.getChildText("body")!;
  expect(el.getChild("x", NS_OOB)?.getChildText("url")).toBe(url);
  const ca = await readFile(prosody.caFile);
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      expect(res.statusCode).toBe(200);
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(Buffer.concat(chunks)));
    }).on("error", reject);
  });
}

beforeAll(async () => {
  prosody = await startProsody({ tls: "none", httpUpload: { fileSizeLimit: LIMIT } });
  await Promise.all([prosody.register("uploader", PW), prosody.register("user", PW)]);
  dir = await mkdtemp(join(tmpdir(), "botrun-upload-"));
  await writeFile(join(dir, "chart.png"), payload);
  const b = new Bot<Context & UploadFlavor>({ name: "uploader", plugins: [upload({ ca: await readFile(prosody.caFile) }), { name: "ready", online: () => markReady() }] });
  b.command("file", async (ctx) => {
    const kind = ctx.args[0];
    try {
      if (kind === "path") await ctx.replyWithFile(join(dir, "chart.png"));
      else if (kind === "buffer") await ctx.replyWithFile(payload, { name: "data.bin" });
      else if (kind === "stream") await ctx.replyWithFile(Readable.from([payload.subarray(0, 1000), payload.subarray(1000)]), { name: "s.txt" });
      else await ctx.replyWithFile(Buffer.alloc(LIMIT + 1), { name: "big.bin" });
    } catch (err) {
      await ctx.reply(`failed: ${(err as Error).message}`);
    }
  });
  bot = runtimeFor(b, "uploader");
  bot.on("sent", (el) => void (el.attrs.type === "get" && el.getChild("query", "http://jabber.org/protocol/disco#items") && discoItemsAsked++));
  const u = new Bot({ name: "user" });
  u.use((ctx) => {
    if (ctx.kind === "message" && ctx.text !== undefined) inbox.push(ctx.stanza);
    for (const w of [...waiters]) w();
  });
  user = runtimeFor(u, "user");
  await Promise.all([bot.start(), user.start()]);
  await ready; // the upload plugin's online hook (it drops the per-session cache) has run
}, 60_000);

afterAll(async () => {
  await user?.stop();
  await bot?.stop();
  await prosody?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("replyWithFile on real Prosody's mod_http_upload", () => {
  it("a file on disk: uploaded, the URL sent with OOB, its bytes downloadable", async () => {
    const el = await ask("!file path");
    expect(el.getChildText("body")).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/upload\/.+\/chart\.png$/);
    expect((await download(el)).equals(payload)).toBe(true);
  });

  it("a Buffer and a stream: the same bytes come back; the service was discovered once this session", async () => {
    expect((await download(await ask("!file buffer"))).equals(payload)).toBe(true);
    expect((await download(await ask("!file stream"))).equals(payload)).toBe(true);
    expect(discoItemsAsked).toBe(1);
  });

  it("larger than the service's max-file-size: a clear error naming the limit, nothing uploaded", async () => {
    const el = await ask("!file big");
    expect(el.getChildText("body")).toBe(`failed: file too large: ${LIMIT + 1} bytes, the upload service upload.${prosody.domain} accepts at most ${LIMIT}`);
    expect(el.getChild("x", NS_OOB)).toBeUndefined();
  });
});
