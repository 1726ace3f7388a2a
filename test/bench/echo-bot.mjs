// The echo bot in plain JavaScript: the start-up benchmark's "bot ships compiled JS" case (no TypeScript loader).
import { Bot } from "@botrun/core";

const bot = new Bot({ name: "echo", description: "Repeats what you say" });

bot.command("ping", (ctx) => ctx.reply("pong"));
bot.on("message:body", (ctx) => (ctx.text.trim() ? ctx.reply(ctx.text) : undefined));

export default bot;
