/**
 * What `botrun` does with a promise rejection nobody handled: it is a bug (the known source, the
 * second rejection xmpp.js raises after a failed login over direct TLS, is contained where it
 * starts: xmpp/sasl.ts and xmpp/transport.ts, proven by test/real/xmpp-login.test.ts), so it is
 * logged at error level as "bug: unhandled rejection" and counted in
 * `botrun_unhandled_rejections_total`, never hidden. The process keeps running: ending every bot
 * of the process for one stray rejection would turn a bug into an outage.
 */
import type { Registry } from "prom-client";
import type { Logger } from "../logger.ts";
import { promClient } from "../observability/metrics.ts";

/** Watches `process` for unhandled rejections while installed. */
export class UnhandledRejections {
  #count = 0;
  readonly #log: Logger;
  readonly #listener = (reason: unknown) => this.record(reason);

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Rejections seen so far. */
  get count(): number {
    return this.#count;
  }

  /** Log and count one unhandled rejection. */
  record(reason: unknown): void {
    this.#count++;
    this.#log.error("bug: unhandled rejection (please report it; the process keeps running)", { error: reason, unhandledRejections: this.#count });
  }

  /** Start listening on `process`. */
  install(): this {
    process.on("unhandledRejection", this.#listener);
    return this;
  }

  /** Stop listening. */
  uninstall(): void {
    process.off("unhandledRejection", this.#listener);
  }

  /** Serve the count as `botrun_unhandled_rejections_total` in `registry`. */
  register(registry: Registry): void {
    const read = () => this.#count;
    const name = "botrun_unhandled_rejections_total";
    registry.removeSingleMetric(name); // a registry reused by a later run counts that run's watch
    const { Counter } = promClient(); // loaded when metrics are on, not at start-up
    new Counter({
      name,
      help: "Promise rejections nobody handled (each is a bug, logged at error level)",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
}
