// The README's IQ example is real code: kept verbatim in a fixture, run on the test kit.
import { NS, xml } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { fixtureCode, readme } from "./helpers/readme-fixture.ts";
import bot from "./fixtures/readme-iq-bot.ts";

describe("README IQ example", () => {
  it("is the fixture, verbatim", () => {
    expect(readme()).toContain(fixtureCode("readme-iq-bot.ts"));
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
