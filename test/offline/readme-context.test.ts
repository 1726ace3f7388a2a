// The README's context-class example is real code: kept verbatim in a fixture, run on the test kit.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { xml } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import bot from "./fixtures/readme-context-bot.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("README context-class example", () => {
  it("is the fixture, verbatim", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const fixture = readFileSync(path.join(ROOT, "test/offline/fixtures/readme-context-bot.ts"), "utf8").split("\n").slice(1).join("\n");
    expect(readme).toContain(fixture.trim());
  });

  it("builds every context with the bot's class: its field is read from the stanza, once", async () => {
    const t = await createHarness(bot);
    await t.push(xml("message", { from: "ana@example.org/phone", to: "polyglot@example.org", type: "chat", "xml:lang": "de" }, xml("body", {}, "hi")));
    await t.say("hi");
    expect(t.replies()).toEqual(["Hallo", "Hello"]);
    await t.stop();
  });
});
