/**
 * The session plugin: per-chat or per-user state in `ctx.session`, loaded before the
 * handler and saved after it, only if it changed. Handlers for the same session key run
 * one at a time (a per-key lock), so concurrent messages never race on the same state,
 * even for a per-user key shared across chats.
 *
 * ```ts
 * type S = { count: number };
 * const bot = new Bot<Context & SessionFlavor<S>>({ name: "counter" });
 * bot.install(session<S>({ initial: () => ({ count: 0 }) }));
 * bot.on("message:body", (ctx) => ctx.reply(String(++ctx.session.count)));
 * ```
 */
import { jid, KeyedSequencer, type Context, type MiddlewareFn, type Plugin } from "@botrun/core";
import { MemoryStorage, type StorageAdapter } from "./storage.ts";

export { FileStorage, fileStorage } from "./file-storage.ts";
export { MemoryStorage, memoryStorage, type StorageAdapter } from "./storage.ts";
export { RedisStorage, redisStorage, type RedisStorageOptions } from "./redis-storage.ts";

/** Add to your context type: `Context & SessionFlavor<S>`. Set `ctx.session = undefined` to delete it. */
export interface SessionFlavor<S> {
  session: S;
}

/** Which session a stanza belongs to: `undefined` means none (then `ctx.session` is not set). */
export type SessionKey = "chat" | "user" | ((ctx: Context) => string | undefined);

/** Options of `session()`. */
export interface SessionOptions<S> {
  /** A fresh value for a new session. */
  initial: () => S;
  /** Default: memory. */
  storage?: StorageAdapter<S>;
  /**
   * `chat` (default: one per chat/room), `user` (one per sender, across chats), or a function. In a
   * fleet worker (contexts with `ctx.account`) both are per account: `acct:<account>:chat:<chat>`.
   */
  key?: SessionKey;
  /** Where the value goes on the context (default `session`). */
  property?: string;
  /** Plugin name (default `session`, or `session:<property>`). */
  name?: string;
}

/**
 * Save `ctx`'s session now, before replying, so that a reply never claims what a failed write lost
 * (`await saveSession(ctx); await ctx.reply("Saved.")`). Rejects with the storage's error. The
 * usual save after the handler then only writes what changed since.
 */
export async function saveSession(ctx: Context, property = "session"): Promise<void> {
  const save = ctx.locals[saveKey(property)];
  if (typeof save !== "function") throw new Error(`saveSession: no session "${property}" on this context`);
  await (save as () => Promise<void>)();
}

const saveKey = (prop: string) => `session:save:${prop}`;

/** Compute the session key of a context. */
export function sessionKeyOf(ctx: Context, key: SessionKey = "chat"): string | undefined {
  if (typeof key === "function") return key(ctx);
  if (!ctx.from) return undefined;
  // In a fleet worker every context carries the account it came to (`ctx.account`, declared by
  // @botrun/fleet): one bot serves many accounts over one storage, so the account leads the key
  // (`acct:<account>:chat:<chat>`) and two accounts talking to one person keep apart.
  const account: unknown = Reflect.get(ctx, "account");
  const scope = typeof account === "string" && account ? `acct:${account}:` : "";
  if (key === "chat") return ctx.chat ? `${scope}chat:${ctx.chat}` : undefined;
  const real = ctx.locals.realJid;
  if (typeof real === "string" && real) return `${scope}user:${jid.bare(real)}`;
  return `${scope}user:${ctx.room || ctx.chat.includes("/") ? ctx.from : jid.bare(ctx.from)}`;
}

/** Create a session plugin. */
export function session<S, C extends Context = Context>(opts: SessionOptions<S>): Plugin<C> & { readonly storage: StorageAdapter<S> } {
  const storage = opts.storage ?? new MemoryStorage<S>();
  const prop = opts.property ?? "session";
  const lock = new KeyedSequencer();
  const middleware: MiddlewareFn<C> = async (ctx, next) => {
    const key = sessionKeyOf(ctx, opts.key);
    if (key === undefined) return next();
    await lock.run(key, async () => {
      const stored = await storage.read(key);
      let before = stored === undefined ? undefined : JSON.stringify(stored);
      const value = stored ?? opts.initial();
      const bag = ctx as unknown as Record<string, unknown>;
      bag[prop] = value;
      ctx.locals[saveKey(prop)] = async () => {
        const now = bag[prop];
        if (now === undefined || now === null) return;
        const json = JSON.stringify(now);
        if (json === before) return;
        await storage.write(key, now as S);
        before = json;
      };
      await next();
      const after = bag[prop];
      if (after === undefined || after === null) {
        if (stored !== undefined) await storage.delete(key);
        return;
      }
      const json = JSON.stringify(after);
      if (json !== before && !(before === undefined && json === JSON.stringify(opts.initial()))) {
        await storage.write(key, after as S);
      }
    });
  };
  return { name: opts.name ?? (prop === "session" ? "session" : `session:${prop}`), middleware, storage };
}
