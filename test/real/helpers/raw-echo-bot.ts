/**
 * A minimal raw @xmpp/client echo bot as its own process (the benchmark's reference): logs in over
 * direct TLS (TCP_NODELAY), answers every chat body with the same body, prints `online` on stdout
 * once its session is up, and stops on SIGTERM. Settings come from RAW_* environment variables
 * (RAW_ORIGIN_ID=1: replies shaped as botrun's, with an id and an origin-id).
 * Run: `node --conditions=@botrun/source --import tsx test/real/helpers/raw-echo-bot.ts` (the workspace's sources).
 */
import { xml, type Element } from "@botrun/core";
import { startRawClient } from "./raw-client.ts";

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const raw = await startRawClient({
  host: env("RAW_HOST"),
  directTlsPort: Number(env("RAW_DIRECT_TLS_PORT")),
  domain: env("RAW_DOMAIN"),
  username: env("RAW_USERNAME"),
  password: env("RAW_PASSWORD"),
  caFile: env("RAW_CA_FILE"),
  resource: "echo",
});
// RAW_ORIGIN_ID=1: replies carry an id and a XEP-0359 origin-id as botrun's do (the same bytes on the wire).
let seq = 0;
const withOriginId = process.env.RAW_ORIGIN_ID === "1";
raw.xmpp.on("stanza", (el: Element) => {
  if (!el.is("message") || el.attrs.type === "error") return;
  const body = el.getChildText("body");
  if (!body) return;
  const reply = withOriginId
    ? xml("message", { to: el.attrs.from, type: "chat", id: `raw-${++seq}` }, xml("body", {}, body), xml("origin-id", { xmlns: "urn:xmpp:sid:0", id: `raw-${seq}` }))
    : xml("message", { to: el.attrs.from, type: "chat" }, xml("body", {}, body));
  raw.xmpp.send(reply).catch(() => {});
});
process.stdout.write("online\n");
process.once("SIGTERM", () => {
  void raw.stop().then(() => process.exit(0));
});
