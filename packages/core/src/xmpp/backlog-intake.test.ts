// The runtime's backlog bound on the real XMPP transport against the scripted server: handlers that
// do not finish make the backlog reach maxBacklog; the transport then stops reading the socket
// (stanzas wait at the server), reads again once handlers finished, and every message is handled.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import { silentLogger } from "../logger.ts";
import { BotRuntime } from "../runtime/runtime.ts";
import { slowBot } from "../../test-support/slow-bot.ts";
import { startFakeServer, until } from "../../test-support/fake-server.ts";
import { createXmppTransport } from "./transport.ts";

const msg = (i: number) => `<message from='alice@localhost/x' to='bot@localhost/r1' type='chat' id='m${i}'><body>${i}</body></message>`;

describe("backlog bound on the XMPP transport", () => {
  it("stops reading the socket at maxBacklog, reads again once handled; all 2000 handled, none dropped", async () => {
    const server = await startFakeServer({ mechanisms: ["PLAIN"] });
    const config = loadConfig({
      XMPP_SERVICE: `xmpp://127.0.0.1:${server.port}`, XMPP_DOMAIN: "localhost", XMPP_ALLOW_INSECURE: "1", XMPP_START_ATTEMPTS: "1",
      XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", XMPP_MECHANISM: "PLAIN",
    })!;
    const transport = createXmppTransport({ config, logger: silentLogger });
    const { bot, handled, release } = slowBot();
    const rt = new BotRuntime(bot, transport, { logger: silentLogger, maxBacklog: 20 });
    try {
      await rt.start();
      let peak = 0;
      let delivered = 0;
      transport.on("stanza", () => void (delivered++, (peak = Math.max(peak, rt.backlog))));
      // ~200 KB in one write: several socket reads' worth.
      server.write(1, Array.from({ length: 2000 }, (_, i) => msg(i)).join(""));
      await until(() => transport.stats.intakePaused);
      const atPause = delivered;
      // Not read while paused: many event-loop turns, nothing more arrives.
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      expect(delivered).toBe(atPause);
      expect(delivered).toBeLessThan(2000);
      expect(peak).toBeLessThan(1000); // at most what one socket read held past the mark
      release();
      await until(() => handled.length === 2000);
      expect(handled).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
      expect(rt.stats.dropped).toBe(0);
      await until(() => !transport.stats.intakePaused);
      expect(transport.stats.intakePauses).toBeGreaterThanOrEqual(1);
    } finally {
      await rt.stop();
      await server.close();
    }
  });
});
