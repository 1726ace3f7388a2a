/**
 * Reading the authorization server's answer in the authorization-code flow, from the redirect's
 * query or from a line the user pasted (a URL, a query string or a bare code): the `state` check,
 * a refusal, or the code.
 */
import { scrub } from "./http.ts";

/** The user or the server refused, the flow timed out, or `state` did not match. */
export class AuthorizationError extends Error {
  override readonly name = "AuthorizationError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** A response read: the code, the refusal, or why it was ignored. */
export interface ResponseRead {
  code?: string;
  error?: AuthorizationError;
  ignore?: string;
}

/**
 * Check a response's parameters against `state` (RFC 6749 §10.12; WRAP's `wrap_client_state`).
 * `requireState`: a response without one is ignored (the callback; a pasted code may lack it).
 * `codeParam`: `code`, or WRAP's `wrap_verification_code`.
 */
export function readResponse(params: URLSearchParams, requireState: boolean, state: string, codeParam: string): ResponseRead {
  const err = params.get("error") ?? params.get("wrap_error_reason") ?? params.get("error_code");
  const st = params.get("state") ?? params.get("wrap_client_state");
  if (st !== null ? st !== state : requireState) return { ignore: "state mismatch" };
  if (err) {
    const desc = scrub(params.get("error_description") ?? undefined, [state]);
    return { error: new AuthorizationError(`authorization refused: ${scrub(err, [])}${desc ? ` (${desc})` : ""}`, scrub(err, []) ?? "error") };
  }
  const code = params.get(codeParam) ?? params.get("code");
  return code ? { code } : { ignore: `no ${codeParam} parameter` };
}

/** Interpret one pasted line: a redirected URL, a query string, or a bare code (`read` checks the parameters). */
export function parsePasted(
  line: string,
  read: (params: URLSearchParams) => ResponseRead,
): { code: string } | { error: AuthorizationError } | { ignore: string } | undefined {
  const text = line.trim();
  if (!text) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.includes("=")) {
    let params: URLSearchParams;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
      try {
        const u = new URL(text);
        params = new URLSearchParams(u.search);
        for (const [k, v] of new URLSearchParams(u.hash.slice(1))) if (!params.has(k)) params.set(k, v);
      } catch {
        return { ignore: "not a URL" };
      }
    } else {
      params = new URLSearchParams(text.replace(/^[?#]/, ""));
    }
    const r = read(params);
    if (r.code) return { code: r.code };
    if (r.error) return { error: r.error };
    return { ignore: r.ignore ?? "no code" };
  }
  if (/^[\w.~+/=!*$-]+$/.test(text)) return { code: text };
  return { ignore: "not a code" };
}
