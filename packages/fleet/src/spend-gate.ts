// The last check before a refresh token leaves this process: a fetch for the token endpoint that writes the request only if its gate still allows it at that instant, and that tells apart "never sent", "sent, no answer" and "answered".
import { request as httpRequest, type IncomingMessage, type ClientRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import type { FetchLike } from "@botrun/core";

/** How far one token-endpoint request got. */
export type SpendPhase = "idle" | "refused" | "sent" | "answered";

/**
 * Guards the writes of one account's token-endpoint requests. `arm(check)` before a refresh;
 * `fetch` runs `check()` synchronously right before the request bytes go to the socket (after
 * the connection and TLS handshake are up), and records how far the request got in `phase`.
 */
export class SpendGate {
  #check: () => boolean = () => true;
  /** How far the last request got (reset by `arm`). */
  phase: SpendPhase = "idle";

  /** The next request is written only if `check()` is still true at the moment it would be. */
  arm(check: () => boolean): void {
    this.#check = check;
    this.phase = "idle";
  }

  /** A `fetch` for `OAuth2TokenEndpoint`/`WrapTokenEndpoint` (POST with a string body, no redirects followed). */
  readonly fetch: FetchLike = (input, init = {}) => gatedRequest(this, new URL(String(input)), init);

  /** Called by the request at the instant it would write: false refuses it. */
  mayWrite(): boolean {
    const ok = this.#check();
    this.phase = ok ? "sent" : "refused";
    return ok;
  }
}

/** The refusal of a request the gate stopped before any byte was written. */
export class SpendRefused extends Error {
  override readonly name = "SpendRefused";
}

function gatedRequest(gate: SpendGate, url: URL, init: RequestInit): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return void reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
    const headers = Object.fromEntries(new Headers(init.headers ?? {}).entries());
    const body = typeof init.body === "string" ? init.body : "";
    headers["content-length"] = String(Buffer.byteLength(body));
    const make = url.protocol === "https:" ? httpsRequest : httpRequest;
    // A fresh connection each time (agent: false): nothing is written before `end(body)`, which
    // happens only once the socket is connected and the gate has said yes in the same tick.
    const req: ClientRequest = make(url, { method: init.method ?? "GET", headers, agent: false });
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(err);
    };
    const onAbort = () => {
      // After a pause (SIGSTOP, a stalled VM) the timeout timer and the answer that arrived meanwhile
      // are both due; timers run first. Let pending socket reads run (setImmediate comes after the
      // poll phase): an answer already started is read to the end rather than thrown away, because
      // it may carry the only copy of a rotated refresh token.
      setImmediate(() => {
        if (!settled) fail(Object.assign(new Error("aborted"), { name: (signal?.reason as { name?: string } | undefined)?.name ?? "AbortError" }));
      });
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (err) => fail(err));
    req.on("socket", (sock) => {
      const go = () => {
        if (settled) return;
        if (!gate.mayWrite()) return fail(new SpendRefused("the refresh was not sent: this worker may no longer spend this refresh token"));
        req.end(body);
      };
      if (!sock.connecting) go();
      else sock.once(url.protocol === "https:" ? "secureConnect" : "connect", go);
    });
    req.on("response", (res: IncomingMessage) => {
      if (settled) return void res.resume();
      settled = true;
      gate.phase = "answered";
      signal?.removeEventListener("abort", onAbort);
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
      const status = res.statusCode ?? 502;
      const noBody = [101, 204, 205, 304].includes(status);
      if (noBody) res.resume();
      resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: h }));
    });
  });
}
