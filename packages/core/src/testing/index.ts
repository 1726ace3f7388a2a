/** botrun's offline test kit: run bots with no server and assert on what they send. */
export { createHarness, Harness, type HarnessOptions, type IqPushOptions, type PushOptions, type TranscriptLine } from "./harness.ts";
export { TestTransport, type IqResponder, type TestTransportOptions } from "./test-transport.ts";
