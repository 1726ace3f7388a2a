// The upload plugin offline: discovery (once per session), max-file-size, slot headers (§5), errors.
// The PUT goes to a throwaway HTTP server on 127.0.0.1; the real service is test/real/native-upload.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Bot, NS, StanzaError, xml, type Context, type Element } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_OOB, NS_UPLOAD, upload, UploadError, type UploadFlavor } from "./index.ts";

type C = Context & UploadFlavor;
let server: Server;
let base: string;
const puts: Array<{ url: string; headers: IncomingHttpHeaders; body: Buffer }> = [];
let status = 201;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      puts.push({ url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A server with an upload component (or none), counting the disco queries and slot requests. */
function service(opts: { present?: boolean; max?: number; refuse?: boolean; discoBroken?: boolean } = {}) {
  const asked: string[] = [];
  const responder = (iq: Element): Element | null | StanzaError | undefined => {
    const q = iq.getChildElements()[0]!;
    const to = String(iq.attrs.to);
    asked.push(`${q.attrs.xmlns} ${to}`);
    if (q.attrs.xmlns === NS.discoItems && opts.discoBroken) return new StanzaError("internal-server-error");
    if (q.attrs.xmlns === NS.discoItems) return xml("query", { xmlns: NS.discoItems }, ...(opts.present === false ? [] : [xml("item", { jid: "upload.botrun.test" })]));
    if (q.attrs.xmlns === NS.discoInfo && to === "upload.botrun.test") {
      const form = opts.max === undefined ? [] : [
        xml("x", { xmlns: "jabber:x:data", type: "result" },
          xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, NS_UPLOAD)),
          xml("field", { var: "max-file-size" }, xml("value", {}, String(opts.max)))),
      ];
      return xml("query", { xmlns: NS.discoInfo }, xml("identity", { category: "store", type: "file" }), xml("feature", { var: NS_UPLOAD }), ...form);
    }
    if (q.attrs.xmlns === NS.discoInfo) return xml("query", { xmlns: NS.discoInfo }, xml("feature", { var: NS.discoInfo }));
    if (q.attrs.xmlns === NS_UPLOAD) {
      if (opts.refuse) return new StanzaError("not-acceptable", "modify", "no");
      const name = String(q.attrs.filename);
      return xml("slot", { xmlns: NS_UPLOAD },
        xml("put", { url: `${base}/put/${name}` },
          xml("header", { name: "Authorization" }, "Basic c2VjcmV0\r\nX-Injected: 1"),
          xml("header", { name: "Cookie" }, "c=1"),
          xml("header", { name: "X-Evil" }, "dropped")),
        xml("get", { url: `https://files.example/${name}` }));
    }
    return undefined;
  };
  return { asked, responder };
}

async function harness(opts: Parameters<typeof service>[0] = {}) {
  const svc = service(opts);
  const errors: unknown[] = [];
  const b = new Bot<C>({ name: "up", plugins: [upload()] });
  b.command("file", async (ctx) => {
    try {
      await ctx.replyWithFile(Buffer.from(ctx.argsText), { name: "note.txt" });
    } catch (err) {
      errors.push(err);
    }
  });
  const t = await createHarness(b, { iq: svc.responder });
  return { t, errors, asked: svc.asked };
}

describe("replyWithFile", () => {
  it("PUTs the bytes with length, type and only the §5 headers, then sends the GET URL with OOB", async () => {
    puts.length = 0;
    const { t, errors } = await harness({ max: 1000 });
    await t.say("!file hello");
    expect(errors).toEqual([]);
    expect(puts).toHaveLength(1);
    const put = puts[0]!;
    expect([put.url, put.body.toString()]).toEqual(["/put/note.txt", "hello"]);
    expect(put.headers).toMatchObject({ "content-type": "text/plain", "content-length": "5", authorization: "Basic c2VjcmV0X-Injected: 1", cookie: "c=1" });
    expect(put.headers["x-evil"]).toBeUndefined();
    expect(put.headers["x-injected"]).toBeUndefined();
    const el = t.sent.filter((s) => s.name === "message").at(-1)!;
    expect(el.getChildText("body")).toBe("https://files.example/note.txt");
    expect(el.getChild("x", NS_OOB)?.getChildText("url")).toBe("https://files.example/note.txt");
  });

  it("discovers the service once per session, again after a new session", async () => {
    const { t, asked } = await harness();
    await t.say("!file a");
    await t.say("!file b");
    const disco = () => asked.filter((a) => a.startsWith(NS.discoItems)).length;
    expect(disco()).toBe(1);
    await t.reconnect();
    await t.say("!file c");
    expect(disco()).toBe(2);
    expect(asked.filter((a) => a.startsWith(NS_UPLOAD))).toHaveLength(3);
  });

  it("no service: an UploadError naming the domain; nothing sent", async () => {
    const { t, errors } = await harness({ present: false });
    await t.say("!file x");
    expect(errors[0]).toBeInstanceOf(UploadError);
    expect(String(errors[0])).toMatch(/no XEP-0363 upload service found on botrun\.test/);
    expect(t.replies()).toEqual([]);
    const broken = await harness({ discoBroken: true });
    await broken.t.say("!file x");
    expect(broken.errors[0]).toBeInstanceOf(UploadError);
    expect(String(broken.errors[0])).toMatch(/upload service discovery failed: internal-server-error/);
  });

  it("over max-file-size: refused before asking a slot; a refused slot: an UploadError with the reason", async () => {
    const big = await harness({ max: 3 });
    await big.t.say("!file four");
    expect(String(big.errors[0])).toMatch(/file too large: 4 bytes, the upload service upload\.botrun\.test accepts at most 3/);
    expect(big.asked.some((a) => a.startsWith(NS_UPLOAD))).toBe(false);
    const refused = await harness({ refuse: true });
    await refused.t.say("!file x");
    expect(String(refused.errors[0])).toMatch(/refused a slot for note\.txt/);
  });

  it("a failed PUT: an UploadError with the HTTP status (not the slot's secret header); no message", async () => {
    status = 500;
    try {
      const { t, errors } = await harness();
      await t.say("!file x");
      expect(String(errors[0])).toMatch(/HTTP 500/);
      expect(String(errors[0])).not.toMatch(/c2VjcmV0/);
      expect(t.replies()).toEqual([]);
    } finally {
      status = 201;
    }
  });
});
