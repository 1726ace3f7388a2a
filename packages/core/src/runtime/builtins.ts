/**
 * The core's built-in plugins: the runtime installs them before the bot's own plugins, in this
 * order (their middleware first in the pipeline, their send transformers nearest the transport).
 * To add one, add a line: a factory taking the runtime's `BuiltinEnv`, and the stanza kinds its
 * middleware looks at (the runtime leaves it out of the other kinds' pipelines: a chat message
 * does not pass through the iq responders).
 */
import { addCaps } from "../iq/caps.ts";
import { discoInfoResponder, discoItemsResponder } from "../iq/disco.ts";
import { lastResponder } from "../iq/last.ts";
import { pingResponder } from "../iq/ping.ts";
import { responderPlugin, type BuiltinEnv } from "../iq/responder.ts";
import { timeResponder } from "../iq/time.ts";
import { versionResponder } from "../iq/version.ts";
import type { StanzaKind } from "../context.ts";
import type { Plugin } from "../plugin.ts";
import { NS } from "../stanza.ts";
import { originIds } from "./origin-id.ts";
import { rosterSync } from "../roster/index.ts";

/** XEP-0115: caps in every available presence the bot sends. */
function entityCaps(env: BuiltinEnv): Plugin {
  return { name: "core:caps", features: [NS.caps], transformSend: (stanza, next) => next(addCaps(stanza, env.capsVer())) };
}

/** XEP-0308: corrections are understood (`ctx.correction`; commands are not run twice), so say so (§2). */
function corrections(): Plugin {
  return { name: "core:corrections", features: [NS.correct] };
}

/** A built-in plugin: its factory, and the stanza kinds its middleware (if any) handles. */
export interface Builtin {
  readonly make: (env: BuiltinEnv) => Plugin;
  readonly kinds: readonly StanzaKind[];
}

const IQ: readonly StanzaKind[] = ["iq"];

/** The built-in plugins, in install order. */
export const BUILTINS: readonly Builtin[] = [
  {
    make: (env) =>
      responderPlugin("core:iq", [discoInfoResponder, discoItemsResponder, versionResponder, timeResponder, lastResponder, pingResponder], env),
    kinds: IQ,
  },
  { make: entityCaps, kinds: [] },
  { make: originIds, kinds: [] },
  { make: corrections, kinds: [] },
  // RFC 6121 §2.1.6 roster pushes are iq sets.
  { make: () => rosterSync(), kinds: IQ },
];
