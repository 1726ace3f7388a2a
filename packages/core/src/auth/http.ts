/**
 * Shared HTTP plumbing of the token endpoints: POST a form, map network failures and timeouts to
 * `TransientAuthError`, classify HTTP statuses, and scrub secrets out of server-provided text.
 */
import { TransientAuthError } from "./errors.ts";

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

/** POST `params` as `application/x-www-form-urlencoded`; network errors and timeouts become `TransientAuthError`. */
export async function postForm(
  fetchImpl: FetchLike,
  url: string,
  params: Record<string, string | undefined>,
  opts: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<FormResponse> {
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
    });
  } catch (err) {
    throw networkError(err, host, signal);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw networkError(err, host, signal);
  }
  const out: FormResponse = { status: res.status, contentType: res.headers.get("content-type") ?? "", body: text };
  const ra = parseRetryAfter(res.headers.get("retry-after"));
  if (ra !== undefined) out.retryAfterMs = ra;
  return out;
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

/** True for statuses where retrying later may help. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * Make server-provided text safe for an error message: drop every occurrence of the given
 * secrets, keep printable characters only, and cap the length.
 */
export function scrub(text: string | undefined, secrets: Array<string | undefined>): string | undefined {
  if (!text) return undefined;
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  out = out.replace(/[^\x20-\x7e]/g, " ").trim();
  return out.length > 160 ? out.slice(0, 157) + "..." : out;
}
