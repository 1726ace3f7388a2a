/**
 * Filter queries: short strings such as `"message:body"` that select stanzas and
 * narrow the context type, so that `ctx.text` is a `string` inside `on("message:body")`.
 */
import type { Context, Show } from "./context.ts";
import type { Element, StanzaError } from "./stanza.ts";

interface MessageShape {
  kind: "message";
}
interface BodyShape {
  text: string;
}
interface ChatShape extends MessageShape {
  type: "chat" | "normal";
  room: undefined;
  nick: undefined;
}
interface GroupchatShape extends MessageShape {
  type: "groupchat";
  room: string;
  nick: string | undefined;
  isGroupchat: true;
}
interface PresenceShape {
  kind: "presence";
  show: Show;
  text: undefined;
}
interface ErrorShape {
  type: "error";
  error: StanzaError;
}

/** What each filter query guarantees about the context. */
export interface FilterShapes {
  message: MessageShape;
  "message:chat": ChatShape;
  "message:groupchat": GroupchatShape;
  "message:body": MessageShape & BodyShape;
  "message:chat:body": ChatShape & BodyShape;
  "message:groupchat:body": GroupchatShape & BodyShape;
  "message:error": MessageShape & ErrorShape;
  presence: PresenceShape;
  "presence:available": PresenceShape & { type: "available" };
  "presence:unavailable": PresenceShape & { type: "unavailable" };
  "presence:subscribe": PresenceShape & { type: "subscribe" };
  "presence:subscribed": PresenceShape & { type: "subscribed" };
  "presence:unsubscribe": PresenceShape & { type: "unsubscribe" };
  "presence:unsubscribed": PresenceShape & { type: "unsubscribed" };
  "presence:error": PresenceShape & ErrorShape;
  iq: { kind: "iq" };
  "iq:get": { kind: "iq"; type: "get"; payload: Element };
  "iq:set": { kind: "iq"; type: "set"; payload: Element };
  "iq:result": { kind: "iq"; type: "result" };
  "iq:error": { kind: "iq" } & ErrorShape;
  error: ErrorShape;
}

/** A filter query string. */
export type FilterQuery = keyof FilterShapes;

/** The context type after filtering by `Q` (a union of queries gives a union of shapes). */
export type Filter<C extends Context, Q extends FilterQuery> = C & FilterShapes[Q];

type Pred = (ctx: Context) => boolean;

const isChatType = (t: string) => t === "chat" || t === "normal";
const PREDICATES: { [Q in FilterQuery]: Pred } = {
  message: (c) => c.kind === "message",
  "message:chat": (c) => c.kind === "message" && isChatType(c.type),
  "message:groupchat": (c) => c.kind === "message" && c.type === "groupchat",
  "message:body": (c) => c.kind === "message" && c.text !== undefined && c.type !== "error",
  "message:chat:body": (c) => c.kind === "message" && isChatType(c.type) && c.text !== undefined,
  "message:groupchat:body": (c) => c.kind === "message" && c.type === "groupchat" && c.text !== undefined,
  "message:error": (c) => c.kind === "message" && c.type === "error",
  presence: (c) => c.kind === "presence",
  "presence:available": (c) => c.kind === "presence" && c.type === "available",
  "presence:unavailable": (c) => c.kind === "presence" && c.type === "unavailable",
  "presence:subscribe": (c) => c.kind === "presence" && c.type === "subscribe",
  "presence:subscribed": (c) => c.kind === "presence" && c.type === "subscribed",
  "presence:unsubscribe": (c) => c.kind === "presence" && c.type === "unsubscribe",
  "presence:unsubscribed": (c) => c.kind === "presence" && c.type === "unsubscribed",
  "presence:error": (c) => c.kind === "presence" && c.type === "error",
  iq: (c) => c.kind === "iq",
  "iq:get": (c) => c.kind === "iq" && c.type === "get",
  "iq:set": (c) => c.kind === "iq" && c.type === "set",
  "iq:result": (c) => c.kind === "iq" && c.type === "result",
  "iq:error": (c) => c.kind === "iq" && c.type === "error",
  error: (c) => c.type === "error",
};

/** The list of all filter queries (for help texts and validation). */
export const FILTER_QUERIES = Object.keys(PREDICATES) as FilterQuery[];

/** Compile one query or a list of queries (any matches) into a predicate. Unknown queries throw at once. */
export function matchFilter<C extends Context, Q extends FilterQuery>(
  query: Q | readonly Q[],
): (ctx: C) => ctx is Filter<C, Q> {
  const list = (Array.isArray(query) ? query : [query]) as readonly Q[];
  const preds = list.map((q) => {
    const p = PREDICATES[q];
    if (!p) throw new TypeError(`unknown filter query "${String(q)}"; expected one of: ${FILTER_QUERIES.join(", ")}`);
    return p;
  });
  if (preds.length === 1) return preds[0] as unknown as (ctx: C) => ctx is Filter<C, Q>;
  return ((ctx: C) => preds.some((p) => p(ctx))) as (ctx: C) => ctx is Filter<C, Q>;
}
