// The README's example bot is real code: it is kept verbatim in a fixture and tested here.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import bot from "./fixtures/readme-bot.ts";
import pluginsBot from "./fixtures/readme-plugins-bot.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("README example bot", () => {
  it("is the fixture, verbatim", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const fixture = readFileSync(path.join(ROOT, "test/offline/fixtures/readme-bot.ts"), "utf8").split("\n").slice(1).join("\n");
    expect(readme).toContain(fixture.trim());
  });

  it("rolls dice, greets, accepts subscriptions and echoes", async () => {
    const t = await createHarness(bot);
    await t.say("!roll 1");
    await t.say("hello there");
    const [subscribed] = await t.subscribe("bob@example.org");
    await t.say("something else");
    expect(t.replies()).toEqual(["1", "hello, alice@botrun.test", "you said: something else"]);
    expect(subscribed!.toString()).toBe('<presence to="bob@example.org" type="subscribed"/>');
  });

  it("the plugin example joins its room and keeps a count per chat", async () => {
    const fixture = readFileSync(path.join(ROOT, "test/offline/fixtures/readme-plugins-bot.ts"), "utf8").split("\n").slice(1, -2).join("\n");
    expect(readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain(fixture.trim());
    const t = await createHarness(pluginsBot);
    expect([...t.transport.rooms.keys()]).toEqual(["lobby@conference.example.org"]);
    await t.say("!count");
    await t.say("!count");
    await t.message("bob@example.org/x", "!count");
    expect(t.replies()).toEqual(["1", "2", "1"]);
  });
});
