/**
 * Message delivery receipts (XEP-0184): answer `<request xmlns="urn:xmpp:receipts"/>` with
 * `<received id="…"/>`, and optionally ask for receipts on outgoing one-to-one messages
 * and track which were acknowledged. Groupchat messages never get receipts (XEP-0184 §5.3).
 * Requests are added by a send transformer, so every outgoing message gets one: replies,
 * scheduler jobs' and other plugins' sends alike.
 */
import { message, NS, xml, type Context, type MiddlewareFn, type Plugin, type SendTransformer } from "@botrun/core";
import { LruMap } from "../util/lru.ts";

/** Options of `receipts()`. */
export interface ReceiptsOptions {
  /** Answer receipt requests (default true). */
  answer?: boolean;
  /** Add a receipt request to outgoing chat messages with a body (default false). */
  request?: boolean;
  /** Called when a tracked message was acknowledged. */
  onAck?: (id: string, to: string, afterMs: number) => void;
  /** At most this many unacknowledged messages are tracked (default 10 000). */
  maxPending?: number;
}

/** The receipts plugin. */
export interface Receipts extends Plugin {
  /** Ids of messages sent with a request and not yet acknowledged. */
  pending(): string[];
  /** Resolves true when `id` is acknowledged, false after `timeoutMs` (default 30 s) or if not tracked. */
  waitForAck(id: string, timeoutMs?: number): Promise<boolean>;
}

interface Tracked {
  to: string;
  at: number;
  waiters: Array<(ok: boolean) => void>;
}

/** Create the receipts plugin. */
export function receipts(opts: ReceiptsOptions = {}): Receipts {
  const pending = new LruMap<string, Tracked>(opts.maxPending ?? 10_000);

  const addRequest: SendTransformer = (el, send) => {
    const type = String(el.attrs.type ?? "normal");
    if (el.name === "message" && (type === "chat" || type === "normal") && el.getChild("body") && !el.getChild("request", NS.receipts)) {
      el.append(xml("request", { xmlns: NS.receipts }));
      if (el.attrs.id) pending.set(String(el.attrs.id), { to: String(el.attrs.to ?? ""), at: Date.now(), waiters: [] });
    }
    return send(el);
  };

  const middleware: MiddlewareFn<Context> = async (ctx, next) => {
    if (ctx.kind !== "message" || ctx.type === "error") return next();
    const received = ctx.stanza.getChild("received", NS.receipts);
    if (received) {
      const id = String(received.attrs.id ?? "");
      const t = pending.get(id);
      if (t) {
        pending.delete(id);
        opts.onAck?.(id, t.to, Date.now() - t.at);
        for (const w of t.waiters) w(true);
      }
      if (ctx.text === undefined) return; // a bare receipt is not chat
    }
    const id = ctx.stanza.attrs.id;
    if (
      opts.answer !== false &&
      id &&
      ctx.type !== "groupchat" &&
      // RFC 6121 §5.2.2: no reply to an error (it may carry our own <request/> back) or a headline.
      ctx.type !== "error" &&
      ctx.type !== "headline" &&
      !ctx.delayed &&
      ctx.stanza.getChild("request", NS.receipts)
    ) {
      await ctx.sendStanza(message({ to: ctx.from, type: ctx.type === "chat" ? "chat" : "normal", children: [xml("received", { xmlns: NS.receipts, id: String(id) })] }));
    }
    return next();
  };

  return {
    name: "receipts",
    // XEP-0184 §5: an entity that supports receipts MUST advertise it.
    features: [NS.receipts],
    middleware,
    ...(opts.request ? { transformSend: addRequest } : {}),
    pending: () => [...pending.entries()].map(([id]) => id),
    waitForAck(id, timeoutMs = 30_000) {
      const t = pending.get(id);
      if (!t) return Promise.resolve(false);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        t.waiters.push((ok) => {
          clearTimeout(timer);
          resolve(ok);
        });
      });
    },
  };
}
