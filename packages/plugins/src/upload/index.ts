/**
 * The upload plugin: `ctx.replyWithFile(path | Buffer | stream, { name, type })` uploads a file
 * through the server's XEP-0363 HTTP upload service (found by disco once per session), and replies
 * with its URL as the body plus a XEP-0066 `<x xmlns="jabber:x:oob">` so clients show it inline.
 *
 * ```ts
 * const bot = new Bot<Context & UploadFlavor>({ name: "x", plugins: [upload()] });
 * bot.command("chart", (ctx) => ctx.replyWithFile("/tmp/chart.png"));
 * ```
 */
import { jid, message, xml, type Context, type Element, type MiddlewareFn, type Plugin } from "@botrun/core";
import { replyAddress, sentOf, type SentMessage } from "../reactions/stanzas.ts";
import { discoverUploadService, requestSlot, type UploadService } from "./discover.ts";
import { putFile } from "./put.ts";
import { openInput, TooLargeError, typeOf, type FileInput } from "./source.ts";

export { discoverUploadService, NS_UPLOAD, readMaxFileSize, requestSlot, type UploadService, type UploadSlot } from "./discover.ts";
export type { FileInput } from "./source.ts";

/** XEP-0066 out-of-band data. */
export const NS_OOB = "jabber:x:oob";

/** Options of `replyWithFile`. */
export interface FileOptions {
  /** File name offered to the service (default: the path's base name, else `file`). */
  name?: string;
  /** MIME type (default: from the name's extension, else `application/octet-stream`). */
  type?: string;
}

/** The sent message (for `edit`) and the file's public URL. */
export interface UploadedFile extends SentMessage {
  readonly url: string;
}

/** Why an upload failed: no service, a file too big, a refused slot or PUT. */
export class UploadError extends Error {}

/** Add to your context type: `Context & UploadFlavor`. */
export interface UploadFlavor {
  /** Upload a file and reply with its URL (XEP-0363 + XEP-0066). Rejects with an `UploadError`. */
  replyWithFile(file: FileInput, opts?: FileOptions): Promise<UploadedFile>;
}

/** Options of `upload()`. */
export interface UploadOptions {
  /** The upload service's JID; default: found through disco of the bot's server. */
  service?: string;
  /** Bound on the PUT (default 60 s). */
  timeoutMs?: number;
  /** CA certificates (PEM) that verify the upload server's HTTPS, for a private server; default: Node's. */
  ca?: string | Buffer;
  /** Largest stream read into memory when the service announces no limit (default 64 MiB). */
  maxStreamBytes?: number;
}

/** Create the upload plugin. */
export function upload<C extends Context = Context>(opts: UploadOptions = {}): Plugin<C> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let cached: Promise<UploadService | undefined> | undefined;

  const service = (ctx: Context): Promise<UploadService | undefined> => {
    if (!cached) {
      const own = ctx.bot.jid;
      if (!own) return Promise.reject(new UploadError("not online"));
      const request = (iq: Element) => ctx.bot.request(iq, { timeoutMs: 10_000 });
      const domain = opts.service ?? jid.domain(own);
      const found = discoverUploadService(request, domain);
      cached = found;
      found.catch(() => {
        if (cached === found) cached = undefined; // retry the discovery next time
      });
    }
    return cached;
  };

  const replyWithFile = async (ctx: Context, file: FileInput, fo: FileOptions = {}): Promise<UploadedFile> => {
    const svc = await service(ctx).catch((err: unknown) => {
      throw new UploadError(`upload service discovery failed: ${String((err as Error).message ?? err)}`);
    });
    if (!svc) throw new UploadError(`no XEP-0363 upload service found on ${opts.service ?? jid.domain(ctx.bot.jid ?? "")}`);
    const limit = svc.maxFileSize ?? opts.maxStreamBytes ?? 64 * 1024 * 1024;
    const input = await openInput(file, limit).catch((err: unknown) => {
      throw err instanceof TooLargeError ? new UploadError(`file too large: ${err.message}, the upload service ${svc.jid} accepts at most ${limit} bytes`) : err;
    });
    if (svc.maxFileSize !== undefined && input.size > svc.maxFileSize) {
      throw new UploadError(`file too large: ${input.size} bytes, the upload service ${svc.jid} accepts at most ${svc.maxFileSize}`);
    }
    const name = fo.name ?? input.name ?? "file";
    const type = fo.type ?? typeOf(name);
    const slot = await requestSlot((iq) => ctx.bot.request(iq), svc.jid, { name, size: input.size, type }).catch((err: unknown) => {
      throw new UploadError(`the upload service ${svc.jid} refused a slot for ${name}: ${String((err as Error).message ?? err)}`);
    });
    await putFile(slot.put, { data: input.open(), size: input.size, type }, slot.headers, { timeoutMs, ca: opts.ca }).catch((err: unknown) => {
      throw new UploadError(String((err as Error).message ?? err));
    });
    const { to, type: mtype } = replyAddress(ctx);
    const el = message({ to, type: mtype, body: slot.get, children: [xml("x", { xmlns: NS_OOB }, xml("url", {}, slot.get))] });
    await ctx.sendStanza(el);
    return { ...sentOf(el), url: slot.get };
  };

  const middleware: MiddlewareFn<C> = (ctx, next) => {
    if (ctx.kind === "message" && ctx.type !== "error" && ctx.type !== "headline") {
      const flavor: UploadFlavor = { replyWithFile: (file, fo) => replyWithFile(ctx, file, fo) };
      Object.assign(ctx, flavor);
    }
    return next();
  };

  return {
    name: "upload",
    middleware,
    online: () => {
      // A new session may be on another server: discover again. (A message handled before this hook
      // ran, on the session's first moments, may have discovered already: one extra disco, no harm.)
      cached = undefined;
    },
  };
}
