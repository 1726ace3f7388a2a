// The README's context-class example is real code: kept verbatim in a fixture, run on the test kit.
import { xml } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { fixtureCode, readme } from "./helpers/readme-fixture.ts";
import bot from "./fixtures/readme-context-bot.ts";

describe("README context-class example", () => {
  it("is the fixture, verbatim", () => {
    expect(readme()).toContain(fixtureCode("readme-context-bot.ts"));
  });

  it("builds every context with the bot's class: its field is read from the stanza, once", async () => {
    const t = await createHarness(bot);
    await t.push(xml("message", { from: "ana@example.org/phone", to: "polyglot@example.org", type: "chat", "xml:lang": "de" }, xml("body", {}, "hi")));
    await t.say("hi");
    expect(t.replies()).toEqual(["Hallo", "Hello"]);
    await t.stop();
  });
});
