/**
 * The bot's roster as the server keeps it (RFC 6121 §2): contacts with their subscription state,
 * replaced by each full roster result and changed by each roster push. Read it with `rosterOf(bot)`.
 */
import type { Element } from "@xmpp/xml";
import { TypedEmitter } from "../emitter.ts";
import { bare } from "../jid.ts";

/** RFC 6121 §2.1.2.5 subscription states (`remove` only appears in pushes, and deletes the item). */
export type Subscription = "none" | "to" | "from" | "both";

/** One roster item (RFC 6121 §2.1.2). */
export interface RosterItem {
  /** Bare JID of the contact. */
  readonly jid: string;
  readonly name: string | undefined;
  /** `to`: the bot sees the contact's presence; `from`: the contact sees the bot's; `both`. */
  readonly subscription: Subscription;
  /** A subscription request from the bot is pending (`ask="subscribe"`). */
  readonly ask: boolean;
  /** Pre-approved (RFC 6121 §3.4). */
  readonly approved: boolean;
  readonly groups: readonly string[];
}

/** Events of the roster view. */
export interface RosterEvents {
  /** An item was added or changed (`removed: false`) or removed (`removed: true`). */
  change: { item: RosterItem; removed: boolean };
  /** A roster result arrived (a full roster, or "unchanged since `ver`"). */
  loaded: { items: number; ver: string | undefined; unchanged: boolean };
}

/** At most this many items are kept: a server pushing more is not believed past it. */
export const MAX_ROSTER_ITEMS = 50_000;

const SUBSCRIPTIONS: readonly string[] = ["none", "to", "from", "both"];

/** Read a roster `<item/>`; undefined when it has no usable JID. */
export function readItem(el: Element): (RosterItem & { remove: boolean }) | undefined {
  const j = el.attrs.jid ? bare(String(el.attrs.jid)) : "";
  if (!j || j.length > 3071) return undefined; // RFC 7622 §3.1: at most 3071 bytes
  const sub = String(el.attrs.subscription ?? "none");
  return {
    jid: j,
    name: el.attrs.name === undefined ? undefined : String(el.attrs.name),
    subscription: (SUBSCRIPTIONS.includes(sub) ? sub : "none") as Subscription,
    ask: el.attrs.ask === "subscribe",
    approved: el.attrs.approved === "true" || el.attrs.approved === "1",
    groups: el.getChildren("group").map((g) => g.text()).slice(0, 64),
    remove: sub === "remove",
  };
}

/** The roster of one bot. */
export class RosterView extends TypedEmitter<RosterEvents> {
  readonly #items = new Map<string, RosterItem>();
  #ver: string | undefined;
  #loaded = false;

  /** True once a roster result arrived in this process. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** The XEP-0237 / RFC 6121 §2.6 roster version last seen, if the server versions the roster. */
  get ver(): string | undefined {
    return this.#ver;
  }

  /** Number of contacts. */
  get size(): number {
    return this.#items.size;
  }

  /** The item of a contact (any JID form; compared bare). */
  get(address: string): RosterItem | undefined {
    return this.#items.get(bare(address));
  }

  /** Every contact. */
  items(): RosterItem[] {
    return [...this.#items.values()];
  }

  /** A full roster result: the items replace what was known. */
  replace(items: readonly RosterItem[], ver: string | undefined): void {
    const next = new Map(items.slice(0, MAX_ROSTER_ITEMS).map((i) => [i.jid, i]));
    for (const [j, old] of this.#items) if (!next.has(j)) this.emit("change", { item: old, removed: true });
    this.#items.clear();
    for (const [j, item] of next) {
      this.#items.set(j, item);
      this.emit("change", { item, removed: false });
    }
    if (ver !== undefined) this.#ver = ver;
    this.#loaded = true;
    this.emit("loaded", { items: this.#items.size, ver: this.#ver, unchanged: false });
  }

  /** A result saying the roster did not change since `ver` (XEP-0237: empty result). */
  unchanged(): void {
    this.#loaded = true;
    this.emit("loaded", { items: this.#items.size, ver: this.#ver, unchanged: true });
  }

  /** A roster push: one item set or removed. Returns false when the item was not taken (the roster is full). */
  apply(item: RosterItem & { remove: boolean }, ver: string | undefined): boolean {
    const { remove, ...plain } = item;
    if (remove) {
      if (ver !== undefined) this.#ver = ver;
      const old = this.#items.get(plain.jid);
      if (old && this.#items.delete(plain.jid)) this.emit("change", { item: old, removed: true });
      return true;
    }
    if (!this.#items.has(plain.jid) && this.#items.size >= MAX_ROSTER_ITEMS) return false;
    if (ver !== undefined) this.#ver = ver;
    this.#items.set(plain.jid, plain);
    this.emit("change", { item: plain, removed: false });
    return true;
  }
}
