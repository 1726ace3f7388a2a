/**
 * The bot definition: a named Composer with plugins and an error hook. A bot file's
 * default export is a `Bot`; `botrun` attaches it to a transport and runs it.
 */
import { Composer } from "./composer.ts";
import { Context, type ContextConstructor } from "./context.ts";
import type { Plugin, SendTransformer } from "./plugin.ts";

/** Options of a bot definition. */
export interface BotOptions<C extends Context = Context> {
  /** The bot's name (logs, `.env` prefix, token-store key). */
  name: string;
  /** One line saying what the bot does (shown by `botrun --list`). */
  description?: string;
  /** Command prefixes, `"!"` by default. */
  commandPrefix?: string | readonly string[];
  /** Plugins to install first, in order. */
  plugins?: ReadonlyArray<Plugin<C>>;
  /** XEP-0030 features (namespaces) the bot's own handlers implement, e.g. those of its `iq()` handlers. */
  features?: readonly string[];
  /**
   * The bot's context class: a subclass of `Context` with the bot's own fields, set in its
   * constructor (`class MyContext extends Context { readonly lang = … }`). Default `Context`; a
   * bot typed with another `C` must give one.
   */
  ContextConstructor?: ContextConstructor<C>;
}

/** An error thrown by a handler, with the context it was handling. */
export class BotError<C extends Context = Context> extends Error {
  override readonly name = "BotError";
  constructor(
    readonly error: unknown,
    readonly ctx: C,
  ) {
    super(`handler failed on ${ctx.kind} from ${ctx.from}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Called for every handler error after it has been logged. */
export type BotErrorHandler<C extends Context> = (err: BotError<C>) => unknown;

/** A bot: the pipeline plus its metadata. */
export class Bot<C extends Context = Context> extends Composer<C> {
  readonly name: string;
  readonly description: string | undefined;
  readonly commandPrefixes: readonly string[];
  readonly plugins: Plugin<C>[] = [];
  /** Features the bot advertises beside the core's and its plugins' (XEP-0030). */
  readonly features: readonly string[];
  /** Outgoing-stanza transformers, outermost first. */
  readonly sendTransformers: SendTransformer[] = [];
  /** What builds this bot's contexts (see `BotOptions.ContextConstructor`). */
  readonly ContextConstructor: ContextConstructor<C>;
  #onError: BotErrorHandler<C> | undefined;

  constructor(options: BotOptions<C>) {
    super();
    if (!options?.name || !/^[A-Za-z0-9][\w.-]*$/.test(options.name)) {
      throw new TypeError(`Bot name "${options?.name ?? ""}" is invalid: use letters, digits, ".", "_" or "-"`);
    }
    this.name = options.name;
    this.description = options.description;
    const p = options.commandPrefix ?? "!";
    this.commandPrefixes = typeof p === "string" ? [p] : [...p];
    this.features = [...(options.features ?? [])];
    // Without one, C is Context (or a type that only adds optional flavor fields plugins fill in).
    this.ContextConstructor = options.ContextConstructor ?? (Context as unknown as ContextConstructor<C>);
    for (const plugin of options.plugins ?? []) this.install(plugin);
  }

  /** Install plugins: their middleware goes here in the pipeline, their hooks run with the bot. */
  install(...plugins: Plugin<C>[]): this {
    for (const plugin of plugins) {
      if (this.plugins.some((p) => p.name === plugin.name)) {
        throw new Error(`plugin "${plugin.name}" is installed twice in bot "${this.name}"`);
      }
      this.plugins.push(plugin);
      if (plugin.middleware) this.use(plugin.middleware);
      if (plugin.transformSend) this.sendTransformers.push(plugin.transformSend);
    }
    return this;
  }

  /** Wrap every outgoing stanza (throttling, receipts, logging…); see `SendTransformer`. */
  transformSend(transformer: SendTransformer): this {
    this.sendTransformers.push(transformer);
    return this;
  }

  /** Set the error hook: called with every handler error (after logging). It must not throw. */
  catch(handler: BotErrorHandler<C>): this {
    this.#onError = handler;
    return this;
  }

  /** The error hook, if any. */
  get errorHandler(): BotErrorHandler<C> | undefined {
    return this.#onError;
  }

  /** Compile the pipeline with runtime options (used by the runtime). */
  compileWith(opts: { onUnawaitedNext?: (e: Error) => void }) {
    this.compileOptions = opts;
    return this.middleware();
  }
}

/** Sugar: `export default defineBot({ name: "echo" }, (bot) => bot.on("message:body", …))`. */
export function defineBot<C extends Context = Context>(options: BotOptions<C>, setup?: (bot: Bot<C>) => void): Bot<C> {
  const bot = new Bot<C>(options);
  setup?.(bot);
  return bot;
}

/** True when `value` looks like a Bot (also across duplicate copies of @botrun/core). */
export function isBot(value: unknown): value is Bot {
  return (
    value instanceof Bot ||
    (typeof value === "object" &&
      value !== null &&
      typeof (value as Bot).name === "string" &&
      typeof (value as Bot).middleware === "function" &&
      Array.isArray((value as Bot).plugins))
  );
}
