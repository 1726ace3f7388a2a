// How the echo bot behaves, written with botrun's offline test kit.
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import bot from "./bot.ts";

describe("echo bot", () => {
  it("repeats a chat message to the device that sent it", async () => {
    const t = await createHarness(bot);
    const sent = await t.say("hello there");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.attrs).toMatchObject({ to: "alice@botrun.test/phone", type: "chat" });
    t.expectTranscript(["alice: hello there", "bot: hello there"]);
  });

  it("answers !ping with pong, and does not echo the command", async () => {
    const t = await createHarness(bot);
    await t.say("!ping");
    expect(t.replies()).toEqual(["pong"]);
  });

  it("echoes in a room without answering its own echo", async () => {
    const t = await createHarness(bot);
    await t.joinRoom("lobby@conference.botrun.test", "echo");
    await t.groupchat("lobby@conference.botrun.test", "carol", "anyone here?");
    expect(t.replies()).toEqual(["anyone here?"]);
    expect(t.sent[0]!.attrs).toMatchObject({ to: "lobby@conference.botrun.test", type: "groupchat" });
  });

  it("sends no empty or whitespace-only reply", async () => {
    const t = await createHarness(bot);
    for (const text of ["", "   ", "\n\t ", "\u00a0"]) expect(await t.say(text)).toEqual([]);
    await t.joinRoom("lobby@conference.botrun.test", "echo");
    expect(await t.groupchat("lobby@conference.botrun.test", "carol", "  ")).toEqual([]);
  });

  it("keeps each sender's conversation separate", async () => {
    const t = await createHarness(bot);
    await t.message("bob@example.org/laptop", "one");
    await t.message("carol@example.org/desk", "two");
    expect(t.replies("bob@example.org")).toEqual(["one"]);
    expect(t.replies("carol@example.org")).toEqual(["two"]);
  });
});
