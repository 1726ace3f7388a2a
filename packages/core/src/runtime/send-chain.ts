/** Small helpers of the runtime: chaining send transformers, bounding a wait. */
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

/** Resolves true when `p` settles within `ms`, false otherwise. */
export function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    t.unref?.();
    const done = () => {
      clearTimeout(t);
      resolve(true);
    };
    p.then(done, done);
  });
}
