/**
 * Authorization server discovery for `botrun auth`: reads RFC 8414 metadata
 * (`/.well-known/oauth-authorization-server`, then OpenID Connect's `/.well-known/openid-configuration`)
 * of `OAUTH_ISSUER` and returns the token, authorization and device authorization endpoints.
 */
import { checkEndpointUrl } from "./create-provider.ts";
import { AuthConfigError, TransientAuthError } from "./errors.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, type FetchLike, safeHost } from "./http.ts";

/** The endpoints an issuer's metadata names (each validated: https, or http on loopback). */
export interface ServerEndpoints {
  issuer: string;
  tokenEndpoint?: string;
  authorizationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
}

/** Largest metadata document read (real ones are a few KiB). */
const MAX_METADATA_BYTES = 256 * 1024;

/**
 * Where the metadata of `issuer` lives, in the order tried: RFC 8414 §3.1 inserts the well-known
 * segment between the host and the issuer's path; OpenID Connect Discovery §4 appends it.
 */
export function metadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/+$/, "");
  return [`${u.origin}/.well-known/oauth-authorization-server${path}`, `${u.origin}${path}/.well-known/openid-configuration`];
}

/**
 * Fetch and check the metadata of `issuer` (`OAUTH_ISSUER`). A missing document, a wrong `issuer`
 * member (RFC 8414 §3.3) or an endpoint that is not https is an `AuthConfigError` naming
 * OAUTH_ISSUER; an unreachable server a `TransientAuthError`.
 */
export async function discoverEndpoints(issuer: string, opts: { fetch?: FetchLike; timeoutMs?: number } = {}): Promise<ServerEndpoints> {
  checkEndpointUrl(issuer, "OAUTH_ISSUER");
  if (/[?#]/.test(issuer)) throw new AuthConfigError("OAUTH_ISSUER must not have a query or fragment (RFC 8414 §2)", "OAUTH_ISSUER");
  const fetchImpl = opts.fetch ?? ((i, init) => fetch(i, init));
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    const doc = await getJson(fetchImpl, url, opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    if (doc.status !== 200) {
      tried.push(`${url} (HTTP ${doc.status})`);
      continue;
    }
    return endpointsFrom(doc.json, issuer, url);
  }
  throw new AuthConfigError(`OAUTH_ISSUER: no authorization server metadata at ${tried.join(" or ")}; check OAUTH_ISSUER or set OAUTH_TOKEN_URL and OAUTH_DEVICE_URL instead`, "OAUTH_ISSUER");
}

function endpointsFrom(json: unknown, issuer: string, url: string): ServerEndpoints {
  if (!json || typeof json !== "object" || Array.isArray(json)) throw new AuthConfigError(`OAUTH_ISSUER: ${url} is not a JSON object`, "OAUTH_ISSUER");
  const md = json as Record<string, unknown>;
  // RFC 8414 §3.3: the issuer in the document must be the one asked for (a trailing "/" aside).
  const same = (a: string, b: string) => a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
  if (typeof md.issuer !== "string" || !same(md.issuer, issuer)) {
    throw new AuthConfigError(`OAUTH_ISSUER: the metadata at ${url} is for issuer ${JSON.stringify(String(md.issuer ?? "")).slice(0, 120)}, not ${issuer}`, "OAUTH_ISSUER");
  }
  const out: ServerEndpoints = { issuer };
  const take = (member: string): string | undefined => {
    const v = md[member];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw new AuthConfigError(`OAUTH_ISSUER: ${member} in ${url} is not a string`, "OAUTH_ISSUER");
    try {
      return checkEndpointUrl(v, `${member} in OAUTH_ISSUER's metadata`);
    } catch (err) {
      throw new AuthConfigError((err as Error).message, "OAUTH_ISSUER");
    }
  };
  const token = take("token_endpoint");
  const authorize = take("authorization_endpoint");
  const device = take("device_authorization_endpoint");
  if (token) out.tokenEndpoint = token;
  if (authorize) out.authorizationEndpoint = authorize;
  if (device) out.deviceAuthorizationEndpoint = device;
  return out;
}

/** GET `url` as JSON: no redirects followed, body capped; network failures become `TransientAuthError`. */
async function getJson(fetchImpl: FetchLike, url: string, timeoutMs: number): Promise<{ status: number; json?: unknown }> {
  const host = safeHost(url);
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: { accept: "application/json" }, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    throw new TransientAuthError(`OAUTH_ISSUER: metadata at ${host} unreachable${code ? ` (${code})` : ""}`, "network");
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status };
  }
  let size = 0;
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_METADATA_BYTES) throw new AuthConfigError(`OAUTH_ISSUER: the metadata at ${url} is larger than ${MAX_METADATA_BYTES / 1024} KiB`, "OAUTH_ISSUER");
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof AuthConfigError) throw err;
    throw new TransientAuthError(`OAUTH_ISSUER: reading the metadata from ${host} failed`, "network");
  }
  try {
    return { status: 200, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown };
  } catch {
    throw new AuthConfigError(`OAUTH_ISSUER: the metadata at ${url} is not valid JSON`, "OAUTH_ISSUER");
  }
}
