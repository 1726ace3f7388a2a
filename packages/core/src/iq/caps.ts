/**
 * XEP-0115 entity capabilities: the verification string of the bot's disco#info (§5.1) and the
 * `<c/>` element the runtime adds to every available presence the bot sends.
 */
import { createHash } from "node:crypto";
import type { Element } from "@xmpp/xml";
import { NS, xml } from "../stanza.ts";
import { compareIdentities, octetCompare, type DiscoInfo } from "./disco-info.ts";

/** botrun's caps node (XEP-0115 §4: a URI identifying the software). */
export const CAPS_NODE = "https://github.com/botrun/botrun";

/**
 * The `ver` string of XEP-0115 §5.1 (hash sha-1): identities sorted by category/type/xml:lang,
 * features, then extension forms by FORM_TYPE with their fields by var and values sorted, each
 * followed by "<", all compared as UTF-8 octets; SHA-1, base64. The strings are the character data
 * itself (not XML-escaped), as Prosody, ejabberd and slixmpp compute it.
 */
export function capsVer(info: DiscoInfo): string {
  let s = "";
  for (const i of [...info.identities].sort(compareIdentities)) s += `${i.category}/${i.type}/${i.lang ?? ""}/${i.name ?? ""}<`;
  for (const f of [...info.features].sort(octetCompare)) s += `${f}<`;
  for (const form of [...(info.forms ?? [])].sort((a, b) => octetCompare(a.formType, b.formType))) {
    s += `${form.formType}<`;
    for (const name of Object.keys(form.fields).filter((n) => n !== "FORM_TYPE").sort(octetCompare)) {
      s += `${name}<`;
      for (const v of [...form.fields[name]!].sort(octetCompare)) s += `${v}<`;
    }
  }
  return createHash("sha1").update(s, "utf8").digest("base64");
}

/** The `<c xmlns="http://jabber.org/protocol/caps"/>` element for `ver`. */
export function capsElement(ver: string): Element {
  return xml("c", { xmlns: NS.caps, hash: "sha-1", node: CAPS_NODE, ver });
}

/**
 * Add caps to an outgoing presence when it announces availability (no type: broadcasts and
 * directed presences such as room joins; XEP-0115 §4), once. Mutates and returns the stanza.
 */
export function addCaps(stanza: Element, ver: string): Element {
  if (stanza.name === "presence" && stanza.attrs.type === undefined && !stanza.getChild("c", NS.caps)) {
    stanza.append(capsElement(ver));
  }
  return stanza;
}
