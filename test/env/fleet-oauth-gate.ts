// An HTTP gate in front of the OAuth test server's token endpoint, for the fleet refresh suites: it
// counts every refresh token forwarded (one forwarded twice is a reuse, whoever sent it), counts
// invalid_grant answers, can hold the answer to the next refresh (forwarded at once, so the server
// has rotated the token) while the test pauses the worker that sent it, and can stop forwarding
// (requests queue, by token fingerprint) so a test can kill a worker with no refresh at the server.
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";

/** What to do with the next refresh request. */
export interface RefreshHold {
  /** Called as soon as the request arrived (before it is forwarded). */
  onArrive(): void;
  /** Resolves when the held answer may be written. */
  release(): Promise<void>;
  /** Called right after the answer was written. */
  onReleased(): void;
}

/** A running gate. */
export interface OAuthGate {
  /** Use as OAUTH_TOKEN_URL. */
  tokenUrl: string;
  /** Refresh-grant requests seen; distinct refresh tokens among them; how many presented a token seen before. */
  readonly stats: { refreshes: number; reuses: number; invalidGrants: number };
  /** Hold the answer to the next refresh request. */
  holdNext(h: RefreshHold): void;
  /** Refresh requests forwarded and not answered yet. */
  readonly inFlight: number;
  /** Stop forwarding refresh requests: they queue. */
  pause(): void;
  /** Fingerprints (as in the fleet's in-flight marks) of the refresh tokens queued. */
  queued(): Set<string>;
  /** Forward again; `drop`: the queued requests are cut off unforwarded (as if their sender died first). */
  resume(o?: { drop?: boolean }): void;
  stop(): Promise<void>;
}

/** Start a gate on 127.0.0.1 forwarding to `upstreamTokenUrl`. */
export async function startOAuthGate(upstreamTokenUrl: string): Promise<OAuthGate> {
  const up = new URL(upstreamTokenUrl);
  const seen = new Set<string>();
  const stats = { refreshes: 0, reuses: 0, invalidGrants: 0 };
  let hold: RefreshHold | undefined;
  let inFlight = 0;
  let paused = false;
  const queue = new Map<() => void, { fp: string; drop: () => void }>();

  const forward = (req: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>((resolve, reject) => {
      const out = request(up, { method: req.method, headers: { ...req.headers, host: up.host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      out.on("error", reject);
      out.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const form = new URLSearchParams(body.toString("utf8"));
    const rt = form.get("grant_type") === "refresh_token" ? form.get("refresh_token") : null;
    let h: RefreshHold | undefined;
    if (rt !== null) {
      const fp = createHash("sha256").update(rt).digest("hex");
      if (paused) {
        const go = await new Promise<boolean>((resolve) => {
          const release = () => resolve(true);
          queue.set(release, { fp: fp.slice(0, 32), drop: () => resolve(false) });
        });
        if (!go) return void res.destroy();
      }
      stats.refreshes++;
      if (seen.has(fp)) stats.reuses++;
      seen.add(fp);
      h = hold;
      hold = undefined;
      h?.onArrive();
      inFlight++;
    }
    const answer = await forward(req, body).finally(() => rt !== null && inFlight--);
    if (answer.body.includes("invalid_grant")) stats.invalidGrants++;
    if (h) await h.release();
    const { "transfer-encoding": _te, connection: _c, "keep-alive": _ka, ...headers } = answer.headers;
    res.writeHead(answer.status, { ...headers, "content-length": String(answer.body.length) });
    res.end(answer.body);
    h?.onReleased();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.statusCode = 502;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    tokenUrl: `http://127.0.0.1:${port}${up.pathname}`,
    stats,
    holdNext: (h) => (hold = h),
    get inFlight() {
      return inFlight;
    },
    pause: () => (paused = true),
    queued: () => new Set([...queue.values()].map((q) => q.fp)),
    resume(o = {}) {
      paused = false;
      for (const [release, q] of queue) (o.drop ? q.drop : release)();
      queue.clear();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
