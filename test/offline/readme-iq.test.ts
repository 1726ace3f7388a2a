// The README's IQ example is real code: kept verbatim in a fixture, run on the test kit.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { NS, xml } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import bot from "./fixtures/readme-iq-bot.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("README IQ example", () => {
  it("is the fixture, verbatim", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const fixture = readFileSync(path.join(ROOT, "test/offline/fixtures/readme-iq-bot.ts"), "utf8").split("\n").slice(1).join("\n");
    expect(readme).toContain(fixture.trim());
  });

  it("answers its namespace, refuses a query without a city, advertises it, and asks a client's version", async () => {
    const t = await createHarness(bot, { iq: () => xml("query", { xmlns: NS.version }, xml("name", {}, "Gajim")) });
    const ok = await t.iq("get", xml("query", { xmlns: "urn:example:weather" }, xml("city", {}, "Oslo")));
    expect(ok.getChild("weather", "urn:example:weather")?.text()).toBe("sunny in Oslo");
    const bad = await t.iq("get", xml("query", { xmlns: "urn:example:weather" }));
    expect(bad.getChild("error")?.getChild("bad-request", NS.stanzas)).toBeDefined();
    const info = await t.iq("get", xml("query", { xmlns: NS.discoInfo }));
    expect(info.getChild("query")?.getChildren("feature").map((f) => f.attrs.var)).toContain("urn:example:weather");
    await t.say("!client");
    expect(t.replies()).toEqual(["Gajim"]);
  });
});
