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
  const run = (ctx: MiddlewareContext, i: number): Promise<unknown> => {
    const fn = chain[i];
    if (!fn) return Promise.resolve();
    try {
      return Promise.resolve(fn(ctx, () => run(ctx, i + 1)));
    } catch (err) {
      return Promise.reject(err);
    }
  };
  entity.on("element", (stanza) => {
    const { name, attrs } = stanza;
    const type = (attrs.type as string | undefined) ?? (name === "message" ? "normal" : name === "presence" ? "available" : "");
    const ctx: MiddlewareContext = { stanza, entity, name, id: (attrs.id as string | undefined) ?? "", type };
    run(ctx, 0)
      .then((reply) => (reply && typeof (reply as Element).write === "function" ? entity.send(reply as Element) : undefined))
      .catch((err: unknown) => entity.emit("error", err));
  });
  return {
    use(fn) {
      chain.push(fn);
      return fn;
    },
  };
}
