/**
 * The bot's own context class, built once per runtime: the bot's `ContextConstructor` (or
 * `Context`), extended with the members plugins and the host declare (`Plugin.context`,
 * `RuntimeOptions.context`) on a subclass's prototype. Handlers then get typed members that are
 * set once, instead of each plugin assigning fields on every context.
 */
import xml from "@xmpp/xml";
import type { BotApi, Context, ContextConstructor } from "../context.ts";

/**
 * Members added to every context of a bot: methods and getters, `this` being the context. Defined
 * on the prototype of the bot's context class, once; a getter computes on demand, per stanza.
 * Type what you add with an interface the handlers' context intersects (`Context & AccountFlavor`).
 */
export type ContextExtension<T extends object = object> = T & ThisType<Context & T>;

/** An extension and who declared it (for the error on a name clash). */
export interface DeclaredExtension {
  readonly owner: string;
  readonly members: object;
}

/** Thrown at start when two declarations (or one and the context itself) claim the same member name. */
export class ContextMemberClashError extends Error {
  override readonly name = "ContextMemberClashError";
}

/**
 * `base`, or a subclass of it carrying `extensions` on its prototype. Throws
 * `ContextMemberClashError` naming the member and both owners when a name is taken: a field or
 * method of `base`, or another extension's (a member never silently shadows another).
 */
export function buildContextClass<C extends Context>(base: ContextConstructor<C>, extensions: readonly DeclaredExtension[]): ContextConstructor<C> {
  if (extensions.length === 0) return base;
  // One class per bot and set of declarations: a fleet runs one runtime per account of the same bot,
  // and every context of its handlers should share one shape (one class, not one per account).
  const built = BUILT.get(base) ?? [];
  const same = built.find((b) => b.extensions.length === extensions.length && b.extensions.every((e, i) => e.members === extensions[i]!.members && e.owner === extensions[i]!.owner));
  if (same) return same.cls as ContextConstructor<C>;
  const taken = new Map<string, string>();
  for (const name of ownMembers(base)) taken.set(name, "the context");
  const BotContext = class extends (base as ContextConstructor<Context>) {} as unknown as ContextConstructor<C>;
  for (const { owner, members } of extensions) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(members))) {
      const holder = taken.get(name);
      if (holder) throw new ContextMemberClashError(`${owner} adds ctx.${name}, which ${holder === "the context" ? "the context already has" : `${holder} adds too`}`);
      taken.set(name, owner);
      Object.defineProperty(BotContext.prototype, name, { ...descriptor, enumerable: false });
    }
  }
  built.push({ extensions: [...extensions], cls: BotContext });
  BUILT.set(base, built);
  return BotContext;
}

/** The classes built so far, per base class (the declarations they were built from). */
const BUILT = new WeakMap<object, { extensions: readonly DeclaredExtension[]; cls: object }[]>();

/** Names of `base`'s instance fields (from a probe context) and of every method and getter up its prototype chain. */
function ownMembers(base: ContextConstructor<Context>): Set<string> {
  const probeBot: BotApi = {
    name: "probe",
    jid: undefined,
    commandPrefixes: [],
    transport: "probe",
    send: () => Promise.resolve(),
    request: () => Promise.reject(new Error("probe")),
    log: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => probeBot.log },
  };
  const names = new Set<string>();
  try {
    for (const name of Object.keys(new base(xml("message"), probeBot))) names.add(name);
  } catch {
    // A constructor that refuses an empty message: its prototype's names still count.
  }
  for (let p: object | null = base.prototype as object; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) if (name !== "constructor") names.add(name);
  }
  return names;
}
