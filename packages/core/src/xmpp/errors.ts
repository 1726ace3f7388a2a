/** Errors of the XMPP transport. Messages are one line and never contain secrets. */
import { ExitCode } from "../exit-codes.ts";

/** The connection steps before a session exists, in order (`token`: fetching the OAuth access token for SASL). */
export type ConnectStep = "DNS" | "TCP connect" | "TLS" | "stream features" | "token" | "SASL" | "resource binding";

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);
const TCP_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "EPIPE"]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "ENODATA", "ESERVFAIL"]);

/** Connecting failed before a session was established; `.step` says where. */
export class XmppConnectError extends Error {
  override readonly name = "XmppConnectError";
  constructor(
    readonly step: ConnectStep,
    message: string,
    /** Exit code the CLI should use if this ends the process. */
    readonly exitCode: number = ExitCode.UNAVAILABLE,
    options?: { cause?: unknown },
  ) {
    super(`${step}: ${message}`, options);
  }
}

/** SASL was refused or cannot proceed. `condition` is the RFC 6120 failure condition when the server sent one. */
export class XmppAuthError extends XmppConnectError {
  override readonly name = "XmppAuthError" as "XmppConnectError";
  constructor(
    message: string,
    readonly condition: string | undefined,
    exitCode: number = ExitCode.REAUTH,
  ) {
    super("SASL", message, exitCode);
  }
}

/** `send()` was refused because the outbox holds `limit` stanzas (overflow policy `reject`). */
export class OutboxFullError extends Error {
  override readonly name = "OutboxFullError";
  constructor(readonly limit: number) {
    super(`outbox full: ${limit} stanzas queued (XMPP_OUTBOX_LIMIT); stanza not accepted`);
  }
}

/** `send()` after `stop()` began. */
export class TransportStoppedError extends Error {
  override readonly name = "TransportStoppedError";
  constructor() {
    super("transport is stopping or stopped; stanza not accepted");
  }
}

/** Name the step of a low-level error from its code, falling back to `current`. */
export function classifyError(err: unknown, current: ConnectStep): XmppConnectError {
  if (err instanceof XmppConnectError) return err;
  const e = err as NodeJS.ErrnoException & { condition?: string; reason?: string };
  // The token endpoint failed transiently (auth/errors.ts): its own step, whatever its text says.
  if (e?.name === "TransientAuthError") return new XmppConnectError("token", e.message, ExitCode.UNAVAILABLE, { cause: err });
  const code = e?.code ?? "";
  const text = e?.message ?? String(err);
  if (TLS_CODES.has(code) || /certificate|SSL|TLS/i.test(text)) {
    return new XmppConnectError("TLS", `${code ? code + ": " : ""}${text}`, ExitCode.UNAVAILABLE, { cause: err });
  }
  if (DNS_CODES.has(code)) return new XmppConnectError("DNS", `${code}: ${text}`, ExitCode.UNAVAILABLE, { cause: err });
  if (TCP_CODES.has(code)) {
    return new XmppConnectError(current === "DNS" ? "TCP connect" : current, `${code}: ${text}`, ExitCode.UNAVAILABLE, { cause: err });
  }
  if (e?.name === "StreamError") {
    return new XmppConnectError(current, `stream error ${e.condition ?? ""}${text && text !== e.condition ? ": " + text : ""}`.trim(), ExitCode.UNAVAILABLE, { cause: err });
  }
  return new XmppConnectError(current, text, ExitCode.UNAVAILABLE, { cause: err });
}
