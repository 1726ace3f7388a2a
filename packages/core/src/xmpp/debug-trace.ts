/**
 * The `--debug` stanza trace (`XMPP_DEBUG`), in place of @xmpp/debug: the same `IN`/`OUT` lines on
 * `console.debug`, but written without recursion (@xmpp/debug clones each element recursively: a
 * message nested 30,000 levels deep overflowed the stack) and without copying the element.
 * SASL payloads are replaced by `<hidden xmlns='xmpp.js'/>`, as @xmpp/debug does.
 */
import { escapeXML, escapeXMLText, type Element } from "@xmpp/xml";

const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_SASL2 = "urn:xmpp:sasl:2";
const NS_FAST = "urn:xmpp:fast:0";
const NS_COMPONENT = "jabber:component:accept";

/** Elements whose content is a credential or derived from one. */
const SENSITIVE: Record<string, readonly string[]> = {
  [NS_SASL]: ["auth", "challenge", "response", "success"],
  [NS_SASL2]: ["challenge", "response", "success", "initial-response", "additional-data"],
  [NS_COMPONENT]: ["handshake"],
};

/** The element's namespace (bounded walk up its ancestors). */
function nsOf(el: Element): string | undefined {
  let e: Element | null = el;
  for (let i = 0; e && i < 200; i++, e = e.parent) if (e.attrs.xmlns) return String(e.attrs.xmlns);
  return undefined;
}

function hidden(el: Element): boolean {
  if (el.children.length === 0) return false;
  const ns = nsOf(el);
  return Boolean(ns && SENSITIVE[ns]?.includes(el.getName()));
}

function openTag(el: Element, selfClose: boolean): string {
  let s = `<${el.name}`;
  for (const [k, v] of Object.entries(el.attrs)) {
    if (v == null) continue;
    const value = el.name === "token" && k === "token" && nsOf(el) === NS_FAST ? "hidden by botrun" : String(v);
    s += ` ${k}="${escapeXML(value)}"`;
  }
  return s + (selfClose ? "/>" : ">");
}

/** Indentation stops growing here (a deep element would otherwise cost depth² characters). */
const MAX_INDENT = 32;
/** A trace longer than this is cut (characters). */
const MAX_TRACE = 1 << 20;

/** `el` as indented XML (two spaces a level), sensitive content hidden; iterative, any depth, bounded size. */
export function formatTrace(el: Element): string {
  let out = "";
  // Work list: elements to write, and closing tags (strings starting with "</") or text still due.
  const stack: { node: Element | string; level: number; raw?: boolean }[] = [{ node: el, level: 0 }];
  while (stack.length > 0) {
    if (out.length > MAX_TRACE) return `${out.slice(0, MAX_TRACE)}\n… (trace cut at ${MAX_TRACE} characters)`;
    const { node, level, raw } = stack.pop()!;
    const pad = "\n" + "  ".repeat(Math.min(level, MAX_INDENT));
    if (typeof node === "string") {
      out += pad + (raw ? node : escapeXMLText(node));
      continue;
    }
    const open = (level > 0 ? pad : "") + openTag(node, node.children.length === 0);
    const [first] = node.children;
    if (node.children.length === 0) {
      out += open;
    } else if (hidden(node)) {
      out += `${open}${pad}  <hidden xmlns="xmpp.js"/>${pad}</${node.name}>`;
    } else if (node.children.length === 1 && typeof first === "string") {
      out += `${open}${escapeXMLText(first)}</${node.name}>`;
    } else {
      out += open;
      stack.push({ node: `</${node.name}>`, level, raw: true });
      for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i] as Element | string, level: level + 1 });
    }
  }
  return out;
}

/** The entity events the trace listens to. */
interface TracedEntity {
  on(event: string, fn: (...args: never[]) => void): unknown;
}

/** Print the stanza trace of `entity` on `console.debug` (the CLI routes it to the logger, secrets masked). */
export function traceEntity(entity: TracedEntity): void {
  entity.on("element", (el: Element) => console.debug(`IN\n${formatTrace(el)}`));
  entity.on("send", (el: Element) => console.debug(`OUT\n${formatTrace(el)}`));
  entity.on("error", (err: Error) => console.debug(`error ${err.name}: ${err.message}`));
  entity.on("status", (status: string, value?: { toString(): string }) => {
    // The "open" status carries the server's stream header element: print its tag only.
    const v = value && typeof value === "object" && "children" in value ? openTag(value as Element, false) : value ? String(value) : "";
    console.debug("status", status, v);
  });
}
