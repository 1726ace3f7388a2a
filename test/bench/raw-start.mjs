// The start-up baseline of the benchmarks: a minimal raw @xmpp/client login in plain JavaScript
// (no TypeScript loader, nothing of botrun) over direct TLS trusting a test CA; prints `online`
// once the session is up, stops on SIGTERM. Settings: RAW_* environment variables. With
// RAW_ACCESS_TOKEN it logs in with X-MESSENGER-OAUTH2 (the token itself is the <auth> text).
import { readFileSync } from "node:fs";
import { client } from "@xmpp/client";

const e = process.env;
const ca = readFileSync(e.RAW_CA_FILE);
const login = { username: e.RAW_USERNAME, password: e.RAW_PASSWORD };
const token = e.RAW_ACCESS_TOKEN;
// RAW_MECHANISM (e.g. PLAIN) picks the SASL mechanism; default: xmpp.js's choice (SCRAM-SHA-1).
const credentials = token
  ? (done) => done({ username: e.RAW_USERNAME }, "X-MESSENGER-OAUTH2")
  : e.RAW_MECHANISM
    ? (done) => done(login, e.RAW_MECHANISM)
    : login;
const xmpp = client({ service: `xmpps://${e.RAW_HOST}:${e.RAW_DIRECT_TLS_PORT}`, domain: e.RAW_DOMAIN, credentials });
if (token) {
  // xmpp.js base64-encodes a mechanism's response; the token is base64 already (the bench issues
  // "base64"-style tokens), so the response is its decoding and goes on the wire unchanged.
  if (btoa(atob(token)) !== token) throw new Error("RAW_ACCESS_TOKEN must be canonical base64");
  class MessengerOAuth2 {
    name = "X-MESSENGER-OAUTH2";
    clientFirst = true;
    response = () => atob(token);
    challenge = () => {};
  }
  xmpp.saslFactory.use("X-MESSENGER-OAUTH2", MessengerOAuth2);
}
// xmpp.js passes no TLS options: its direct-TLS connection, with our CA and server name.
const Tls = xmpp.transports.find((t) => t.name === "ConnectionTLS");
xmpp.transports = [
  class extends Tls {
    socketParameters(service) {
      const p = super.socketParameters(service);
      return p && { ...p, ca, servername: e.RAW_DOMAIN };
    }
  },
];
xmpp.on("error", () => {});
xmpp.on("online", () => process.stdout.write("online\n"));
await xmpp.start();
process.once("SIGTERM", () => void xmpp.stop().then(() => process.exit(0)));
