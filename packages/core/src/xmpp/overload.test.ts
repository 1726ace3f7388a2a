// Overload and stop on the real transport against the scripted server: a server that stops reading
// makes the outbox fill; past the high-water mark the transport stops reading (inbound stanzas wait
// at the server, unacknowledged), reads again once the outbox drained, and nothing is rejected;
// stop() holds XMPP_STOP_TIMEOUT with a full outbox on a socket nobody reads.
import { describe, expect, it } from "vitest";
import xml from "@xmpp/xml";
import { createConsoleLogger } from "../logger.ts";
import { transportOnFakeServer, until } from "../../test-support/fake-server.ts";

/** A reply big enough (64 KB) that a few fill the socket buffers of a peer that does not read. */
const reply = (i: number) => xml("message", { to: "peer@localhost", type: "chat", id: `r${i}` }, xml("body", {}, "x".repeat(64_000)));

describe("overload", () => {
  it("past the high-water mark the socket is not read; below the low-water mark it is again; nothing rejected", async () => {
    const lines: string[] = [];
    const logger = createConsoleLogger({ level: "warn", write: (l) => void lines.push(l) });
    const { server, transport: t } = await transportOnFakeServer({ mechanisms: ["PLAIN"], stopReadingAfterOnline: (n) => n === 1 }, { XMPP_OUTBOX_LIMIT: "200" }, logger);
    const inbound: string[] = [];
    t.on("stanza", (el) => void inbound.push(String(el.attrs.id)));
    for (let i = 0; i < 120; i++) await t.send(reply(i)); // high-water mark: 100
    await until(() => t.stats.intakePaused);
    expect(t.stats.intakePauses).toBe(1);
    server.write(1, `<message from='alice@localhost/x' to='bot@localhost/r1' type='chat' id='held'><body>hi</body></message>`);
    // Not read while paused: give the event loop many turns, the stanza must not arrive.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(inbound).toEqual([]);
    server.resumeReading(1);
    await until(() => inbound.length === 1);
    expect(inbound).toEqual(["held"]);
    expect(t.stats.intakePaused).toBe(false);
    await until(() => server.messages[0]!.length === 120);
    expect(t.stats.outboxRejected).toBe(0);
    expect(lines.filter((l) => /overloaded/.test(l))).toHaveLength(1);
  });

  it("OutboxFullError when it still happens: one line without a stack, logged once per interval", async () => {
    const lines: string[] = [];
    const logger = createConsoleLogger({ level: "warn", write: (l) => void lines.push(l) });
    const { transport } = await transportOnFakeServer({ mechanisms: ["PLAIN"], stopReadingAfterOnline: () => true }, { XMPP_OUTBOX_LIMIT: "20", XMPP_STOP_TIMEOUT: "0.2" }, logger);
    const errors: Error[] = [];
    for (let i = 0; i < 100; i++) await transport.send(reply(i)).catch((e: Error) => void errors.push(e));
    expect(errors.length).toBeGreaterThan(50);
    expect(errors[0]!.name).toBe("OutboxFullError");
    expect(errors[0]!.stack).not.toContain("\n");
    expect(lines.filter((l) => /outbox full/.test(l))).toHaveLength(1);
    expect(transport.stats.outboxRejected).toBe(errors.length);
  });

  it("stop() holds XMPP_STOP_TIMEOUT with a full outbox and a server that reads nothing", async () => {
    const { transport } = await transportOnFakeServer({ mechanisms: ["PLAIN"], stopReadingAfterOnline: () => true }, { XMPP_OUTBOX_LIMIT: "300", XMPP_STOP_TIMEOUT: "0.5", XMPP_CONNECT_TIMEOUT: "30" });
    for (let i = 0; i < 300; i++) await transport.send(reply(i));
    expect(transport.outboxDepth).toBeGreaterThan(50); // what the kernel's socket buffers cannot hold
    const t0 = Date.now();
    await transport.stop();
    // 0.5 s budget, 0.5 s for the closing handshake, then the socket is dropped (it took 2.6 s before).
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
