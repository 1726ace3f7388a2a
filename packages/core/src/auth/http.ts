/**
 * Shared HTTP plumbing of the token endpoints: POST a form (redirects never followed, response
 * body capped), map network failures and timeouts to `TransientAuthError`, classify HTTP
 * statuses, and scrub secrets out of server-provided text.
 */
import { redactString, secretForms } from "../logger.ts";
import { AuthConfigError, TransientAuthError } from "./errors.ts";

/** The `fetch` signature the endpoints use (the global one by default). */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** A received HTTP response, body already read. */
export interface FormResponse {
  status: number;
  contentType: string;
  body: string;
  retryAfterMs?: number;
}

/** Default per-request timeout when the caller gives no signal. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** Largest token-endpoint response body read (a token response is a few hundred bytes). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * The token endpoint answered with a redirect. It is never followed: following a 307/308 would
 * POST the refresh token and client secret to another host, and tokens from a host that is not
 * the configured endpoint are never used. A configuration error (exit 2) naming the setting.
 */
export class TokenEndpointRedirectError extends AuthConfigError {
  constructor(setting: string, url: string, status: number, location: string | undefined) {
    const to = location === undefined ? "" : ` to ${safeOrigin(location, url)}`;
    super(
      `${setting}: the token endpoint ${safeOrigin(url, url)} answered HTTP ${status} (redirect${to}); botrun does not follow token-endpoint redirects, ` +
        `which would send the client secret and refresh token elsewhere: set ${setting} to the endpoint's final URL`,
      setting,
    );
  }
}

/** Options of `postForm`. */
export interface PostFormOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** The setting that holds `url`, named in a redirect error; default `OAUTH_TOKEN_URL`. */
  setting?: string;
  /** Body cap in bytes; default `MAX_RESPONSE_BYTES`. */
  maxBytes?: number;
}

/**
 * POST `params` as `application/x-www-form-urlencoded`; network errors, timeouts and oversized
 * bodies become `TransientAuthError`, a redirect a `TokenEndpointRedirectError`.
 */
export async function postForm(fetchImpl: FetchLike, url: string, params: Record<string, string | undefined>, opts: PostFormOptions = {}): Promise<FormResponse> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body.set(k, v);
  const signal = opts.signal ?? AbortSignal.timeout(DEFAULT_REQUEST_TIMEOUT_MS);
  const host = safeHost(url);
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json, application/x-www-form-urlencoded;q=0.9, */*;q=0.1", ...opts.headers },
      body: body.toString(),
      signal,
      // Never follow: a 307/308 would resend the credentials to wherever Location points.
      redirect: "manual",
    });
  } catch (err) {
    throw networkError(err, host, signal);
  }
  const setting = opts.setting ?? "OAUTH_TOKEN_URL";
  if ((res.status >= 300 && res.status < 400) || res.type === "opaqueredirect") {
    await res.body?.cancel().catch(() => undefined);
    throw new TokenEndpointRedirectError(setting, url, res.status, res.headers.get("location") ?? undefined);
  }
  // A fetch that followed a redirect anyway (an injected one): its tokens come from another host.
  if (res.redirected || (res.url && safeOrigin(res.url, url) !== safeOrigin(url, url))) {
    await res.body?.cancel().catch(() => undefined);
    throw new TokenEndpointRedirectError(setting, url, res.status, res.url || undefined);
  }
  let text: string;
  try {
    text = await readCapped(res, opts.maxBytes ?? MAX_RESPONSE_BYTES, host);
  } catch (err) {
    if (err instanceof TransientAuthError) throw err;
    throw networkError(err, host, signal);
  }
  const out: FormResponse = { status: res.status, contentType: res.headers.get("content-type") ?? "", body: text };
  const ra = parseRetryAfter(res.headers.get("retry-after"));
  if (ra !== undefined) out.retryAfterMs = ra;
  return out;
}

/** Read a response body as UTF-8, aborting the stream once it exceeds `max` bytes. */
async function readCapped(res: Response, max: number, host: string): Promise<string> {
  const tooLarge = () =>
    new TransientAuthError(`token endpoint ${host} sent a response larger than ${Math.round(max / 1024)} KiB; response dropped`, "response_too_large", {
      status: res.status,
    });
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `scheme://host[:port]` of `value` (resolved against `base`), for messages; never path or query. */
function safeOrigin(value: string, base: string): string {
  try {
    return new URL(value, base).origin;
  } catch {
    return "(invalid URL)";
  }
}

function networkError(err: unknown, host: string, signal: AbortSignal): TransientAuthError {
  const e = err as { name?: string; cause?: { code?: string } };
  if (signal.aborted) {
    const reason = signal.reason as { name?: string } | undefined;
    if (reason?.name === "TimeoutError") return new TransientAuthError(`token endpoint ${host} timed out`, "timeout");
    return new TransientAuthError(`token endpoint request to ${host} aborted`, "aborted");
  }
  if (e?.name === "TimeoutError") return new TransientAuthError(`token endpoint ${host} timed out`, "timeout");
  const code = e?.cause?.code;
  return new TransientAuthError(`token endpoint ${host} unreachable${code ? ` (${code})` : ""}`, "network");
}

/** Host part of a URL for messages (never the query string). */
export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(invalid URL)";
  }
}

/** Retry-After in ms (seconds or HTTP date); undefined when absent or unparsable. */
export function parseRetryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/** Longest token lifetime believed (seconds); longer claims are cut to it (a huge `expires_in` must stay a finite date). */
export const MAX_EXPIRES_IN_S = 30 * 24 * 3600;

/**
 * `expiresAt` (epoch ms) from an `expires_in` value as received (number or numeric string):
 * undefined when absent or not a number; at most `MAX_EXPIRES_IN_S` ahead. Zero, negative or tiny
 * values are kept (the refreshing provider clamps and logs them).
 */
export function expiresAtFrom(issuedAt: number, raw: unknown): number | undefined {
  const exp = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  if (!Number.isFinite(exp)) return undefined;
  return issuedAt + Math.min(exp, MAX_EXPIRES_IN_S) * 1000;
}

/** True for statuses where retrying later may help. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * Make server-provided text safe for an error message: drop every occurrence of the given
 * secrets and of every registered one, in every encoded form (`secretForms`: percent-, form-,
 * base64-encoded), keep printable characters only, and cap the length.
 */
export function scrub(text: string | undefined, secrets: Array<string | undefined>): string | undefined {
  if (!text) return undefined;
  let out = text;
  const forms = secrets.flatMap((s) => (s && s.length >= 4 ? secretForms(s) : [])).sort((a, b) => b.length - a.length);
  for (const f of forms) out = out.split(f).join("[redacted]");
  out = redactString(out);
  out = out.replace(/[^\x20-\x7e]/g, " ").trim();
  return out.length > 160 ? out.slice(0, 157) + "..." : out;
}
