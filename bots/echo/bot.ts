// The echo bot: repeats every chat message, in one-to-one chats and in rooms.
import { Bot } from "@botrun/core";

const bot = new Bot({ name: "echo", description: "Repeats what you say" });

bot.command("ping", (ctx) => ctx.reply("pong"));
bot.on("message:body", (ctx) => ctx.reply(ctx.text));

export default bot;
