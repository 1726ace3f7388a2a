/**
 * @botrun/plugins: the public API, listed name by name. A name is here because the README, the bots,
 * the tests or a type one of them needs uses it (each plugin's factory, its options, the object it
 * returns and the context flavor it adds); stanza builders, namespaces and parsers the plugins share
 * stay importable by path inside this package only.
 */

// commands: prefixes, direct address, typed arguments, help (README "commands").
export {
  commands,
  type Commands,
  type CommandCtx,
  type CommandGuard,
  type CommandInfo,
  type CommandSpec,
  type CommandsOptions,
  type Invocation,
} from "./commands/index.ts";
export type { ArgSpec, ArgType, Params, ParamsOf } from "./commands/args.ts";

// access: admins and per-command rules (README "access").
export { access, type AccessControl, type AccessOptions, type AccessRule } from "./access/index.ts";

// session: per-chat or per-user state and its storage adapters (README "session").
export { saveSession, session, sessionKeyOf, type SessionFlavor, type SessionKey, type SessionOptions } from "./session/index.ts";
export { memoryStorage, type MemoryStorage, type StorageAdapter } from "./session/storage.ts";
export { fileStorage, type FileStorage } from "./session/file-storage.ts";
export { redisStorage, type RedisStorage, type RedisStorageOptions } from "./session/redis-storage.ts";

// roster and rooms (README "roster", "rooms").
export { roster, type PresenceInfo, type Roster, type RosterOptions } from "./roster/index.ts";
export { mentioned, rooms } from "./rooms/index.ts";
export type { RemovedHow, RoomConfig, Rooms, RoomsOptions } from "./rooms/types.ts";
export { replyMarker } from "./util/room-talk.ts";

// Flood control in and out (README "rateLimit / throttle").
export { rateLimit, type RateLimiter, type RateLimitOptions } from "./rate-limit/inbound.ts";
export { throttle, ThrottleFullError, type Throttle, type ThrottleOptions } from "./rate-limit/outbound.ts";

// receipts (XEP-0184) and chat states (XEP-0085).
export { receipts, type Receipts, type ReceiptsOptions } from "./receipts/index.ts";
export { chatStates, type ChatStatesOptions } from "./chat-states/index.ts";

// scheduler: timed jobs.
export { scheduler, type JobContext, type JobFn, type JobInfo, type Scheduler, type SchedulerOptions } from "./scheduler/index.ts";

// reactions, quoting replies, corrections, and the readers tests assert them with.
export { reactions, type ReactionsFlavor } from "./reactions/index.ts";
export { readCorrection, readReactions, readReply, type SentMessage } from "./reactions/stanzas.ts";

// upload: files through XEP-0363 HTTP upload.
export {
  NS_OOB,
  upload,
  UploadError,
  type FileOptions,
  type UploadedFile,
  type UploadFlavor,
  type UploadOptions,
} from "./upload/index.ts";
export type { FileInput } from "./upload/source.ts";

// adhoc: commands in the client's menu (XEP-0050).
export { adhoc, type AdhocOptions } from "./adhoc/index.ts";
export { adhocStep, type AdhocStep } from "./adhoc/run.ts";

// roomCatchUp: room messages missed across downtime (XEP-0313 on MUC).
export { roomCatchUp } from "./catchup/index.ts";
export type { CatchUpResult, RoomCatchUp, RoomCatchUpOptions } from "./catchup/types.ts";
export type { RoomCursor } from "./catchup/cursor.ts";

// Helpers (README "Helpers").
export { matchJid, policyAllows, type JidPattern, type JidPolicy } from "./util/jid-pattern.ts";
export { interceptSend } from "./util/intercept-send.ts";
