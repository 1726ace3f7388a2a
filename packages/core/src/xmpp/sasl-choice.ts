/**
 * What each connect authenticates with: the configured mechanism and credentials, as the
 * `onBeforeSasl` hook may change them, and a fresh access token from the token provider for
 * X-MESSENGER-OAUTH2 (forced refresh once after the server rejected one). The wire side is sasl.ts.
 */
import { registerSecret } from "../logger.ts";
import { ExitCode } from "../exit-codes.ts";
import type { Mechanism } from "../config/config.ts";
import type { SaslChoice } from "./sasl.ts";
import type { SaslCredentials } from "./sasl-mechanisms.ts";
import { XmppAuthError, XmppConnectError } from "./errors.ts";
import type { XmppTransportOptions } from "./transport-types.ts";
import type { Link } from "./link.ts";

/** The mechanism choice of one transport. */
export interface SaslChooser {
  /** The stream-feature handler's question: offered mechanisms in, mechanism and credentials out. */
  choose(offered: string[]): Promise<SaslChoice>;
  /** The mechanism chosen on the latest connect. */
  readonly chosen: Mechanism | undefined;
  /** The next token fetch skips the provider's cache (the server rejected the last token). */
  forceRefresh(): void;
}

/** Create the chooser from the transport options; `secure()` tells whether the stream is encrypted now. */
export function createSaslChooser(o: XmppTransportOptions, link: Link, secure: () => boolean): SaslChooser {
  const cfg = o.config;
  let chosen: Mechanism | undefined;
  let force = false;

  const accessToken = async (): Promise<string> => {
    const tp = o.tokenProvider;
    if (tp) {
      const f = force;
      force = false;
      return tp.getAccessToken(f ? { forceRefresh: true } : undefined);
    }
    if (cfg.accessToken) return cfg.accessToken;
    throw new XmppAuthError("no access token: configure XMPP_ACCESS_TOKEN or an OAuth token source", undefined, ExitCode.CONFIG);
  };

  return {
    get chosen() {
      return chosen;
    },
    forceRefresh() {
      force = true;
    },
    async choose(offered) {
      // No mechanism at all is the server's state (authentication not set up), not our configuration:
      // retried, and exit 4 at start. One that lacks ours is a config error (XMPP_MECHANISM), in sasl.ts.
      if (offered.length === 0) throw new XmppConnectError("SASL", "the server offers no SASL mechanism (its authentication is not set up); retrying later");
      let mechanism = cfg.mechanism;
      let credentials: SaslCredentials = { username: cfg.username, password: cfg.password };
      if (o.onBeforeSasl) {
        const r = await o.onBeforeSasl({ offered, mechanism, connection: link.connections, domain: cfg.domain, username: cfg.username, secure: secure() });
        if (r?.mechanism) mechanism = r.mechanism;
        if (r?.credentials) credentials = { ...credentials, ...r.credentials };
      }
      if (mechanism === "X-MESSENGER-OAUTH2" && !credentials.accessToken && offered.includes(mechanism)) {
        credentials.accessToken = await accessToken();
      }
      registerSecret(credentials.accessToken, { rotating: true }); // access tokens rotate: a bounded LRU, never pinned
      registerSecret(credentials.password);
      chosen = mechanism;
      return { mechanism, credentials };
    },
  };
}
