/**
 * A command's typed arguments as a XEP-0004 data form (XEP-0050 §4.4): one field per argument
 * (booleans as `boolean`, choices as `list-single`, required ones marked), and a submitted form
 * turned back into the command's argument text.
 */
import { xml, type Element } from "@botrun/core";
import type { ArgSpec } from "../commands/args.ts";

/** XEP-0004 namespace. */
export const NS_DATA = "jabber:x:data";

/** The form asking for `specs`. */
export function argsForm(title: string, instructions: string | undefined, specs: readonly ArgSpec[]): Element {
  const fields = specs.map((s) => {
    const type = s.choices ? "list-single" : s.type === "boolean" ? "boolean" : s.type === "rest" ? "text-multi" : "text-single";
    const children: Element[] = [];
    if (!s.optional) children.push(xml("required"));
    for (const c of s.choices ?? []) children.push(xml("option", { label: c }, xml("value", {}, c)));
    return xml("field", { var: s.name, type, label: s.name }, ...children);
  });
  const head = [xml("title", {}, title), ...(instructions ? [xml("instructions", {}, instructions)] : [])];
  return xml("x", { xmlns: NS_DATA, type: "form" }, ...head, ...fields);
}

/** The values of a submitted form (`type="submit"`), or `undefined` when `el` holds none. */
export function submittedValues(command: Element): Map<string, string> | undefined {
  const form = command.getChild("x", NS_DATA);
  if (!form || form.attrs.type !== "submit") return undefined;
  const out = new Map<string, string>();
  for (const f of form.getChildren("field")) {
    if (typeof f.attrs.var !== "string") continue;
    out.set(f.attrs.var, f.getChildren("value").map((v) => v.text()).join("\n"));
  }
  return out;
}

/** Escape a value so `splitArgs` reads it back as one word. */
function word(v: string): string {
  return v.replace(/[\\"'“”\s]/g, "\\$&");
}

/**
 * The argument text for `specs` from form values: words in order, stopping at the first empty
 * optional one (optional arguments are trailing); a `rest` value goes last (its runs of spaces become one).
 */
export function argsText(specs: readonly ArgSpec[], values: ReadonlyMap<string, string>): string {
  const words: string[] = [];
  for (const s of specs) {
    let v = (values.get(s.name) ?? "").trim();
    if (v === "") {
      if (s.optional) break;
      continue; // the command reports the missing argument
    }
    if (s.type === "boolean") v = v === "1" || v === "true" ? "yes" : "no";
    // The router takes a first `rest` argument as the raw text, a later one as its words re-joined.
    words.push(s.type === "rest" && words.length === 0 ? v : s.type === "rest" ? v.split(/\s+/).map(word).join(" ") : word(v));
  }
  return words.join(" ");
}
