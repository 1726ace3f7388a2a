/**
 * Client-side SASL mechanisms. Each returns the wire text of `<auth>` and answers challenges.
 * X-MESSENGER-OAUTH2 sends the access token itself, unchanged (no base64, no prefix): Microsoft's
 * documented format. PLAIN and the SCRAM family (RFC 5802/7677, see scram.ts) are base64 on the wire.
 */
import type { Mechanism } from "../config/config.ts";
import { scramClient, type ScramBinding, type ScramHash } from "./scram.ts";

/** What a mechanism needs. */
export interface SaslCredentials {
  username?: string;
  password?: string;
  accessToken?: string;
}

/** One SASL exchange. `initial` is the exact `<auth>` text; `challenge` returns the `<response>` text. */
export interface SaslSession {
  initial(): string;
  challenge(text: string): string | Promise<string>;
  /** Verify `<success>` data (SCRAM server signature); throws on mismatch. */
  success(text: string): void;
}

/** A wire mechanism (everything but `auto`, which sasl.ts resolves first). */
export type WireMechanism = Exclude<Mechanism, "auto">;

/** Per-connection input: the SCRAM GS2 channel-binding choice (RFC 5802 §6), made by sasl.ts. */
export interface MechanismContext {
  binding: ScramBinding;
  /** Client nonce (tests inject the RFC examples'). */
  nonce?: string;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");

/** X-MESSENGER-OAUTH2: the raw token, byte for byte. */
export function messengerOAuth2(creds: SaslCredentials): SaslSession {
  const token = creds.accessToken;
  if (!token) throw new Error("no access token for X-MESSENGER-OAUTH2");
  return { initial: () => token, challenge: () => "", success: () => {} };
}

/** PLAIN (RFC 4616): base64("\0" + user + "\0" + password). */
export function plain(creds: SaslCredentials): SaslSession {
  if (!creds.username || !creds.password) throw new Error("PLAIN needs a username and a password");
  const msg = b64(`\0${creds.username}\0${creds.password}`);
  return { initial: () => msg, challenge: () => "", success: () => {} };
}

/** SCRAM-`hash` (with `-PLUS` when `plus`): base64 framing of scram.ts for XMPP (RFC 6120 §6.4.2). */
export function scram(hash: ScramHash, plus: boolean) {
  const name = `SCRAM-${hash}${plus ? "-PLUS" : ""}`;
  return (creds: SaslCredentials, ctx: MechanismContext = { binding: { flag: "n" } }): SaslSession => {
    const { username, password } = creds;
    if (!username || !password) throw new Error(`${name} needs a username and a password`);
    if (plus !== (ctx.binding.flag === "p")) throw new Error(`${name}: channel binding ${plus ? "missing" : "not expected"}`);
    const client = scramClient({ hash, username, password, binding: ctx.binding, nonce: ctx.nonce });
    let finalSent = false;
    let verified = false;
    return {
      initial: () => b64(client.first()),
      async challenge(text) {
        if (!finalSent) {
          finalSent = true;
          return b64(await client.final(unb64(text)));
        }
        // Some servers send the server-final-message as a second challenge, answered empty,
        // then an empty <success/> (RFC 6120 §6.4.6 allows either way).
        client.verify(unb64(text));
        verified = true;
        return "";
      },
      success(text) {
        if (text.trim() === "" || text.trim() === "=") {
          if (!verified) throw new Error(`${name}: no server signature (v=) in <success/>`);
          return;
        }
        client.verify(unb64(text));
      },
    };
  };
}

/** Starts one exchange of a mechanism. */
export type MechanismFactory = (creds: SaslCredentials, ctx?: MechanismContext) => SaslSession;

/** The names a mechanism can have: config's MECHANISMS is the one list; each name says its implementation. */
type KnownName = "X-MESSENGER-OAUTH2" | "PLAIN" | `SCRAM-${ScramHash}` | `SCRAM-${ScramHash}-PLUS`;
/** Compile-time check: a name added to MECHANISMS that does not fit `KnownName` is an error here. */
export type EveryMechanismKnown<T extends KnownName = WireMechanism> = T;

/** The implementation of mechanism `name` (from config's MECHANISMS), read from the name itself. */
export function mechanismFor(name: WireMechanism): MechanismFactory {
  if (name === "X-MESSENGER-OAUTH2") return messengerOAuth2;
  if (name === "PLAIN") return plain;
  const plus = name.endsWith("-PLUS");
  return scram(name.slice("SCRAM-".length, plus ? -"-PLUS".length : undefined) as ScramHash, plus);
}
