/**
 * XEP-0030 service discovery data: identities, features, XEP-0128 extension forms, and items;
 * collected from the core and the installed plugins, and written as `<query/>` elements.
 */
import type { Element } from "@xmpp/xml";
import type { Context } from "../context.ts";
import { NS, xml } from "../stanza.ts";

/** A XEP-0030 identity, e.g. `{ category: "client", type: "bot", name: "echo" }`. */
export interface DiscoIdentity {
  readonly category: string;
  readonly type: string;
  readonly name?: string;
  readonly lang?: string;
}

/** A XEP-0128 extended-information form: its FORM_TYPE and its fields' values. */
export interface DiscoForm {
  readonly formType: string;
  readonly fields: Readonly<Record<string, readonly string[]>>;
}

/** What a disco#info reply lists. */
export interface DiscoInfo {
  readonly identities: readonly DiscoIdentity[];
  readonly features: readonly string[];
  readonly forms?: readonly DiscoForm[];
}

/** A XEP-0030 item (disco#items). */
export interface DiscoItem {
  readonly jid: string;
  readonly node?: string;
  readonly name?: string;
}

/**
 * What a plugin adds to service discovery beyond its `features`: items (for the bot itself when
 * `node` is undefined, or for a node), and the info of its own nodes (XEP-0050 command nodes…).
 * Return undefined for a node that is not the plugin's.
 */
export interface DiscoProvider {
  items?(node: string | undefined, ctx: Context): readonly DiscoItem[] | undefined | Promise<readonly DiscoItem[] | undefined>;
  info?(node: string, ctx: Context): DiscoInfo | undefined | Promise<DiscoInfo | undefined>;
}

/** What a plugin declares (a structural subset of `Plugin`). */
export interface DiscoSource {
  readonly features?: readonly string[];
  readonly identities?: readonly DiscoIdentity[];
}

/**
 * The bot's disco#info: identity `client/bot` named after the bot, plus each source's identities
 * and features (the built-ins are sources too); sorted and deduplicated (XEP-0115 §5.4 rejects duplicates).
 */
export function collectInfo(botName: string, sources: readonly DiscoSource[]): DiscoInfo {
  const features = new Set<string>();
  const identities = new Map<string, DiscoIdentity>();
  const add = (i: DiscoIdentity) => identities.set(identityKey(i).join("\u0000"), i);
  // XEP-0030 registry: category "client", type "bot" (an automated conversational client).
  add({ category: "client", type: "bot", name: botName });
  for (const s of sources) {
    for (const f of s.features ?? []) features.add(f);
    for (const i of s.identities ?? []) add(i);
  }
  return { identities: [...identities.values()].sort(compareIdentities), features: [...features].sort(octetCompare) };
}

/** The `<query xmlns="disco#info"/>` of `info`, with `node` when answering for one. */
export function infoElement(info: DiscoInfo, node?: string): Element {
  const q = xml("query", node ? { xmlns: NS.discoInfo, node } : { xmlns: NS.discoInfo });
  for (const i of info.identities) {
    const attrs: Record<string, string> = { category: i.category, type: i.type };
    if (i.name !== undefined) attrs.name = i.name;
    if (i.lang !== undefined) attrs["xml:lang"] = i.lang;
    q.append(xml("identity", attrs));
  }
  for (const f of info.features) q.append(xml("feature", { var: f }));
  for (const form of info.forms ?? []) {
    const x = xml("x", { xmlns: "jabber:x:data", type: "result" });
    x.append(xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, form.formType)));
    for (const [name, values] of Object.entries(form.fields)) {
      x.append(xml("field", { var: name }, ...values.map((v) => xml("value", {}, v))));
    }
    q.append(x);
  }
  return q;
}

/** The `<query xmlns="disco#items"/>` listing `items`. */
export function itemsElement(items: readonly DiscoItem[], node?: string): Element {
  const q = xml("query", node ? { xmlns: NS.discoItems, node } : { xmlns: NS.discoItems });
  for (const it of items) {
    const attrs: Record<string, string> = { jid: it.jid };
    if (it.node !== undefined) attrs.node = it.node;
    if (it.name !== undefined) attrs.name = it.name;
    q.append(xml("item", attrs));
  }
  return q;
}

/**
 * "i;octet" collation (RFC 4790), as XEP-0115 §5.1 requires: compare the UTF-8 bytes. JavaScript's
 * `<` compares UTF-16 code units, which orders characters above U+FFFF before U+E000–U+FFFF.
 */
export function octetCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function identityKey(i: DiscoIdentity): string[] {
  return [i.category, i.type, i.lang ?? "", i.name ?? ""];
}

/** XEP-0115 §5.1 step 2: by category, then type, then xml:lang (then name, for a total order). */
export function compareIdentities(a: DiscoIdentity, b: DiscoIdentity): number {
  const ka = identityKey(a);
  const kb = identityKey(b);
  for (let i = 0; i < ka.length; i++) {
    const c = octetCompare(ka[i]!, kb[i]!);
    if (c !== 0) return c;
  }
  return 0;
}
