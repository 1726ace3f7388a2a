/**
 * Outbound throttle: paces what the bot sends, overall and per destination, in messages
 * per second and bytes per second, so that a burst of replies does not trip the server's
 * traffic shaper (ejabberd's default `c2s_shaper` is 3000 B/s with a 20 000 B burst).
 * Built on p-queue (sliding windows); order per destination is kept. Sends resolve once
 * handed to the transport.
 *
 * Installed, it is a send transformer: every stanza the bot sends passes through it — replies,
 * plugin sends (`host.send`: rooms, roster, scheduler jobs) and presences. Install it after
 * the plugins that change outgoing stanzas (receipts, chat states) so it measures the final bytes.
 * Once the bot is stopping, new stanzas (leave presences, goodbyes) skip the queues, so that a
 * backlog cannot hold up the shutdown; what was queued before still goes at the paced rate.
 */
import PQueue from "p-queue";
import { jid, type Element, type Plugin, type PluginHost } from "@botrun/core";
import { TokenBucket } from "./token-bucket.ts";

/** Options of `throttle()`. */
export interface ThrottleOptions {
  /** Overall stanzas per second (default 10). */
  messagesPerSecond?: number;
  /** Overall bytes per second (default 2000, below ejabberd's 3000 B/s shaper). */
  bytesPerSecond?: number;
  /** Byte burst allowance (default 4000). */
  burstBytes?: number;
  /** Per-destination stanzas per second (default 3). */
  perDestinationPerSecond?: number;
  /** Called when a stanza had to wait (ms), for metrics. */
  onDelay?: (ms: number, to: string) => void;
}

type SendFn = (el: Element) => Promise<void>;

/** The throttle plugin. */
export interface Throttle extends Plugin {
  /** Send `el` through the throttle using `send` as the real sender. */
  send(el: Element, send: SendFn): Promise<void>;
  /** Wrap a send function so that it is throttled (for senders outside the bot; installed, the bot's own sends already are). */
  wrap(send: SendFn): SendFn;
  /** Stanzas waiting (all destinations). */
  readonly queued: number;
  /** Resolves when nothing is waiting or being sent. */
  idle(): Promise<void>;
}

/** Create an outbound throttle for every stanza the bot sends. */
export function throttle(opts: ThrottleOptions = {}): Throttle {
  const mps = opts.messagesPerSecond ?? 10;
  const bps = opts.bytesPerSecond ?? 2000;
  const perDest = opts.perDestinationPerSecond ?? 3;
  const overall = new PQueue({ concurrency: 1, intervalCap: mps, interval: 1000, strict: true });
  const bytes = new TokenBucket(Math.max(opts.burstBytes ?? 4000, bps), bps, Date.now());
  const dests = new Map<string, PQueue>();
  let queued = 0;
  let host: PluginHost | undefined;

  const waitBytes = async (n: number) => {
    // A stanza larger than the bucket may go once the bucket is full.
    const need = Math.min(n, bytes.capacity);
    for (;;) {
      const ms = bytes.waitMs(Date.now(), need);
      if (ms === 0) break;
      await new Promise((r) => setTimeout(r, ms));
    }
    bytes.refill(Date.now());
    bytes.tokens -= need;
  };

  const send = (el: Element, real: SendFn): Promise<void> => {
    if (host?.stopping) return real(el);
    const to = jid.bare(String(el.attrs.to ?? ""));
    let q = dests.get(to);
    if (!q) {
      const nq = new PQueue({ concurrency: 1, intervalCap: perDest, interval: 1000, strict: true });
      // Forget an idle destination only after a full interval, so its rate count carries over.
      nq.on("idle", () => {
        const t = setTimeout(() => {
          if (dests.get(to) === nq && nq.size === 0 && nq.pending === 0) dests.delete(to);
        }, 1000);
        t.unref?.();
      });
      dests.set(to, nq);
      q = nq;
    }
    const t0 = Date.now();
    queued++;
    return q.add(() =>
      overall.add(async () => {
        await waitBytes(Buffer.byteLength(el.toString(), "utf8"));
        queued--;
        const waited = Date.now() - t0;
        if (waited > 0) opts.onDelay?.(waited, to);
        await real(el);
      }),
    ) as Promise<void>;
  };

  return {
    name: "throttle",
    transformSend: send,
    start(h) {
      host = h;
    },
    send,
    wrap: (real) => (el) => send(el, real),
    get queued() {
      return queued;
    },
    async idle() {
      while (queued > 0 || overall.pending > 0 || overall.size > 0) {
        await Promise.all([overall.onIdle(), ...[...dests.values()].map((q) => q.onIdle())]);
      }
    },
  };
}
