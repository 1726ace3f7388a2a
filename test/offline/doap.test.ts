// The DOAP file (XEP-0453) and the README's "Standards supported" table list the same XEPs with the same status.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const doap = readFileSync(`${root}botrun.doap`, "utf8");
const readme = readFileSync(`${root}README.md`, "utf8");

/** XEP number -> status, from the DOAP file's SupportedXep entries. */
function fromDoap(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doap.matchAll(/<xmpp:SupportedXep>([\s\S]*?)<\/xmpp:SupportedXep>/g)) {
    const xep = /xep-(\d{4})\.html/.exec(m[1]!)?.[1];
    const status = /<xmpp:status>(\w+)<\/xmpp:status>/.exec(m[1]!)?.[1];
    if (xep && status) out.set(xep, status);
  }
  return out;
}

/** XEP number -> status, from the README table. */
function fromReadme(): Map<string, string> {
  const section = readme.split("## Standards supported")[1]?.split("\n## ")[0] ?? "";
  return new Map([...section.matchAll(/^\| XEP-(\d{4}) \| [^|]+ \| (\w+) \|/gm)].map((m) => [m[1]!, m[2]!]));
}

describe("botrun.doap", () => {
  it("is balanced XML with one Project", () => {
    const tags = [...doap.replace(/<\?xml[^>]*\?>|<!--[\s\S]*?-->/g, "").matchAll(/<(\/?)([\w:-]+)[^>]*?(\/?)>/g)];
    const stack: string[] = [];
    for (const [, close, name, selfClosing] of tags) {
      if (selfClosing) continue;
      if (close) expect(stack.pop()).toBe(name);
      else stack.push(name!);
    }
    expect(stack).toEqual([]);
    expect(doap.match(/<Project>/g)).toHaveLength(1);
  });

  it("lists exactly the XEPs of the README's table, with the same status", () => {
    const d = fromDoap();
    expect(d.size).toBeGreaterThan(20);
    expect(Object.fromEntries(d)).toEqual(Object.fromEntries(fromReadme()));
    for (const status of d.values()) expect(["complete", "partial", "planned", "deprecated", "removed"]).toContain(status);
  });
});
