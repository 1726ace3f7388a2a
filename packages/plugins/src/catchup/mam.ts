/** The XEP-0313 (MAM) stanzas room catch-up sends and reads, with XEP-0059 paging and XEP-0359 ids. */
import { jid, NS, xml, type Element } from "@botrun/core";

export const NS_MAM = "urn:xmpp:mam:2";
export const NS_RSM = "http://jabber.org/protocol/rsm";
export const NS_FORWARD = "urn:xmpp:forward:0";
const NS_DATA = "jabber:x:data";

/** What one archive query asks for. */
export interface MamQuery {
  queryid: string;
  /** XEP-0059 §2.2: the page after this archive id. */
  after?: string;
  /** XEP-0059 §2.5: `before: ""` asks for the last page (the newest messages). */
  before?: "";
  /** XEP-0313 §4.1.1 filter: only messages at or after this time. */
  start?: Date;
  max: number;
}

/**
 * `<iq type="set" to=room><query xmlns=mam:2 queryid><x type=submit>FORM_TYPE, start</x><set>max, after</set></query></iq>`
 * (XEP-0313 §4: a MUC archive is queried at the room's bare JID).
 */
export function mamQuery(room: string, q: MamQuery): Element {
  const query = xml("query", { xmlns: NS_MAM, queryid: q.queryid });
  if (q.start) {
    query.append(
      xml(
        "x",
        { xmlns: NS_DATA, type: "submit" },
        xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, NS_MAM)),
        xml("field", { var: "start" }, xml("value", {}, q.start.toISOString())),
      ),
    );
  }
  const set = xml("set", { xmlns: NS_RSM }, xml("max", {}, String(q.max)));
  if (q.after !== undefined) set.append(xml("after", {}, q.after));
  if (q.before !== undefined) set.append(xml("before", {}, q.before));
  query.append(set);
  return xml("iq", { type: "set", to: room }, query);
}

/** One archived room message (`<message><result queryid id><forwarded><delay/><message/></forwarded></result></message>`). */
export interface MamResult {
  queryid: string;
  /** The archive id, which is the room's XEP-0359 stanza-id of the message. */
  id: string;
  /** The archived message, without any `<delay>` (see `readResult`). */
  message: Element;
  /** When the room received it (the forward's XEP-0203 delay), if given. */
  stamp: Date | undefined;
}

/**
 * Read a MAM result message sent by `room` (its bare JID: XEP-0313 §5.1.2 results of a MUC archive
 * come from the room). The archived message must be a group-chat message of that room. Its own
 * `<delay>` children are removed: it is handled as a room message (`ctx.caughtUp` says it is late),
 * not as replayed history, which the rooms plugin and the commands router skip.
 */
export function readResult(stanza: Element): MamResult | undefined {
  const result = stanza.getChild("result", NS_MAM);
  const from = String(stanza.attrs.from ?? "");
  if (!result || jid.resource(from) !== undefined) return undefined;
  const queryid = result.attrs.queryid;
  const id = result.attrs.id;
  const fwd = result.getChild("forwarded", NS_FORWARD);
  const inner = fwd?.getChild("message");
  if (typeof queryid !== "string" || typeof id !== "string" || id === "" || !inner) return undefined;
  const innerFrom = String(inner.attrs.from ?? "");
  if (jid.bare(innerFrom) !== jid.bare(from) || jid.resource(innerFrom) === undefined) return undefined;
  const stampAttr = fwd?.getChild("delay", NS.delay)?.attrs.stamp;
  const stamp = typeof stampAttr === "string" ? new Date(stampAttr) : undefined;
  const message = xml("message", { ...inner.attrs, type: "groupchat" });
  for (const c of inner.children) {
    if (typeof c === "string" || !(c.name === "delay" && c.attrs.xmlns === NS.delay)) message.append(c);
  }
  return { queryid, id, message, stamp: stamp && !Number.isNaN(stamp.getTime()) ? stamp : undefined };
}

/** The `<fin>` of a query's iq result: is the page the last one, and the id of its last result (XEP-0059 §2.1). */
export function readFin(iq: Element): { complete: boolean; last: string | undefined; count: number | undefined } {
  const fin = iq.getChild("fin", NS_MAM);
  const set = fin?.getChild("set", NS_RSM);
  const last = set?.getChildText("last") ?? undefined;
  const count = Number(set?.getChildText("count") ?? NaN);
  return { complete: fin?.attrs.complete === "true", last: last || undefined, count: Number.isFinite(count) ? count : undefined };
}

/** The XEP-0359 `<stanza-id>` a room stamped on a live message (§3: only one with `by` = the room counts). */
export function roomStanzaId(stanza: Element, room: string): string | undefined {
  for (const c of stanza.getChildren("stanza-id", NS.sid)) {
    if (typeof c.attrs.by === "string" && jid.bare(c.attrs.by).toLowerCase() === room.toLowerCase() && typeof c.attrs.id === "string" && c.attrs.id) {
      return c.attrs.id;
    }
  }
  return undefined;
}
