/**
 * The inbound middleware chain, in place of @xmpp/middleware 0.14, which for every element builds
 * a context with two parsed JIDs (and a JID serialisation when `to` is absent) and a new
 * koa-compose chain, and for every written stanza the same again for outgoing filters we do not
 * have. Here a context carries what the plugins read (`stanza`, `entity`, `name`, `id`, `type`),
 * and no outgoing chain exists. A handler's returned element is sent as the reply; a thrown error
 * becomes the entity's `error` event (as in @xmpp/middleware).
 */
import type { Element } from "@xmpp/xml";

/** What a middleware sees. */
export interface MiddlewareContext {
  stanza: Element;
  entity: unknown;
  name: string;
  id: string;
  type: string;
}

/** A middleware: call `next()` to pass the element on. */
export type Middleware = (ctx: MiddlewareContext, next: () => Promise<unknown>) => unknown;

/** The part of an xmpp.js entity the chain uses. */
export interface MiddlewareEntity {
  send(el: Element): Promise<void>;
  emit(event: "error", err: unknown): unknown;
  on(event: "element", fn: (el: Element) => void): unknown;
}

/** Register the chain on `entity`; `use()` appends (order is priority, as in @xmpp/middleware). */
export function middleware({ entity }: { entity: MiddlewareEntity }): { use(fn: Middleware): Middleware } {
  const chain: Middleware[] = [];
  // Per element: one context and one `next` (no promise per step). A middleware that returns
  // `next()` hands on what the rest returned; the end of the chain is the shared `DONE`, so a
  // stanza that every middleware passes on costs no promise at all.
  const step = (ctx: Step): Promise<unknown> => {
    const fn = chain[ctx.i++];
    if (!fn) return DONE;
    const r = fn(ctx, ctx.next);
    return r === undefined || r === null ? DONE : typeof (r as Promise<unknown>).then === "function" ? (r as Promise<unknown>) : Promise.resolve(r);
  };
  const fail = (err: unknown): unknown => entity.emit("error", err);
  const reply = (r: unknown): unknown => (r && typeof (r as Element).write === "function" ? entity.send(r as Element) : undefined);
  entity.on("element", (stanza) => {
    const { name, attrs } = stanza;
    const type = (attrs.type as string | undefined) ?? (name === "message" ? "normal" : name === "presence" ? "available" : "");
    const ctx: Step = { stanza, entity, name, id: (attrs.id as string | undefined) ?? "", type, i: 0, next: unset };
    // Assigned to a member, not named in the literal: tsx (esbuild keepNames) would wrap a named closure in a defineProperty call per element.
    ctx.next = () => step(ctx);
    let r: Promise<unknown>;
    try {
      r = step(ctx);
    } catch (err) {
      fail(err);
      return;
    }
    if (r !== DONE) r.then(reply).catch(fail);
  });
  return {
    use(fn) {
      chain.push(fn);
      return fn;
    },
  };
}

const unset = (): Promise<unknown> => DONE;
/** What the chain ends in: no reply. */
const DONE: Promise<unknown> = Promise.resolve(undefined);

/** A context as the chain walks it: the next middleware's index and the one `next` of this element. */
interface Step extends MiddlewareContext {
  i: number;
  next: () => Promise<unknown>;
}
