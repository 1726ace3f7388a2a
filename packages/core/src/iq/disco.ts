/**
 * XEP-0030 service discovery responders: disco#info (the bot, its caps node `node#ver`, or a
 * plugin's node) and disco#items (empty unless plugins list items).
 */
import type { Context } from "../context.ts";
import { NS, StanzaError } from "../stanza.ts";
import { CAPS_NODE } from "./caps.ts";
import { infoElement, itemsElement, type DiscoItem } from "./disco-info.ts";
import type { BuiltinEnv, IqResponder } from "./responder.ts";

function nodeOf(ctx: Context): string | undefined {
  const node = ctx.payload?.attrs.node;
  return typeof node === "string" && node !== "" ? node : undefined;
}

/** Answers disco#info gets. An unknown node is `item-not-found` (XEP-0030 §3.1). */
export const discoInfoResponder: IqResponder = {
  type: "get",
  namespace: NS.discoInfo,
  answer: async (ctx, env) => {
    const node = nodeOf(ctx);
    // XEP-0115 §6.2: a query to `node#ver` is answered with the same info the hash was made of.
    if (node === undefined || node === `${CAPS_NODE}#${env.capsVer()}`) return infoElement(env.info(), node);
    for (const plugin of env.plugins()) {
      const info = await plugin.disco?.info?.(node, ctx);
      if (info) return infoElement(info, node);
    }
    throw new StanzaError("item-not-found", "cancel");
  },
};

/** Answers disco#items gets with what plugins list; an unknown node is `item-not-found`. */
export const discoItemsResponder: IqResponder = {
  type: "get",
  namespace: NS.discoItems,
  answer: async (ctx, env: BuiltinEnv) => {
    const node = nodeOf(ctx);
    const items: DiscoItem[] = [];
    let known = node === undefined || node.startsWith(`${CAPS_NODE}#`);
    for (const plugin of env.plugins()) {
      const got = await plugin.disco?.items?.(node, ctx);
      if (got) {
        known = true;
        items.push(...got);
      }
    }
    if (!known) throw new StanzaError("item-not-found", "cancel");
    return itemsElement(items, node);
  },
};
