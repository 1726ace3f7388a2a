// {{name}}: an XMPP chat bot made with botrun. `npx botrun .` chats with it in the terminal.
import { Bot } from "@botrun/core";
import { commands } from "@botrun/plugins";

const bot = new Bot({ name: "{{name}}", description: "Says hello and repeats what you say" });

const cmds = commands(); // !help lists the commands
cmds.command("hello", { description: "Say hello" }, (ctx) => ctx.reply(`hello, ${ctx.nick ?? ctx.chat}`));
bot.install(cmds);

bot.on("message:body", (ctx) => ctx.reply(`you said: ${ctx.text}`));

export default bot;
