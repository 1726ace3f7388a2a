/** XEP-0092 software version: botrun and its version, the OS only when configured. */
import { readFileSync } from "node:fs";
import { NS, xml } from "../stanza.ts";
import type { IqResponder } from "./responder.ts";

/** @botrun/core's version, from its package.json. */
export const BOTRUN_VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Answers `jabber:iq:version` gets. */
export const versionResponder: IqResponder = {
  type: "get",
  namespace: NS.version,
  answer: (_ctx, env) => {
    const q = xml("query", { xmlns: NS.version }, xml("name", {}, "botrun"), xml("version", {}, BOTRUN_VERSION));
    // XEP-0092 §4: the os element is optional and may reveal too much; sent only when configured.
    if (env.versionOs) q.append(xml("os", {}, env.versionOs));
    return q;
  },
};
