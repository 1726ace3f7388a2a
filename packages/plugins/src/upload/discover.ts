/**
 * Finding a XEP-0363 HTTP upload service through XEP-0030 disco (the bot's server's items, then
 * each item's info), reading its `max-file-size`, and asking it for a slot (§4).
 */
import { NS, xml, type Element } from "@botrun/core";

/** XEP-0363 namespace. */
export const NS_UPLOAD = "urn:xmpp:http:upload:0";

/** An upload service: its JID and the largest file it accepts (`undefined`: no limit announced). */
export interface UploadService {
  readonly jid: string;
  readonly maxFileSize: number | undefined;
}

/** A slot: where to PUT (with the headers to send), and the URL to share. */
export interface UploadSlot {
  readonly put: string;
  readonly get: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Sends an iq get/set and resolves with the result (the bot's `request`). */
export type IqRequester = (iq: Element) => Promise<Element>;

/** XEP-0363 §5: only these slot headers may be passed on to the PUT. */
const ALLOWED_HEADERS = new Set(["authorization", "cookie", "expires"]);

/** The upload service's `max-file-size` from a disco#info result's XEP-0128 form (§3). */
export function readMaxFileSize(query: Element): number | undefined {
  for (const form of query.getChildren("x", "jabber:x:data")) {
    const fields = form.getChildren("field");
    const type = fields.find((f) => f.attrs.var === "FORM_TYPE")?.getChildText("value");
    if (type !== NS_UPLOAD) continue;
    const raw = fields.find((f) => f.attrs.var === "max-file-size")?.getChildText("value");
    const n = raw === null || raw === undefined ? NaN : Number(raw.trim());
    if (Number.isSafeInteger(n) && n >= 0) return n;
  }
  return undefined;
}

/** True when a disco#info result announces XEP-0363. */
function isUploadService(query: Element): boolean {
  return query.getChildren("feature").some((f) => f.attrs.var === NS_UPLOAD);
}

/** The first upload service among `domain` itself and its disco items, or `undefined`. */
export async function discoverUploadService(request: IqRequester, domain: string): Promise<UploadService | undefined> {
  const info = async (jid: string): Promise<UploadService | undefined> => {
    const res = await request(xml("iq", { type: "get", to: jid }, xml("query", { xmlns: NS.discoInfo }))).catch(() => undefined);
    const query = res?.getChild("query", NS.discoInfo);
    return query && isUploadService(query) ? { jid, maxFileSize: readMaxFileSize(query) } : undefined;
  };
  const own = await info(domain);
  if (own) return own;
  const items = await request(xml("iq", { type: "get", to: domain }, xml("query", { xmlns: NS.discoItems })));
  const jids = (items.getChild("query", NS.discoItems)?.getChildren("item") ?? [])
    .filter((i) => i.attrs.node === undefined && typeof i.attrs.jid === "string")
    .map((i) => String(i.attrs.jid))
    .slice(0, 50); // a server lists a few components; never walk an unbounded list
  for (const jid of jids) {
    const found = await info(jid);
    if (found) return found;
  }
  return undefined;
}

/** Ask `service` for a slot (§4); the slot's headers are filtered to those §5 allows, without line breaks. */
export async function requestSlot(request: IqRequester, service: string, file: { name: string; size: number; type: string }): Promise<UploadSlot> {
  const res = await request(
    xml("iq", { type: "get", to: service }, xml("request", { xmlns: NS_UPLOAD, filename: file.name, size: String(file.size), "content-type": file.type })),
  );
  const slot = res.getChild("slot", NS_UPLOAD);
  const put = slot?.getChild("put");
  const get = slot?.getChild("get");
  const putUrl = put?.attrs.url;
  const getUrl = get?.attrs.url;
  if (typeof putUrl !== "string" || typeof getUrl !== "string" || !/^https?:\/\//.test(putUrl) || !/^https?:\/\//.test(getUrl)) {
    throw new Error(`the upload service ${service} answered without a usable slot`);
  }
  const headers: Record<string, string> = {};
  for (const h of put!.getChildren("header")) {
    const name = String(h.attrs.name ?? "");
    if (ALLOWED_HEADERS.has(name.toLowerCase())) headers[name] = h.text().replace(/[\r\n]/g, "");
  }
  return { put: putUrl, get: getUrl, headers };
}
