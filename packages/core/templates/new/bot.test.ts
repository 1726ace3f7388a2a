// How {{name}} behaves, tested offline with botrun's test kit (no server, no network): `npm test`.
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import bot from "./bot.ts";

describe("{{name}}", () => {
  it("answers !hello", async () => {
    const t = await createHarness(bot);
    await t.say("!hello");
    expect(t.replies()).toEqual(["hello, alice@botrun.test"]);
  });

  it("repeats anything else", async () => {
    const t = await createHarness(bot);
    await t.say("nice weather");
    t.expectTranscript(["alice: nice weather", "bot: you said: nice weather"]);
  });
});
