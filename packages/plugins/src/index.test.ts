// The public index lists its names one by one: a name added or lost shows here (issue 11.2).
import { describe, expect, it } from "vitest";
import * as plugins from "./index.ts";

/** Every runtime name `@botrun/plugins` exports (types are not visible at run time). */
const RUNTIME_NAMES = [
  "NS_OOB", "ThrottleFullError", "UploadError",
  "access", "adhoc", "adhocStep", "chatStates", "commands", "fileStorage", "interceptSend", "matchJid",
  "memoryStorage", "mentioned", "policyAllows", "rateLimit", "reactions", "readCorrection", "readReactions",
  "readReply", "receipts", "redisStorage", "replyMarker", "roomCatchUp", "rooms", "roster", "saveSession",
  "scheduler", "session", "sessionKeyOf", "throttle", "upload",
];

describe("@botrun/plugins' public index", () => {
  it("exports exactly the curated runtime names", () => {
    expect(Object.keys(plugins).sort()).toEqual([...RUNTIME_NAMES].sort());
  });
});
