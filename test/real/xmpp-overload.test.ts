// Overload on real Prosody: a burst of 1,000 messages of 20 KB answered by an echo bot whose outbox
// holds only 100 stanzas. Replies pile up faster than Prosody takes them: without back-pressure 26
// of the 1,000 replies were rejected with OutboxFullError here. Past 50 the bot stops reading from
// the server instead, so every message is answered and nothing is rejected.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { rawLogin, plainAuthText } from "../env/raw-xmpp.ts";
import { pidAlive } from "../env/proc.ts";
import { startEchoRuntime } from "./helpers/echo-runtime.ts";

let prosody: ProsodyHandle;
beforeAll(async () => {
  prosody = await startProsody();
  await prosody.register("bot", "bot-password");
  await prosody.register("peer", "peer-password");
});
afterAll(async () => {
  const pid = prosody?.pid;
  await prosody?.stop();
  if (pid) expect(pidAlive(pid)).toBe(false);
});

describe("overload", () => {
  it("a burst of large messages larger than the outbox: every message answered, no OutboxFullError, overload logged once per interval", async () => {
    const bot = await startEchoRuntime({
      XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`, XMPP_DOMAIN: "localhost", XMPP_CA_FILE: prosody.caFile,
      XMPP_USERNAME: "bot", XMPP_PASSWORD: "bot-password", XMPP_MECHANISM: "SCRAM-SHA-1", XMPP_OUTBOX_LIMIT: "100",
    });
    const peer = await rawLogin({ host: "127.0.0.1", port: prosody.directTlsPort, domain: "localhost", security: "direct", caFile: prosody.caFile }, "PLAIN", plainAuthText("peer", "peer-password"));
    try {
      const N = 1000;
      let answered = 0;
      let tail = "";
      peer.conn.socket.on("data", (d: string | Buffer) => {
        const text = tail + d.toString();
        answered += (text.match(/<body>/g) ?? []).length;
        tail = text.slice(Math.max(text.lastIndexOf("<body>") + 6, text.length - 6));
      });
      let burst = "";
      for (let i = 0; i < N; i++) burst += `<message to='bot@localhost' type='chat' id='m${i}'><body>message ${i} ${"x".repeat(20_000)}</body></message>`;
      peer.conn.send(burst);
      await expect.poll(() => answered, { timeout: 120_000, interval: 50 }).toBe(N);
      expect(bot.transport.stats.outboxRejected).toBe(0);
      expect(bot.lines.filter((l) => /OutboxFullError|outbox full/.test(l))).toEqual([]);
      expect(bot.lines.filter((l) => /overloaded/.test(l)).length).toBeLessThanOrEqual(2);
    } finally {
      peer.conn.close();
      await bot.stop();
    }
  });
});
