// The hot path's argv parser: what it takes itself, and what it leaves to yargs (undefined).
import { describe, expect, it } from "vitest";
import { LEVELS } from "../logger.ts";
import { parseRunArgs } from "./fast-args.ts";

const parse = (...a: string[]) => parseRunArgs(a, LEVELS);

describe("parseRunArgs", () => {
  it("parses bots and the run flags, in both --flag value and --flag=value forms", () => {
    expect(parse("echo", "notes", "--console", "--debug", "--http-port", "9464", "--http-host=::1", "--env-file", "a.env", "--env-file=b.env", "--log-level", "warn")).toEqual({
      bots: ["echo", "notes"], console: true, xmpp: false, debug: true, envFiles: ["a.env", "b.env"], logLevel: "warn", httpPort: "9464", httpHost: "::1",
    });
    expect(parse("./bots/echo/bot.ts", "--xmpp")).toMatchObject({ bots: ["./bots/echo/bot.ts"], xmpp: true, console: false });
  });

  it("leaves commands, help, version, unknown or conflicting flags, bad levels and missing values to yargs", () => {
    for (const args of [[], ["auth", "echo"], ["check", "echo"], ["list"], ["dev", "echo"], ["new", "x"], ["fleet", "echo"], ["echo", "--help"], ["echo", "-h"], ["--version"],
      ["echo", "--nope"], ["echo", "--console", "--xmpp"], ["echo", "--log-level", "loud"], ["echo", "--http-port"], ["echo", "--http-port", "--debug"], ["--debug"], ["echo", "--", "x"], ["echo", "--debug=false"], ["--env-file", "a.env", "echo"]]) {
      expect(parse(...args), args.join(" ")).toBeUndefined();
    }
  });
});
