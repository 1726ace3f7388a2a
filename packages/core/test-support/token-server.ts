/**
 * Test helper (not part of the public API): a real node:http token endpoint on 127.0.0.1 with a
 * scripted reply per request, recording every request's form fields and headers.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One recorded request. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  form: Record<string, string>;
}

/** A scripted reply; `hang` never answers (for timeouts). */
export type Reply =
  | { status: number; json?: unknown; form?: Record<string, string>; body?: string; headers?: Record<string, string> }
  | { hang: true };

/** A running scripted server. */
export interface TestTokenServer {
  url: string;
  requests: RecordedRequest[];
  /** Called per request (after recording); return the reply. */
  handler: (req: RecordedRequest, n: number) => Reply | Promise<Reply>;
  /** Resolves when `requests.length >= n`. */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Start a scripted token server on 127.0.0.1:0. */
export async function startTokenServer(handler: TestTokenServer["handler"]): Promise<TestTokenServer> {
  const waiters: Array<() => void> = [];
  const hanging: ServerResponse[] = [];
  const srv: TestTokenServer = {
    url: "",
    requests: [],
    handler,
    waitForRequests(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (srv.requests.length >= n) {
            clearTimeout(t);
            resolve();
            return true;
          }
          return false;
        };
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} requests (got ${srv.requests.length})`)), timeoutMs);
        const w = () => {
          if (!check()) waiters.push(w);
        };
        if (!check()) waiters.push(w);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const rec: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        form: Object.fromEntries(new URLSearchParams(body)),
      };
      srv.requests.push(rec);
      for (const w of waiters.splice(0)) w();
      Promise.resolve(srv.handler(rec, srv.requests.length)).then((reply) => {
        if ("hang" in reply) {
          hanging.push(res);
          return;
        }
        const headers: Record<string, string> = { ...reply.headers };
        let text = reply.body ?? "";
        if (reply.json !== undefined) {
          headers["content-type"] = "application/json";
          text = JSON.stringify(reply.json);
        } else if (reply.form) {
          headers["content-type"] = "application/x-www-form-urlencoded";
          text = new URLSearchParams(reply.form).toString();
        }
        res.writeHead(reply.status, headers).end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  srv.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return srv;
}
