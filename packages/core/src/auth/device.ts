/**
 * The OAuth 2.0 device authorization grant (RFC 8628) behind `botrun auth <bot> --device`:
 * requests a device code, shows the verification URI and user code (and a QR code of
 * `verification_uri_complete` where the terminal can show one), polls the token endpoint no
 * faster than the server's interval, and stores the tokens as the code flow does.
 */
import { setTimeout as delay } from "node:timers/promises";
import { backoffCeiling } from "../xmpp/backoff.ts";
import { AuthorizationError } from "./authorize.ts";
import { storeObtainedTokens } from "./consent-store.ts";
import { TransientAuthError } from "./errors.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, type FetchLike, type FormResponse, postForm, safeHost } from "./http.ts";
import type { QrRenderer } from "./device-qr.ts";
import { parseOAuth2Response } from "./oauth2-endpoint.ts";
import type { TokenSet, TokenStore } from "./types.ts";

/** The grant type of the token request (RFC 8628 §3.4). */
export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/** Polling interval when the server sends none (RFC 8628 §3.2). */
export const DEFAULT_DEVICE_INTERVAL_MS = 5_000;
/** What `slow_down` adds to the interval (RFC 8628 §3.5). */
export const SLOW_DOWN_STEP_MS = 5_000;
/** Longest wait between polls after network errors (exponential backoff, §3.5). */
const MAX_BACKOFF_MS = 60_000;

/** Time source of the flow; injectable so tests run with a virtual clock. */
export interface DeviceClock {
  now(): number;
  /** Resolves after `ms`; rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: DeviceClock = { now: Date.now, sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : {}) };

/** Options of `runDeviceFlow`. */
export interface DeviceFlowOptions {
  /** Device authorization endpoint (OAUTH_DEVICE_URL or the issuer's metadata). */
  deviceUrl: string;
  /** Token endpoint polled with the device code. */
  tokenUrl: string;
  clientId: string;
  clientSecret?: string;
  /** How a client secret is sent (RFC 6749 §2.3.1); default `body`. */
  clientAuth?: "body" | "basic";
  scope: string;
  store: TokenStore;
  accountKey: string;
  /** Named in the instructions and in the "run again" hint; default `accountKey`. */
  botName?: string;
  /** Where instructions go (one line per call); default stderr. Never receives secrets. */
  output?: (line: string) => void;
  /** Renders `verification_uri_complete` as a QR code; `false` (default) prints the link only. */
  qr?: QrRenderer | false;
  /** Give up after this long even when the device code lives longer. */
  timeoutMs?: number;
  fetch?: FetchLike;
  clock?: DeviceClock;
  signal?: AbortSignal;
}

/** The outcome of a successful device flow. */
export interface DeviceFlowResult {
  /** The stored tokens (keep them out of logs). */
  tokens: TokenSet;
  via: "device";
  userCode: string;
  verificationUri: string;
  /** Token requests made. */
  polls: number;
}

interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresInMs: number;
  intervalMs: number;
}

/** Run the device flow and store the tokens under `accountKey`. */
export async function runDeviceFlow(opts: DeviceFlowOptions): Promise<DeviceFlowResult> {
  const out = opts.output ?? ((line: string) => process.stderr.write(line + "\n"));
  const clock = opts.clock ?? realClock;
  const fetchImpl = opts.fetch ?? ((i, init) => fetch(i, init));
  const bot = opts.botName ?? opts.accountKey;
  const { form: clientForm, headers } = clientAuthentication(opts);

  // 1. The device code (RFC 8628 §3.1, §3.2).
  const started = clock.now();
  const res = await postForm(fetchImpl, opts.deviceUrl, { ...clientForm, scope: opts.scope }, { headers, setting: "OAUTH_DEVICE_URL", signal: requestSignal(opts.signal) });
  const auth = parseDeviceAuthorization(res, safeHost(opts.deviceUrl), opts.clientSecret);
  const expiresAt = started + auth.expiresInMs;
  const giveUpAt = opts.timeoutMs !== undefined ? Math.min(expiresAt, started + opts.timeoutMs) : expiresAt;

  // 2. Instructions (§3.3): the URI and the code; the complete URI as a QR code where possible.
  out(`To authorize ${bot}, open this page on any device (a phone will do):`);
  out(`  ${auth.verificationUri}`);
  out(`and enter the code: ${auth.userCode}`);
  if (auth.verificationUriComplete) {
    const lines = opts.qr ? await opts.qr(auth.verificationUriComplete) : undefined;
    if (lines?.length) {
      out("Or scan this QR code, which carries the code:");
      for (const l of lines) out(l);
    } else out(`Or open this link, which carries the code: ${auth.verificationUriComplete}`);
  }
  out(`Waiting for approval (the code expires in ${formatDuration(auth.expiresInMs)})...`);

  // 3. Poll (§3.4, §3.5): wait the interval after each answer, so never faster than it.
  const expired = () =>
    new AuthorizationError(`the code ${auth.userCode} expired before it was approved: run \`botrun auth ${bot} --device\` again`, "expired_token");
  let intervalMs = auth.intervalMs;
  let waitMs = intervalMs;
  let polls = 0;
  let failures = 0;
  let pendingSeen = false;
  for (;;) {
    try {
      await clock.sleep(waitMs, opts.signal);
    } catch {
      throw new AuthorizationError("authorization aborted", "aborted");
    }
    polls++;
    let outcome: { tokens: TokenSet } | { error: string } | { transient: TransientAuthError };
    try {
      outcome = await pollOnce(fetchImpl, opts.tokenUrl, { ...clientForm, grant_type: DEVICE_CODE_GRANT, device_code: auth.deviceCode }, headers, clock, opts);
    } catch (err) {
      if (opts.signal?.aborted) throw new AuthorizationError("authorization aborted", "aborted");
      if (err instanceof TransientAuthError) outcome = { transient: err };
      else throw err;
    }
    if ("tokens" in outcome) {
      const stored = await storeObtainedTokens(opts.store, opts.accountKey, outcome.tokens, out);
      return { tokens: stored, via: "device", userCode: auth.userCode, verificationUri: auth.verificationUri, polls };
    }
    waitMs = intervalMs;
    failures = "transient" in outcome ? failures + 1 : 0;
    if ("transient" in outcome) {
      // §3.5: back off exponentially on connection problems (never below the interval); honour Retry-After.
      waitMs = Math.max(intervalMs, backoffCeiling(failures + 1, { baseMs: intervalMs, maxMs: MAX_BACKOFF_MS }), outcome.transient.details.retryAfterMs ?? 0);
      out(`${outcome.transient.message}; trying again in ${formatDuration(waitMs)}`);
    } else if (outcome.error === "authorization_pending") {
      if (!pendingSeen) out(`authorization_pending: not approved yet; asking again every ${formatDuration(intervalMs)}`);
      pendingSeen = true;
    } else if (outcome.error === "slow_down") {
      intervalMs += SLOW_DOWN_STEP_MS;
      waitMs = intervalMs;
      out(`slow_down: the server asked to poll less often; now every ${formatDuration(intervalMs)}`);
    } else if (outcome.error === "access_denied") {
      throw new AuthorizationError(`access_denied: the request for ${bot} was declined on the verification page`, "access_denied");
    } else if (outcome.error === "expired_token") {
      throw expired();
    }
    // The first poll at or after the deadline is still made (a full interval after the one
    // before), so the server's own answer comes first; then the flow stops here.
    if (clock.now() >= giveUpAt) {
      if (giveUpAt < expiresAt) throw new AuthorizationError(`no approval within ${formatDuration(giveUpAt - started)}`, "timeout");
      throw expired();
    }
  }
}

/** One token request: tokens, a device-flow error code, or a thrown classified error. */
async function pollOnce(
  fetchImpl: FetchLike,
  tokenUrl: string,
  form: Record<string, string | undefined>,
  headers: Record<string, string>,
  clock: DeviceClock,
  opts: DeviceFlowOptions,
): Promise<{ tokens: TokenSet } | { error: string }> {
  const issuedAt = clock.now();
  const res = await postForm(fetchImpl, tokenUrl, form, { headers, signal: requestSignal(opts.signal) });
  // Some servers (GitHub's) send the §3.5 errors with HTTP 200: look at `error` whatever the status.
  const error = jsonObject(res.body)?.error;
  if (typeof error === "string" && ["authorization_pending", "slow_down", "access_denied", "expired_token"].includes(error)) return { error };
  return { tokens: parseOAuth2Response(res, issuedAt, safeHost(tokenUrl), [form.device_code, opts.clientSecret]) };
}

/** Each request ends after the default request timeout, or when the flow is aborted. */
function requestSignal(flow: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(DEFAULT_REQUEST_TIMEOUT_MS);
  return flow ? AbortSignal.any([flow, timeout]) : timeout;
}

function clientAuthentication(opts: DeviceFlowOptions): { form: Record<string, string | undefined>; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const form: Record<string, string | undefined> = { client_id: opts.clientId };
  if (opts.clientSecret !== undefined) {
    if (opts.clientAuth === "basic") {
      // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
      const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
      headers.authorization = "Basic " + Buffer.from(`${enc(opts.clientId)}:${enc(opts.clientSecret)}`).toString("base64");
    } else form.client_secret = opts.clientSecret;
  }
  return { form, headers };
}

/** Parse the device authorization response (§3.2), or throw the classified error of an error response. */
function parseDeviceAuthorization(res: FormResponse, host: string, clientSecret: string | undefined): DeviceAuthorization {
  if (res.status < 200 || res.status >= 300) {
    parseOAuth2Response(res, 0, host, [clientSecret]); // throws PermanentAuthError / TransientAuthError
  }
  const json = jsonObject(res.body);
  const str = (k: string) => (typeof json?.[k] === "string" && json[k] ? (json[k] as string) : undefined);
  const deviceCode = str("device_code");
  const userCode = str("user_code");
  // `verification_url`: the name Google's and Microsoft's older endpoints use.
  const verificationUri = str("verification_uri") ?? str("verification_url");
  const expiresIn = Number(json?.expires_in);
  const missing = [!deviceCode && "device_code", !userCode && "user_code", !verificationUri && "verification_uri", !(expiresIn > 0) && "expires_in"].filter(Boolean);
  if (!json || missing.length) {
    throw new TransientAuthError(`device authorization endpoint ${host} answered HTTP ${res.status} without ${missing.join(", ") || "a JSON object"}`, "invalid_response", { status: res.status });
  }
  const interval = Number(json.interval);
  const out: DeviceAuthorization = {
    deviceCode: deviceCode!,
    userCode: printable(userCode!),
    verificationUri: printable(verificationUri!),
    expiresInMs: expiresIn * 1000,
    intervalMs: json.interval !== undefined && Number.isFinite(interval) && interval > 0 ? interval * 1000 : DEFAULT_DEVICE_INTERVAL_MS,
  };
  const complete = str("verification_uri_complete");
  if (complete) out.verificationUriComplete = printable(complete);
  return out;
}

/** Server text for the terminal: printable ASCII only (no escape sequences), bounded. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "").slice(0, 2048);
}

function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** "5 s", "10 min". */
function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 120 && s % 60 === 0 ? `${s / 60} min` : s >= 120 ? `${Math.round(s / 60)} min` : `${s} s`;
}
