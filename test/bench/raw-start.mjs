// The start-up baseline of the echo benchmark: a minimal raw @xmpp/client login in plain JavaScript
// (no TypeScript loader, nothing of botrun): password login over direct TLS trusting a test CA,
// prints `online` once the session is up, stops on SIGTERM. Settings: RAW_* environment variables.
import { readFileSync } from "node:fs";
import { client } from "@xmpp/client";

const e = process.env;
const ca = readFileSync(e.RAW_CA_FILE);
const login = { username: e.RAW_USERNAME, password: e.RAW_PASSWORD };
// RAW_MECHANISM (e.g. PLAIN) picks the SASL mechanism; default: xmpp.js's choice (SCRAM-SHA-1).
const credentials = e.RAW_MECHANISM ? (done) => done(login, e.RAW_MECHANISM) : login;
const xmpp = client({ service: `xmpps://${e.RAW_HOST}:${e.RAW_DIRECT_TLS_PORT}`, domain: e.RAW_DOMAIN, credentials });
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
