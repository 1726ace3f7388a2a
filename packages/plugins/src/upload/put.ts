/** The HTTP PUT of a XEP-0363 upload (§5): the file's bytes with its length and type, and the slot's headers. */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";

/** What to PUT: the bytes (a buffer or a stream of exactly `size` bytes) and their length and type. */
export interface PutBody {
  data: Buffer | Readable;
  size: number;
  type: string;
}

/** PUT `body` at `url`; resolves on a 2xx answer, rejects with the status (never the headers: they may be secrets). */
export function putFile(url: string, body: PutBody, headers: Readonly<Record<string, string>>, opts: { timeoutMs: number; ca?: string | Buffer }): Promise<void> {
  const u = new URL(url);
  const timeoutMs = opts.timeoutMs;
  const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, {
    method: "PUT",
    ...(opts.ca !== undefined && u.protocol === "https:" ? { ca: opts.ca } : {}),
    headers: { ...headers, "Content-Type": body.type, "Content-Length": String(body.size) },
    timeout: timeoutMs,
  });
  return new Promise<void>((resolve, reject) => {
    req.on("timeout", () => req.destroy(new Error(`upload PUT to ${u.host} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.on("response", (res) => {
      res.resume(); // drain
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) resolve();
      else reject(new Error(`upload PUT to ${u.host} failed: HTTP ${status}`));
    });
    if (Buffer.isBuffer(body.data)) req.end(body.data);
    else {
      body.data.on("error", (err) => req.destroy(err));
      body.data.pipe(req);
    }
  });
}
