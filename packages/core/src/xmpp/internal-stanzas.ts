/** Marks the stanzas the transport writes itself (presence, pings, ping replies): never handed back to the outbox for a later stream. */
import type { Element } from "@xmpp/xml";

const INTERNAL = Symbol("botrun.internal");
/** Mark `el` as internal (see the module comment). */
export const markInternal = <T extends Element>(el: T): T => Object.assign(el, { [INTERNAL]: true });
/** True for stanzas marked with `markInternal`. */
export const isInternal = (el: Element): boolean => Boolean((el as { [INTERNAL]?: boolean })[INTERNAL]);
