// The echo bot: repeats every chat message, in one-to-one chats and in rooms.
import { Bot } from "@botrun/core";

const bot = new Bot({ name: "echo", description: "Repeats what you say" });

bot.command("ping", (ctx) => ctx.reply("pong"));
// An empty or whitespace-only message is not echoed: an empty reply is noise (issue 8.5).
bot.on("message:body", (ctx) => (ctx.text.trim() ? ctx.reply(ctx.text) : undefined));

export default bot;
