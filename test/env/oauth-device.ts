// The device authorization grant (RFC 8628) of the test OAuth server: oidc-provider's own
// deviceFlow, plus what it leaves out: an `interval` in the device authorization response,
// `slow_down` for a client that polls faster than that interval (each one adds 5 s, §3.5) or
// on request, and a way for tests to approve or deny a user code through oidc-provider's own
// verification pages (GET /device?user_code, the confirm form, the login/consent interactions).
import type Provider from "oidc-provider";

/** Device-flow switches and records of the test server. */
export interface DeviceFlowControl {
  /** Seconds sent as `interval`; default 1 (RFC 8628's default is 5, too slow for tests). */
  interval: number;
  /** Device code lifetime in seconds (`expires_in`); default 600. */
  codeTtl: number;
  /** Answer the next `n` pending polls with `slow_down` even when the client kept the interval. */
  forceSlowDown(n: number): void;
  /** Every device-code poll at the token endpoint: when (epoch ms) and what it was answered. */
  polls: Array<{ at: number; deviceCode: string; answer: string }>;
  /** User codes handed out, in order. */
  userCodes: string[];
  /** Approve `userCode` as the server's login user, through the verification pages. */
  approve(userCode: string): Promise<void>;
  /** Press "Abort" on the confirmation page: the client then gets `access_denied`. */
  deny(userCode: string): Promise<void>;
}

/** The `urn:` grant type of RFC 8628 §3.4. */
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

type PageCtx = { body: unknown };
/** Plain verification pages (oidc-provider's defaults print a notice on every use). */
export const DEVICE_PAGES = {
  userCodeInputSource: async (ctx: PageCtx, form: string) => void (ctx.body = `<!doctype html>${form}`),
  userCodeConfirmSource: async (ctx: PageCtx, form: string) => void (ctx.body = `<!doctype html>${form}`),
  successSource: async (ctx: PageCtx) => void (ctx.body = "<!doctype html><p>Signed in.</p>"),
};

interface Ctx {
  path: string;
  method: string;
  status: number;
  body: unknown;
  oidc?: { params?: Record<string, unknown> };
}

/** Hook the device-flow extras into `provider` (its `features.deviceFlow` must be enabled). */
export function installDeviceFlow(provider: Provider, issuer: string, opts: { interval?: number; codeTtl?: number } = {}): DeviceFlowControl {
  let forced = 0;
  const intervals = new Map<string, number>(); // device code → interval in force (s)
  const lastPoll = new Map<string, number>();
  const control: DeviceFlowControl = {
    interval: opts.interval ?? 1,
    codeTtl: opts.codeTtl ?? 600,
    forceSlowDown(n) {
      forced = n;
    },
    polls: [],
    userCodes: [],
    approve: (userCode) => verify(userCode, "confirm"),
    deny: (userCode) => verify(userCode, "abort"),
  };

  // `body` is the response about to be sent (ctx.body): add the interval oidc-provider omits.
  provider.on("device_authorization.success", (_ctx, body: Record<string, unknown>) => {
    body.interval = control.interval;
    intervals.set(String(body.device_code), control.interval);
    control.userCodes.push(String(body.user_code));
  });

  // After oidc-provider answered a device-code poll: turn "authorization_pending" into
  // "slow_down" when the client came back too early (or a test asked for it).
  provider.use(async (raw, next) => {
    await next();
    const ctx = raw as unknown as Ctx;
    if (ctx.path !== "/token" || ctx.method !== "POST" || ctx.oidc?.params?.grant_type !== DEVICE_GRANT) return;
    const deviceCode = String(ctx.oidc.params.device_code ?? "");
    const now = Date.now();
    const body = ctx.body as { error?: string } | undefined;
    let answer = body?.error ?? "tokens";
    const interval = intervals.get(deviceCode) ?? control.interval;
    const previous = lastPoll.get(deviceCode);
    lastPoll.set(deviceCode, now);
    // 50 ms of tolerance: timers and the loopback round trip are not exact.
    const tooEarly = previous !== undefined && now - previous < interval * 1000 - 50;
    if (answer === "authorization_pending" && (tooEarly || forced > 0)) {
      if (!tooEarly) forced--;
      intervals.set(deviceCode, interval + 5);
      ctx.status = 400;
      ctx.body = { error: "slow_down", error_description: "polling too fast; add 5 seconds to the interval" };
      answer = "slow_down";
    }
    control.polls.push({ at: now, deviceCode, answer });
  });

  /** Walk oidc-provider's verification pages for `userCode` with a cookie jar. */
  async function verify(userCode: string, action: "confirm" | "abort"): Promise<void> {
    const jar = new Map<string, string>();
    const request = async (url: string, form?: Record<string, string>) => {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
      const headers: Record<string, string> = cookie ? { cookie } : {};
      if (form) headers["content-type"] = "application/x-www-form-urlencoded";
      const r = await fetch(new URL(url, issuer), { method: form ? "POST" : "GET", redirect: "manual", headers, ...(form && { body: new URLSearchParams(form).toString() }) });
      for (const c of r.headers.getSetCookie()) {
        const [pair] = c.split(";");
        const eq = pair!.indexOf("=");
        jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
      }
      return { status: r.status, location: r.headers.get("location"), html: await r.text() };
    };
    const hidden = (html: string) => Object.fromEntries([...html.matchAll(/<input type="hidden" name="([\w-]+)" value="([^"]*)"\/>/g)].map((m) => [m[1]!, m[2]!]));
    // 1. The verification_uri_complete page auto-posts the code with its xsrf token.
    const entry = await request(`/device?user_code=${encodeURIComponent(userCode)}`);
    // 2. The confirmation page ("is this the code on your device?").
    const confirm = await request("/device", hidden(entry.html));
    const fields = hidden(confirm.html);
    if (fields.confirm !== "yes") throw new Error(`device verification: no confirmation form for ${userCode} (HTTP ${confirm.status})`);
    if (action === "abort") {
      delete fields.confirm;
      fields.abort = "yes";
    }
    let r = await request("/device", fields);
    // 3. Login and consent interactions (auto-answered by the server), then the success page.
    for (let hop = 0; r.location && hop < 10; hop++) r = await request(r.location);
    if (r.location || r.status >= 500) throw new Error(`device verification of ${userCode} stopped with HTTP ${r.status}`);
  }

  return control;
}
