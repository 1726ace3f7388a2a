// The throttle's queue counts as inbound pressure: under a burst the runtime pauses the transport's
// intake before the throttle overflows, so every message is answered and none refused.
import { Bot, BotRuntime, silentLogger, xml, type Element } from "@botrun/core";
import { TestTransport } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { throttle } from "./index.ts";

/** Stanzas "at the server" reach the bot only while it has not asked to stop reading. */
class SocketLike extends TestTransport {
  reading = true;
  pauses = 0;
  readonly atServer: Element[] = [];
  onSent: (() => void) | undefined;
  setInboundPressure(paused: boolean): void {
    if (paused && this.reading) this.pauses++;
    this.reading = !paused;
    this.read();
  }
  read(): void {
    while (this.reading && this.atServer.length) this.receive(this.atServer.shift()!);
  }
  override async send(stanza: Element): Promise<void> {
    await super.send(stanza);
    this.onSent?.();
  }
}

const chat = (i: number) => xml("message", { from: `user${i}@botrun.test/x`, to: "busy@botrun.test/test", type: "chat", id: `m${i}` }, xml("body", {}, String(i)));

describe("throttle and intake", () => {
  it("a throttled bot under a burst answers every message: intake pauses while the throttle holds replies (0 ThrottleFullError)", async () => {
    const th = throttle({ messagesPerSecond: 1000, bytesPerSecond: 10_000_000, burstBytes: 10_000_000, perDestinationPerSecond: 1000, maxQueued: 30, maxWaiting: 20 });
    const bot = new Bot({ name: "busy" });
    bot.install(th);
    const transport = new SocketLike();
    const refused: string[] = [];
    let settle!: () => void;
    const over = new Promise<void>((r) => (settle = r));
    const replies = () => transport.sent.filter((el) => el.name === "message").length;
    transport.onSent = () => void (replies() === 400 && settle());
    // Two replies per message, not awaited: the handler finishes at once and its replies wait in the throttle.
    bot.on("message:body", (ctx) => {
      for (const n of [1, 2]) void ctx.reply(`${ctx.text}.${n}`).catch((e: Error) => void (refused.push(e.name), settle()));
    });
    const rt = new BotRuntime(bot, transport, { logger: silentLogger, maxBacklog: 20 });
    await rt.start();
    for (let i = 0; i < 200; i++) transport.atServer.push(chat(i));
    transport.read(); // the burst
    await over;
    expect(refused).toEqual([]);
    expect(th.refused).toBe(0);
    expect(replies()).toBe(400);
    expect(transport.pauses).toBeGreaterThan(1);
    await rt.stop();
  });
});
