// The real `botrun` executable with piped terminal input: replies come in input order even when
// `/as` switches between senders (chats the runtime would otherwise handle concurrently).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { botrun, ROOT } from "./helpers/botrun-cli.ts";

const CORE = pathToFileURL(path.join(ROOT, "packages/core/src/index.ts")).href;

const tmp = mkdtempSync(path.join(tmpdir(), "botrun-order-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// "slow N" takes N ms to answer; everything else is answered at once.
const BOT = `
import { Bot } from ${JSON.stringify(CORE)};
const bot = new Bot({ name: "lag" });
bot.on("message:body", async (ctx) => {
  const m = /^slow (\\d+)$/.exec(ctx.text);
  if (m) await new Promise((r) => setTimeout(r, Number(m[1])));
  await ctx.reply(\`\${ctx.chat.split("@")[0]}: \${ctx.text}\`);
});
export default bot;
`;


describe("botrun piped terminal chat", () => {
  it("replies in input order across /as sender switches, though earlier ones take longer", async () => {
    const file = path.join(tmp, "lag-bot.ts");
    writeFileSync(path.join(tmp, "package.json"), '{"type":"module"}');
    writeFileSync(file, BOT);
    const input = ["slow 300", "/as bob@example.org", "quick", "/as carol@example.org", "slow 100", "/as dave@example.org", "fast", ""].join("\n");
    const r = await botrun([file], { input });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toEqual(["you: slow 300", "bob: quick", "carol: slow 100", "dave: fast"]);
  });
});
