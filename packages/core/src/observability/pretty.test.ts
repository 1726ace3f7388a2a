// The terminal's readable log lines: an error shows as `Name: message` with its stack below, not as JSON.
import { describe, expect, it } from "vitest";
import { formatPretty } from "./pretty.ts";

describe("formatPretty", () => {
  it("prints an error field as Name: message, its own frames indented below, botrun's pipeline and node internals left out", () => {
    const stack = [
      "Error: kaboom",
      "    at Array.<anonymous> (/home/me/bots/x/bot.ts:3:38)",
      "    at dispatch (/work/main/packages/core/src/compose.ts:110:24)",
      "    at handler (/home/me/node_modules/@botrun/core/dist/composer.js:20:5)",
      "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
      "    at helper (/home/me/bots/x/lib.ts:9:1)",
    ].join("\n");
    const line = JSON.stringify({ level: "error", time: "2026-12-01T08:00:00.000Z", msg: "handler failed", bot: "x", error: { name: "Error", message: "kaboom", stack } });
    expect(formatPretty(line).split("\n")).toEqual([
      '08:00:00.000 ERROR [x] handler failed error="Error: kaboom"',
      "    at Array.<anonymous> (/home/me/bots/x/bot.ts:3:38)",
      "    at helper (/home/me/bots/x/lib.ts:9:1)",
    ]);
  });

  it("keeps other fields on one line and passes non-JSON through", () => {
    expect(formatPretty(JSON.stringify({ level: "info", time: "2026-12-01T08:00:00.000Z", msg: "online", jid: "a@b", n: 2 }))).toBe("08:00:00.000 INFO  online jid=a@b n=2");
    expect(formatPretty("plain text\n")).toBe("plain text");
  });
});
