/**
 * The Composer: a tree of middlewares with typed combinators. Everything reduces to
 * two primitives, `use` (append) and `branch` (choose by predicate); `on`, `command`,
 * `hears` and `filter` are predicates over `branch`.
 */
import { parseCommand } from "./args.ts";
import { compose, toFn, type Middleware, type MiddlewareFn, type MiddlewareObj, type NextFunction } from "./compose.ts";
import type { Element } from "@xmpp/xml";
import type { Context } from "./context.ts";
import { iqResult } from "./stanza.ts";
import { matchFilter, type Filter, type FilterQuery } from "./filters.ts";

/** A predicate, possibly async. */
export type Predicate<C> = (ctx: C) => boolean | Promise<boolean>;

/** Context after `command()`: the command name and arguments are set. */
export type CommandContext<C extends Context> = C & {
  command: string;
  args: string[];
  argsText: string;
  text: string;
};
/** Context after `hears()`: `match` is set. */
export type HearsContext<C extends Context> = C & { match: RegExpMatchArray | string; text: string };

/** Context inside `iq()`: an iq get or set, with its one child element as `payload`. */
export type IqContext<C extends Context> = C & { kind: "iq"; type: "get" | "set"; payload: Element };

/**
 * Handler of `iq()`: returns the result's payload (nothing for an empty result), or throws a
 * `StanzaError` to answer with that error; any other error is answered with `internal-server-error`.
 */
export type IqHandler<C> = (ctx: C) => Element | undefined | void | Promise<Element | undefined | void>;

/** Error handler of `errorBoundary`. */
export type ErrorHandler<C> = (error: unknown, ctx: C, next: NextFunction) => unknown;

/** Shared options controlling how composers compile. */
export interface CompileOptions {
  /** Development mode: report middlewares that forgot to `await next()`. */
  onUnawaitedNext?: (error: Error) => void;
}

const pass: MiddlewareFn<unknown> = (_ctx, next) => next();

/** A node in the middleware tree; `Bot` is one. */
export class Composer<C extends Context = Context> implements MiddlewareObj<C> {
  /** Children in order: middleware functions or sub-composers (inlined at compile time). */
  protected readonly items: Array<MiddlewareFn<C> | Composer<C> | MiddlewareObj<C>> = [];
  /** Options applied when compiling; set by the runtime before start. */
  protected compileOptions: CompileOptions = {};

  constructor(...middleware: Middleware<C>[]) {
    this.items.push(...middleware);
  }

  /** Append middlewares. Returns a child composer, so that `bot.use(a).use(b)` nests. */
  use(...middleware: Middleware<C>[]): Composer<C> {
    const child = new Composer<C>(...middleware);
    this.items.push(child);
    return child;
  }

  /** Run `trueMw` when `pred` holds, else `falseMw`. The primitive behind every filter. */
  branch(pred: Predicate<C>, trueMw: Middleware<C>, falseMw: Middleware<C>): Composer<C> {
    const child = new BranchComposer<C>(pred, trueMw, falseMw);
    this.items.push(child);
    return child;
  }

  /** Run the given middlewares only for contexts satisfying `pred`; others pass on. Type guards narrow. */
  filter<D extends C>(pred: (ctx: C) => ctx is D, ...middleware: Middleware<D>[]): Composer<D>;
  filter(pred: Predicate<C>, ...middleware: Middleware<C>[]): Composer<C>;
  filter(pred: Predicate<C>, ...middleware: Middleware<C>[]): Composer<C> {
    const inner = new Composer<C>(...middleware);
    this.branch(pred, inner, pass as MiddlewareFn<C>);
    return inner;
  }

  /** Run middlewares for stanzas matching a filter query (or any of several), with the context narrowed. */
  on<Q extends FilterQuery>(query: Q | readonly Q[], ...middleware: Middleware<Filter<C, Q>>[]): Composer<Filter<C, Q>> {
    return this.filter(matchFilter<C, Q>(query), ...middleware);
  }

  /**
   * Run middlewares for a chat command such as `!weather Paris` (prefixes come from the bot's
   * options). Sets `ctx.command`, `ctx.args` (quote-aware) and `ctx.argsText`.
   */
  command(names: string | readonly string[], ...middleware: Middleware<CommandContext<C>>[]): Composer<CommandContext<C>> {
    const wanted = new Set((Array.isArray(names) ? names : [names]).map((n: string) => n.toLowerCase()));
    const pred = (ctx: C): ctx is CommandContext<C> => {
      if (ctx.kind !== "message" || ctx.text === undefined || ctx.delayed) return false;
      const parsed = parseCommand(ctx.text, ctx.bot.commandPrefixes);
      if (!parsed || !wanted.has(parsed.name)) return false;
      ctx.command = parsed.name;
      ctx.args = parsed.args;
      ctx.argsText = parsed.argsText;
      return true;
    };
    return this.filter(pred, ...middleware);
  }

  /** Run middlewares when the message text matches a string (exact, trimmed) or a RegExp; sets `ctx.match`. */
  hears(
    trigger: string | RegExp | ReadonlyArray<string | RegExp>,
    ...middleware: Middleware<HearsContext<C>>[]
  ): Composer<HearsContext<C>> {
    const triggers = Array.isArray(trigger) ? trigger : [trigger];
    const pred = (ctx: C): ctx is HearsContext<C> => {
      if (ctx.kind !== "message" || ctx.text === undefined) return false;
      for (const t of triggers as Array<string | RegExp>) {
        if (typeof t === "string") {
          if (ctx.text.trim() === t) {
            ctx.match = t;
            return true;
          }
        } else {
          t.lastIndex = 0;
          const m = t.exec(ctx.text);
          if (m) {
            ctx.match = m;
            return true;
          }
        }
      }
      return false;
    };
    return this.filter(pred, ...middleware);
  }

  /**
   * Answer iq requests of `type` whose child element has `namespace` (RFC 6120 §8.2.3): the
   * handler's return value is the result's payload. A get/set nothing answers gets
   * `service-unavailable` from the runtime; results and errors are never answered.
   * `bot.iq("get", "urn:example:weather", (ctx) => xml("weather", { xmlns: "urn:example:weather" }, "sunny"))`
   */
  iq(type: "get" | "set" | readonly ("get" | "set")[], namespace: string, handler: IqHandler<IqContext<C>>): Composer<IqContext<C>> {
    const types: readonly string[] = typeof type === "string" ? [type] : type;
    const pred = (ctx: C): ctx is IqContext<C> =>
      ctx.kind === "iq" && types.includes(ctx.type) && ctx.payload !== undefined && ctx.payload.attrs.xmlns === namespace;
    return this.filter(pred, async (ctx) => {
      const payload = await handler(ctx);
      await ctx.sendStanza(iqResult(ctx.stanza, payload ?? undefined));
    });
  }

  /**
   * Choose middleware per stanza at run time (e.g. per-chat feature flags). What the factory
   * returns is compiled with the same options as the rest (development-mode checks included).
   */
  lazy(factory: LazyFactory<C>): Composer<C> {
    return this.use(new LazyComposer<C>(factory));
  }

  /**
   * Catch errors thrown by the given middlewares: `handler(err, ctx, next)` decides what happens.
   * Errors from middleware *after* the boundary pass through untouched.
   */
  errorBoundary(handler: ErrorHandler<C>, ...middleware: Middleware<C>[]): Composer<C> {
    const inner = new Composer<C>(...middleware);
    this.items.push(new BoundaryComposer<C>(handler, inner));
    return inner;
  }

  /** The compiled middleware of this composer. Compile once, after registering handlers. */
  middleware(): MiddlewareFn<C> {
    return compose(this.flatten(this.compileOptions), this.compileOptions);
  }

  /** Flatten plain child composers into one list; other nodes compile to one function each. */
  protected flatten(opts: CompileOptions): MiddlewareFn<C>[] {
    const out: MiddlewareFn<C>[] = [];
    for (const item of this.items) {
      if (item instanceof Composer && item.constructor === Composer) out.push(...item.flatten(opts));
      else if (item instanceof Composer) out.push(item.compile(opts));
      else out.push(toFn(item));
    }
    return out;
  }

  /** Compile this node into one middleware function. */
  protected compile(opts: CompileOptions): MiddlewareFn<C> {
    return compose(this.flatten(opts), opts);
  }
}

/** `branch` node. */
class BranchComposer<C extends Context> extends Composer<C> {
  constructor(
    private readonly pred: Predicate<C>,
    private readonly yes: Middleware<C>,
    private readonly no: Middleware<C>,
  ) {
    super();
  }
  protected override compile(opts: CompileOptions): MiddlewareFn<C> {
    const yes = compileItem(this.yes, opts);
    const no = compileItem(this.no, opts);
    const pred = this.pred;
    return (ctx, next) => {
      const r: unknown = pred(ctx);
      if (r instanceof Promise) return r.then((ok) => (ok ? yes(ctx, next) : no(ctx, next)));
      // Truthiness, not `=== true`: JS predicates such as `ctx => ctx.text && …` return strings or undefined.
      return r ? yes(ctx, next) : no(ctx, next);
    };
  }
}

/** What `lazy` calls per stanza. */
export type LazyFactory<C> = (ctx: C) => Middleware<C> | Middleware<C>[] | Promise<Middleware<C> | Middleware<C>[]>;

/** `lazy` node: compiles the factory's middleware per stanza with the options of the tree it is in. */
class LazyComposer<C extends Context> extends Composer<C> {
  constructor(private readonly factory: LazyFactory<C>) {
    super();
  }
  protected override compile(opts: CompileOptions): MiddlewareFn<C> {
    const factory = this.factory;
    return async (ctx, next) => {
      const got = await factory(ctx);
      const list = Array.isArray(got) ? got : [got];
      await compose(
        list.map((mw) => compileItem(mw, opts)),
        opts,
      )(ctx, next);
    };
  }
}

/** `errorBoundary` node. */
class BoundaryComposer<C extends Context> extends Composer<C> {
  constructor(
    private readonly handler: ErrorHandler<C>,
    private readonly inner: Composer<C>,
  ) {
    super();
  }
  protected override compile(opts: CompileOptions): MiddlewareFn<C> {
    const inner = compileItem(this.inner, opts);
    const handler = this.handler;
    return async (ctx, next) => {
      const fromDownstream = new WeakSet<object>();
      try {
        await inner(ctx, () =>
          next().catch((err: unknown) => {
            if (err !== null && typeof err === "object") fromDownstream.add(err);
            throw err;
          }),
        );
      } catch (err) {
        if (err !== null && typeof err === "object" && fromDownstream.has(err)) throw err; // not ours
        await handler(err, ctx, next);
      }
    };
  }
}

function compileItem<C extends Context>(mw: Middleware<C>, opts: CompileOptions): MiddlewareFn<C> {
  if (mw instanceof Composer) return (mw as unknown as { compile(o: CompileOptions): MiddlewareFn<C> }).compile(opts);
  return toFn(mw);
}
