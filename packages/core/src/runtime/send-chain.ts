/** Chaining send transformers (plugins' `transformSend`) around the final send. */
import type { Element } from "@xmpp/xml";
import type { SendTransformer } from "../plugin.ts";

/** Chain send transformers around the final send, the first one outermost. */
export function composeSend(transformers: readonly SendTransformer[], last: (stanza: Element) => Promise<void>) {
  let send = last;
  for (let i = transformers.length - 1; i >= 0; i--) {
    const transform = transformers[i]!;
    const next = send;
    send = (stanza) => transform(stanza, next);
  }
  return send;
}
