/** A tiny typed event emitter over Node's EventEmitter, used by transports and the runtime. */
import { EventEmitter } from "node:events";

/** Listener map: event name → payload type. */
export type EventMap<E> = { [K in keyof E]: unknown };

/** An EventEmitter whose `on`/`emit` are typed by an event map. */
export class TypedEmitter<E extends EventMap<E>> {
  readonly #ee = new EventEmitter();
  constructor() {
    this.#ee.setMaxListeners(100);
  }
  on<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): this {
    this.#ee.on(event, listener);
    return this;
  }
  once<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): this {
    this.#ee.once(event, listener);
    return this;
  }
  off<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): this {
    this.#ee.off(event, listener);
    return this;
  }
  emit<K extends keyof E & string>(event: K, payload: E[K]): boolean {
    return this.#ee.emit(event, payload);
  }
  listenerCount<K extends keyof E & string>(event: K): number {
    return this.#ee.listenerCount(event);
  }
}
