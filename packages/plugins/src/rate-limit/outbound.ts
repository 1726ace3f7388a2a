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
 *
 * Bounds and overflow policy (issue 9.6):
 * - at most `maxQueued` stanzas wait in the throttle (default 1000), and at most
 *   `maxPerDestination` for one destination (default 100), so one busy room cannot take it all;
 * - past a bound, `send()` waits for room (backpressure): the handler awaiting its reply stalls,
 *   and with it that chat's intake; nothing already accepted is dropped;
 * - at most `maxWaiting` senders may wait for room (default 1000); past that a stanza is refused:
 *   its promise rejects with `ThrottleFullError`, `onRefused` is called, and one warning per
 *   10 s says how many were refused;
 * - `queued()` counts waiting and queued stanzas; the core adds it to `botrun_throttle_depth` and to
 *   the runtime's inbound pressure (`maxBacklog`): past it the transport stops reading, so a burst
 *   slows intake before the throttle reaches its bounds;
 * - on stop, what is still queued is handed to the transport at once (whose stop budget and
 *   outbox then apply): a backlog cannot keep the process alive; stanzas sent while stopping
 *   (leave presences, goodbyes) skip the queues.
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
  /** Stanzas queued at most, all destinations (default 1000). */
  maxQueued?: number;
  /** Stanzas queued at most for one destination (default 100). */
  maxPerDestination?: number;
  /** Senders that may wait for room at most; beyond, stanzas are refused (default 1000). */
  maxWaiting?: number;
  /** Called when a stanza had to wait (ms), for metrics. */
  onDelay?: (ms: number, to: string) => void;
  /** Called for each stanza refused because the throttle and its waiting line are full. */
  onRefused?: (to: string) => void;
}

/** A stanza refused by a full throttle (its queue and waiting line are at their bounds). */
export class ThrottleFullError extends Error {
  constructor(readonly to: string) {
    super(`outbound throttle full: stanza to ${to} refused`);
    this.name = "ThrottleFullError";
  }
}

type SendFn = (el: Element) => Promise<void>;

/** The throttle plugin. */
export interface Throttle extends Plugin {
  /** Send `el` through the throttle using `send` as the real sender. */
  send(el: Element, send: SendFn): Promise<void>;
  /** Wrap a send function so that it is throttled (for senders outside the bot; installed, the bot's own sends already are). */
  wrap(send: SendFn): SendFn;
  /** Stanzas queued or waiting for room (all destinations). */
  queued(): number;
  /** Stanzas refused so far (throttle full). */
  readonly refused: number;
  /** Resolves when nothing is waiting or being sent. */
  idle(): Promise<void>;
}

/** One accepted stanza: sent by the pacer, or by the flush on stop, whichever comes first. */
interface Entry {
  el: Element;
  real: SendFn;
  done: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Dest {
  q: PQueue;
  /** Accepted (or room reserved for a woken sender), not yet sent. */
  size: number;
  /** Senders waiting for room, in order: called with true once room is reserved, false to send unpaced (stop). */
  waiting: ((admitted: boolean) => void)[];
}

const WARN_EVERY_MS = 10_000;

/** Create an outbound throttle for every stanza the bot sends. */
export function throttle(opts: ThrottleOptions = {}): Throttle {
  const mps = opts.messagesPerSecond ?? 10;
  const bps = opts.bytesPerSecond ?? 2000;
  const perDest = opts.perDestinationPerSecond ?? 3;
  const maxQueued = opts.maxQueued ?? 1000;
  const maxPerDest = opts.maxPerDestination ?? 100;
  const maxWaiting = opts.maxWaiting ?? 1000;
  const overall = new PQueue({ concurrency: 1, intervalCap: mps, interval: 1000, strict: true });
  const bytes = new TokenBucket(Math.max(opts.burstBytes ?? 4000, bps), bps, Date.now());
  const dests = new Map<string, Dest>();
  const pending = new Set<Entry>(); // insertion order = acceptance order
  const blocked = new Set<Dest>(); // destinations with senders waiting for room, oldest first
  let waitingCount = 0;
  let inQueue = 0; // accepted or reserved, all destinations
  let refused = 0;
  let refusedSinceWarn = 0;
  let lastWarn = -Infinity;
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

  const destOf = (to: string): Dest => {
    let d = dests.get(to);
    if (!d) {
      const nd: Dest = { q: new PQueue({ concurrency: 1, intervalCap: perDest, interval: 1000, strict: true }), size: 0, waiting: [] };
      // Forget an idle destination only after a full interval, so its rate count carries over.
      nd.q.on("idle", () => {
        const t = setTimeout(() => {
          if (dests.get(to) === nd && nd.size === 0 && nd.waiting.length === 0 && nd.q.pending === 0) dests.delete(to);
        }, 1000);
        t.unref?.();
      });
      dests.set(to, nd);
      d = nd;
    }
    return d;
  };

  const full = (d: Dest) => d.size >= maxPerDest || inQueue >= maxQueued;
  const reserve = (d: Dest) => {
    d.size++;
    inQueue++;
  };

  /** Room freed: let the first waiter of a destination that has room in (oldest destinations first). */
  const wake = () => {
    for (const d of blocked) {
      if (inQueue >= maxQueued) return;
      while (d.waiting.length && !full(d)) {
        reserve(d); // taken now: the woken sender's entry is added a microtask later
        d.waiting.shift()!(true);
      }
      if (!d.waiting.length) blocked.delete(d);
    }
  };

  const refuse = (to: string): Promise<void> => {
    refused++;
    refusedSinceWarn++;
    opts.onRefused?.(to);
    const now = Date.now();
    if (now - lastWarn >= WARN_EVERY_MS) {
      host?.log.warn("outbound throttle full: stanzas refused", { refused: refusedSinceWarn, queued: pending.size, waiting: waitingCount, intervalMs: WARN_EVERY_MS });
      lastWarn = now;
      refusedSinceWarn = 0;
    }
    return Promise.reject(new ThrottleFullError(to));
  };

  const settle = (e: Entry, d: Dest, run: () => Promise<void>) => {
    if (e.done) return Promise.resolve();
    e.done = true;
    pending.delete(e);
    d.size--;
    inQueue--;
    wake();
    return run().then(e.resolve, e.reject);
  };

  const send = async (el: Element, real: SendFn): Promise<void> => {
    if (host?.stopping) return real(el);
    const to = jid.bare(String(el.attrs.to ?? ""));
    const d = destOf(to);
    if (full(d)) {
      if (waitingCount >= maxWaiting) return refuse(to);
      waitingCount++;
      blocked.add(d);
      const admitted = await new Promise<boolean>((r) => d.waiting.push(r));
      waitingCount--;
      if (!admitted) return real(el); // stopping: no pacing any more
    } else reserve(d);
    const t0 = Date.now();
    return new Promise<void>((resolve, reject) => {
      const e: Entry = { el, real, done: false, resolve, reject };
      pending.add(e);
      void d.q.add(() =>
        overall.add(async () => {
          if (e.done) return;
          await waitBytes(Buffer.byteLength(el.toString(), "utf8"));
          const waited = Date.now() - t0;
          if (waited > 0) opts.onDelay?.(waited, to);
          await settle(e, d, () => real(el));
        }),
      );
    });
  };

  /** Hand every accepted stanza to the transport now, in acceptance order; wake every waiter. */
  const flush = async () => {
    for (const d of blocked) for (const w of d.waiting.splice(0)) w(false);
    blocked.clear();
    for (const e of [...pending]) {
      const d = destOf(jid.bare(String(e.el.attrs.to ?? "")));
      await settle(e, d, () => e.real(e.el));
    }
    overall.clear();
    for (const d of dests.values()) d.q.clear();
  };

  return {
    name: "throttle",
    transformSend: send,
    start(h) {
      host = h;
    },
    async stop() {
      if (pending.size) host?.log.info("stopping: handing the throttle's backlog to the transport", { queued: pending.size });
      await flush();
    },
    send,
    wrap: (real) => (el) => send(el, real),
    queued: () => pending.size + waitingCount,
    get refused() {
      return refused;
    },
    async idle() {
      while (pending.size > 0 || waitingCount > 0 || overall.pending > 0 || overall.size > 0) {
        await Promise.all([overall.onIdle(), ...[...dests.values()].map((d) => d.q.onIdle())]);
      }
    },
  };
}
