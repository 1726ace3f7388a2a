// Text intact through real Prosody: multibyte bodies (emoji, Cyrillic, CJK, combining marks) of
// 8–64 KB, each at four byte alignments (a leading ASCII pad of 0..3), echoed by botrun's echo
// runtime over plain TCP, STARTTLS and direct TLS, come back byte-exact to an independent raw
// client (its sockets decode UTF-8 as a stream). Large stanzas arrive in several socket reads
// (TLS records carry at most 16 KB), so characters are split across reads on the bot's side.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { rawLogin, plainAuthText, type RawConnection } from "../env/raw-xmpp.ts";
import { pidAlive } from "../env/proc.ts";
import { startEchoRuntime, type EchoRuntime } from "./helpers/echo-runtime.ts";

const MIX = "Привет, мир! 你好，世界。 👋🏽 👩‍👩‍👧 🎉 e\u0301 a\u0308\u0323 𝄞 한국어 ";
const SIZES = [8_000, 20_000, 40_000, 64_000];
const OFFSETS = [0, 1, 2, 3];
const PW = "text-intact-pw";

let tlsProsody: ProsodyHandle;
let plainProsody: ProsodyHandle;
const bots: EchoRuntime[] = [];
const peers: RawConnection[] = [];

type Kind = "tcp" | "starttls" | "direct";
// The plain server has no TLS module (xmpp:// stays plain TCP); the other requires encryption
// (xmpp:// must go through STARTTLS).
const kinds: { kind: Kind; user: string; server: () => ProsodyHandle; service: () => string; extra?: Record<string, string> }[] = [
  { kind: "tcp", user: "bottcp", server: () => plainProsody, service: () => `xmpp://127.0.0.1:${plainProsody.c2sPort}`, extra: { XMPP_ALLOW_INSECURE: "1" } },
  { kind: "starttls", user: "botstarttls", server: () => tlsProsody, service: () => `xmpp://127.0.0.1:${tlsProsody.c2sPort}` },
  { kind: "direct", user: "botdirect", server: () => tlsProsody, service: () => `xmpps://127.0.0.1:${tlsProsody.directTlsPort}` },
];

/** `bytes` bytes (at least) of the mix, after `pad` ASCII characters, tagged with `key` at the end. */
function body(bytes: number, pad: number, key: string): string {
  let s = "x".repeat(pad);
  while (Buffer.byteLength(s) < bytes) s += MIX;
  return `${s}#${key}`;
}

const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");

/** Collect the bodies of `count` messages arriving on `conn`, by their trailing key. */
async function collect(conn: RawConnection, count: number, timeoutMs: number): Promise<Map<string, string>> {
  const got = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  while (got.size < count) {
    const m = await conn.waitFor(/<message\b[^>]*>([\s\S]*?)<\/message>/, Math.max(1, deadline - Date.now()));
    const text = m[1]?.match(/<body>([\s\S]*?)<\/body>/)?.[1];
    if (text === undefined) continue;
    const b = unescape(text);
    got.set(b.slice(b.lastIndexOf("#") + 1), b);
  }
  return got;
}

beforeAll(async () => {
  [tlsProsody, plainProsody] = await Promise.all([startProsody(), startProsody({ tls: "none" })]);
  for (const k of kinds) await k.server().register(k.user, PW);
  await Promise.all([tlsProsody.register("peer", PW), plainProsody.register("peer", PW)]);
  bots.push(
    ...(await Promise.all(
      kinds.map((k) =>
        startEchoRuntime({
          XMPP_SERVICE: k.service(),
          XMPP_DOMAIN: "localhost",
          XMPP_USERNAME: k.user,
          XMPP_PASSWORD: PW,
          XMPP_MECHANISM: "PLAIN",
          XMPP_CA_FILE: k.server().caFile,
          XMPP_CONNECT_TIMEOUT: "15",
          ...k.extra,
        }),
      ),
    )),
  );
});

afterAll(async () => {
  for (const p of peers) p.close();
  await Promise.all(bots.map((b) => b.stop()));
  await Promise.all([tlsProsody?.stop(), plainProsody?.stop()]);
  for (const p of [tlsProsody, plainProsody]) if (p) expect(pidAlive(p.pid), "prosody left behind").toBe(false);
});

describe("text intact", () => {
  it("multibyte bodies of 8–64 KB at every byte alignment come back byte-exact over TCP, STARTTLS and direct TLS", async () => {
    const login = async (p: ProsodyHandle) => {
      const r = await rawLogin({ host: "127.0.0.1", port: p.directTlsPort, domain: "localhost", security: "direct", caFile: p.caFile }, "PLAIN", plainAuthText("peer", PW));
      if (!r.ok) throw new Error(`peer login failed: ${r.condition}`);
      peers.push(r.conn);
      r.conn.send("<presence/>");
      return r.conn;
    };
    const [tlsPeer, plainPeer] = await Promise.all([login(tlsProsody), login(plainProsody)]);
    const sent = new Map<string, string>();
    for (const k of kinds) {
      const peer = k.server() === plainProsody ? plainPeer : tlsPeer;
      for (const size of SIZES) {
        for (const pad of OFFSETS) {
          const key = `${k.kind}-${size}-${pad}`;
          const text = body(size, pad, key);
          sent.set(key, text);
          peer.send(`<message to='${k.user}@localhost' type='chat' id='${key}'><body>${text}</body></message>`);
        }
      }
    }
    const perTls = 2 * SIZES.length * OFFSETS.length;
    const [fromTls, fromPlain] = await Promise.all([collect(tlsPeer, perTls, 60_000), collect(plainPeer, perTls / 2, 60_000)]);
    const got = new Map([...fromTls, ...fromPlain]);
    const broken = [...sent].filter(([key, text]) => got.get(key) !== text).map(([key]) => {
      const back = got.get(key) ?? "";
      return `${key}: ${back.length === 0 ? "missing" : `${[...back].filter((c) => c === "\uFFFD").length} U+FFFD`}`;
    });
    expect(broken).toEqual([]);
    expect(got.size).toBe(sent.size);
  });
});
