/** A test bot whose message handler waits for `release()` before recording what it handled (backlog tests). */
import { Bot } from "../src/bot.ts";

/** The bot, the bodies it handled so far, and the switch that lets its handlers finish. */
export function slowBot(): { bot: Bot; handled: string[]; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const handled: string[] = [];
  const bot = new Bot({ name: "t" });
  bot.on("message:body", async (ctx) => {
    await gate;
    handled.push(ctx.text);
  });
  return { bot, handled, release };
}
