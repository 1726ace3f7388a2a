// The README's examples are real code: kept verbatim in fixtures and tested here; the plugin
// example, pasted into a new folder under bots/ (no package.json), runs with the real CLI.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { createHarness } from "@botrun/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import bot from "./fixtures/readme-bot.ts";
import pluginsBot from "./fixtures/readme-plugins-bot.ts";
import { botrun } from "./helpers/botrun-cli.ts";
import { fixtureCode, readme as readReadme, ROOT } from "./helpers/readme-fixture.ts";

describe("README example bot", () => {
  it("is the fixture, verbatim", () => {
    expect(readReadme()).toContain(fixtureCode("readme-bot.ts"));
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
    expect(readReadme()).toContain(fixtureCode("readme-plugins-bot.ts"));
    const t = await createHarness(pluginsBot);
    expect([...t.transport.rooms.keys()]).toEqual(["lobby@conference.example.org"]);
    await t.say("!count");
    await t.say("!count");
    await t.message("bob@example.org/x", "!count");
    expect(t.replies()).toEqual(["1", "2", "1"]);
  });
});

describe("README commands", () => {
  it("never let npx fetch an unrelated package: every npx runs the checkout's botrun or the pinned pnpm", () => {
    const readme = readReadme();
    const uses = [...readme.matchAll(/npx (\S+(?: \S+)?)/g)].map((m) => m[1]!);
    expect(uses.length).toBeGreaterThan(2);
    expect(uses.filter((u) => !/^--no-install botrun|^-y pnpm@\d+\.\d+\.\d+$/.test(u) && u !== "--no-install` (or")).toEqual([]);
  });
});

describe("README plugin example pasted into a new bot folder", () => {
  const dir = path.join(ROOT, "bots", `.readme-example-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs with botrun: @botrun/plugins resolves without a package.json of its own", async () => {
    const readme = readReadme();
    const block = /## Plugins[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "bot.ts"), block);
    const r = await botrun([path.join(dir, "bot.ts")], { input: "!count\n!count\n" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1\n2\n");
    expect(r.code).toBe(0);
  });
});

describe("README test example, run against bots/echo", async () => {
  it("is the fixture, verbatim but for the import path", () => {
    expect(readReadme()).toContain(fixtureCode("readme-test-example.ts").replace("../../../bots/echo/bot.ts", "./bot.ts"));
  });
  await import("./fixtures/readme-test-example.ts");
});
