/** @botrun/plugins: commands, access control, sessions, roster, rooms, rate limits, receipts, chat states, scheduler, reactions/replies/edits, file upload, ad-hoc commands, room catch-up. */
export * from "./commands/index.ts";
export * from "./access/index.ts";
export * from "./session/index.ts";
export { matchAny, matchJid, policyAllows, type JidPattern, type JidPolicy } from "./util/jid-pattern.ts";
export { interceptSend, type SendInterceptor } from "./util/intercept-send.ts";
export * from "./rate-limit/index.ts";
export * from "./roster/index.ts";
export * from "./rooms/index.ts";
export * from "./receipts/index.ts";
export * from "./chat-states/index.ts";
export * from "./scheduler/index.ts";
export * from "./reactions/index.ts";
export * from "./upload/index.ts";
export * from "./adhoc/index.ts";
export * from "./catchup/index.ts";
