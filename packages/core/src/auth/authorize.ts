/**
 * The interactive authorization-code flow behind `botrun auth <bot>`: builds the consent URL
 * (OAuth 2.0 or WRAP), prints it and opens a browser where possible, then takes the code from a
 * loopback callback server or from a URL/code pasted on the input stream (whichever comes first),
 * checks `state`, exchanges the code and stores the tokens.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { AuthorizationError, parsePasted, readResponse } from "./authorization-response.ts";
import { storeObtainedTokens } from "./consent-store.ts";
import { consentUrl as buildConsentUrl } from "./consent-url.ts";
import { AuthConfigError } from "./errors.ts";
import { openBrowser } from "./open-browser.ts";
import type { CodeExchanger, TokenSet, TokenStore } from "./types.ts";

// Imported from here by the `botrun auth` command and the device flow.
export { AuthorizationError } from "./authorization-response.ts";
export { DEFAULT_OAUTH2_SCOPE } from "./consent-url.ts";

/** Options of `runAuthorizationFlow`. */
export interface AuthorizationFlowOptions {
  flavor: "oauth2" | "wrap";
  clientId: string;
  /** Redeems the code; `OAuth2TokenEndpoint` or `WrapTokenEndpoint`. */
  exchanger: CodeExchanger;
  store: TokenStore;
  accountKey: string;
  /** Consent page; default Live's (OAuth 2.0 authorize / WRAP Connect.aspx). */
  authorizeUrl?: string;
  scope?: string;
  /**
   * Redirect URI registered for the client. `http://127.0.0.1:PORT/path` (or localhost) starts the
   * callback server on that port; any other URI (e.g. Live's desktop redirect) means paste-only.
   * Default: `http://127.0.0.1:<random port>/callback`.
   */
  redirectUri?: string;
  /** Where pasted URLs/codes come from; default `process.stdin`; `null` disables pasting. */
  input?: NodeJS.ReadableStream | null;
  /** Where instructions go (one line per call); default stderr. Never receives secrets. */
  output?: (line: string) => void;
  /** Opens the consent URL; default `openBrowser` (xdg-open/open when a display exists); `false` disables. */
  opener?: ((url: string) => unknown) | false;
  /** Give up after this long; default 10 minutes. */
  timeoutMs?: number;
  /** Send a PKCE S256 challenge (OAuth 2.0 only); default true. */
  pkce?: boolean;
  signal?: AbortSignal;
}

/** The outcome of a successful flow. */
export interface AuthorizationResult {
  /** The stored tokens (keep them out of logs). */
  tokens: TokenSet;
  /** How the code arrived. */
  via: "callback" | "paste";
  redirectUri: string;
}

interface Received {
  code: string;
  via: "callback" | "paste";
  res?: ServerResponse;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Run the authorization-code flow and store the tokens under `accountKey`. */
export async function runAuthorizationFlow(opts: AuthorizationFlowOptions): Promise<AuthorizationResult> {
  const out = opts.output ?? ((line: string) => process.stderr.write(line + "\n"));
  const wrap = opts.flavor === "wrap";
  const state = randomBytes(16).toString("base64url");
  const verifier = !wrap && opts.pkce !== false ? randomBytes(32).toString("base64url") : undefined;
  const cleanups: Array<() => void> = [];
  let settle!: { resolve: (r: Received) => void; reject: (e: Error) => void };
  const received = new Promise<Received>((resolve, reject) => (settle = { resolve, reject }));
  let done = false;
  const finish = (r: Received) => {
    if (!done) {
      done = true;
      settle.resolve(r);
    } else r.res?.writeHead(409, { "content-type": "text/plain" }).end("Already authorized.\n");
  };
  const fail = (e: Error) => {
    if (!done) {
      done = true;
      settle.reject(e);
    }
  };
  const codeParam = wrap ? "wrap_verification_code" : "code";

  const readPasted = (params: URLSearchParams) => readResponse(params, false, state, codeParam);

  try {
    // 1. Where the redirect lands.
    let redirectUri: string;
    let callbackPath: string | undefined;
    if (opts.redirectUri) {
      let u: URL;
      try {
        u = new URL(opts.redirectUri);
      } catch {
        throw new AuthConfigError("OAUTH_REDIRECT_URI is not a valid URL", "OAUTH_REDIRECT_URI");
      }
      if (u.protocol === "http:" && LOOPBACK_HOSTS.has(u.hostname)) {
        const port = u.port ? Number(u.port) : 80;
        const server = await listen(port, u.pathname, (req, res) => onCallback(req, res));
        cleanups.push(() => closeServer(server));
        u.port = String((server.address() as AddressInfo).port);
        callbackPath = u.pathname;
      }
      redirectUri = u.toString();
    } else {
      const server = await listen(0, "/callback", (req, res) => onCallback(req, res));
      cleanups.push(() => closeServer(server));
      redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
      callbackPath = "/callback";
    }
    // WRAP has no `state`: carry it in the callback URL (Live returns to it verbatim, query included).
    let exchangeRedirect = redirectUri;
    if (wrap && callbackPath) {
      const u = new URL(redirectUri);
      u.searchParams.set("state", state);
      exchangeRedirect = u.toString();
    }

    function onCallback(req: IncomingMessage, res: ServerResponse): void {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (req.method !== "GET" || url.pathname !== callbackPath) {
        res.writeHead(404, { "content-type": "text/plain" }).end("Not found.\n");
        return;
      }
      const r = readResponse(url.searchParams, true, state, codeParam);
      if (r.error) {
        res.writeHead(400, { "content-type": "text/plain" }).end(`Authorization failed: ${r.error.code}\n`);
        fail(r.error);
      } else if (r.code) {
        finish({ code: r.code, via: "callback", res });
      } else {
        out(`ignored a callback request (${r.ignore})`);
        res.writeHead(400, { "content-type": "text/plain" }).end(`Ignored: ${r.ignore}.\n`);
      }
    }

    // 2. The consent URL.
    const consentUrl = buildConsentUrl({
      wrap,
      clientId: opts.clientId,
      authorizeUrl: opts.authorizeUrl,
      scope: opts.scope,
      redirectUri,
      wrapCallback: exchangeRedirect,
      state,
      verifier,
    });

    // 3. Pasted input.
    const input = opts.input === undefined ? process.stdin : opts.input;
    if (input) {
      const rl = createInterface({ input, terminal: false });
      rl.on("line", (line) => {
        const r = parsePasted(line, readPasted);
        if (r === undefined) return;
        if ("code" in r) finish({ code: r.code, via: "paste" });
        else if ("error" in r) fail(r.error);
        else out(`ignored pasted input (${r.ignore}); paste the full redirected URL or the code`);
      });
      rl.on("close", () => {
        if (!callbackPath) fail(new AuthorizationError("input closed before an authorization code was pasted", "no_code"));
      });
      cleanups.push(() => rl.close());
    } else if (!callbackPath) {
      throw new AuthConfigError("OAUTH_REDIRECT_URI is not a loopback http:// URL and no input is available to paste the code", "OAUTH_REDIRECT_URI");
    }

    // 4. Tell the user; open a browser where there is one.
    out("Open this URL in a browser and grant access:");
    out(`  ${consentUrl}`);
    if (callbackPath) out(`Waiting for the redirect to ${redirectUri}${input ? " (or paste the redirected URL or the code here)" : ""}...`);
    else out("Then paste the URL you were redirected to (or just the code) here:");
    if (opts.opener !== false) {
      const opener = opts.opener ?? openBrowser;
      // Not awaited: an opener may only settle once the redirect has been answered.
      Promise.resolve()
        .then(() => opener(consentUrl))
        .catch(() => undefined); // no browser: the printed URL is enough
    }

    const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
    const timer = setTimeout(() => fail(new AuthorizationError(`no authorization received within ${Math.round(timeoutMs / 1000)} s`, "timeout")), timeoutMs);
    cleanups.push(() => clearTimeout(timer));
    if (opts.signal) {
      const onAbort = () => fail(new AuthorizationError("authorization aborted", "aborted"));
      if (opts.signal.aborted) onAbort();
      opts.signal.addEventListener("abort", onAbort, { once: true });
      cleanups.push(() => opts.signal?.removeEventListener("abort", onAbort));
    }

    // 5. Exchange and store.
    const got = await received;
    try {
      const tokens = await opts.exchanger.exchangeCode(got.code, exchangeRedirect, verifier ? { codeVerifier: verifier } : {});
      const stored = await storeObtainedTokens(opts.store, opts.accountKey, tokens, out);
      got.res?.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><p>botrun: authorized. You can close this tab.</p>\n");
      return { tokens: stored, via: got.via, redirectUri: exchangeRedirect };
    } catch (err) {
      got.res?.writeHead(500, { "content-type": "text/plain" }).end("botrun: exchanging the code failed; see the terminal.\n");
      throw err;
    }
  } finally {
    for (const c of cleanups.reverse()) c();
  }
}

function listen(port: number, _path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(new AuthConfigError(`cannot listen on 127.0.0.1:${port} for the OAuth redirect (${err.code ?? "error"}); change OAUTH_REDIRECT_URI`, "OAUTH_REDIRECT_URI")),
    );
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function closeServer(server: Server): void {
  server.close();
  server.closeAllConnections();
}
