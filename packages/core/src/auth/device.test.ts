/** Offline tests of the RFC 8628 polling rules against a local scripted endpoint, on a virtual clock. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthorizationError } from "./authorize.ts";
import { DEVICE_CODE_GRANT, runDeviceFlow, type DeviceClock, type DeviceFlowOptions } from "./device.ts";
import { TransientAuthError } from "./errors.ts";
import { MemoryTokenStore } from "./memory-store.ts";
import { startTokenServer, type Reply, type TestTokenServer } from "../../test-support/token-server.ts";
import { PermanentAuthError } from "./types.ts";

const SECRET = "device-client-SECRET-77";
const DEVICE_CODE = "DEVICE-CODE-secret-0123456789";
let server: TestTokenServer;
let base: string;
/** The device authorization response; each test may change it. */
let authorization: Reply;
/** Scripted answers of successive token polls (the last one repeats). */
let polls: Reply[];

const pending: Reply = { status: 400, json: { error: "authorization_pending" } };
const slowDown: Reply = { status: 400, json: { error: "slow_down" } };
const tokens: Reply = { status: 200, json: { access_token: "AT-device", refresh_token: "RT-device", expires_in: 3600, token_type: "Bearer" } };

beforeEach(async () => {
  authorization = {
    status: 200,
    json: { device_code: DEVICE_CODE, user_code: "WDJB-MJHT", verification_uri: "https://example.com/device", verification_uri_complete: "https://example.com/device?user_code=WDJB-MJHT", expires_in: 600, interval: 3 },
  };
  polls = [tokens];
  let n = 0;
  server = await startTokenServer((req) => (req.path === "/device" ? authorization : (polls[Math.min(n++, polls.length - 1)] as Reply)));
  base = server.url.replace(/\/token$/, "");
});
afterEach(() => server.close());

/** A clock that jumps forward by each requested sleep; `sleeps` records them. */
function virtualClock(): DeviceClock & { sleeps: number[] } {
  let t = 1_700_000_000_000;
  const sleeps: number[] = [];
  return { sleeps, now: () => t, sleep: async (ms) => void (sleeps.push(ms), (t += ms)) };
}

function run(extra: Partial<DeviceFlowOptions> = {}) {
  const lines: string[] = [];
  const clock = virtualClock();
  const store = new MemoryTokenStore();
  const opts: DeviceFlowOptions = {
    deviceUrl: `${base}/device`,
    tokenUrl: `${base}/token`,
    clientId: "app-1",
    clientSecret: SECRET,
    scope: "wl.messenger wl.offline_access",
    store,
    accountKey: "echo",
    output: (l) => lines.push(l),
    clock,
    ...extra,
  };
  return { lines, clock, store, done: runDeviceFlow(opts) };
}

const tokenPolls = () => server.requests.filter((r) => r.path === "/token");

describe("device authorization grant (RFC 8628)", () => {
  it("requests a code, shows the URI and user code, polls at the server's interval and stores the tokens", async () => {
    polls = [pending, pending, tokens];
    const { lines, clock, store, done } = run();
    const result = await done;
    expect(server.requests[0]).toMatchObject({ path: "/device", form: { client_id: "app-1", client_secret: SECRET, scope: "wl.messenger wl.offline_access" } });
    for (const r of tokenPolls()) expect(r.form).toEqual({ client_id: "app-1", client_secret: SECRET, grant_type: DEVICE_CODE_GRANT, device_code: DEVICE_CODE });
    expect(clock.sleeps).toEqual([3000, 3000, 3000]);
    expect(result).toMatchObject({ via: "device", userCode: "WDJB-MJHT", polls: 3 });
    expect(await store.load("echo")).toMatchObject({ accessToken: "AT-device", refreshToken: "RT-device", expiresAt: 1_700_000_000_000 + 9000 + 3_600_000 });
    expect(lines).toContain("  https://example.com/device");
    expect(lines).toContain("and enter the code: WDJB-MJHT");
    expect(lines).toContain("Or open this link, which carries the code: https://example.com/device?user_code=WDJB-MJHT");
    expect(lines.filter((l) => l.startsWith("authorization_pending"))).toHaveLength(1);
    const all = lines.join("\n");
    for (const secret of [SECRET, DEVICE_CODE, "AT-device", "RT-device"]) expect(all).not.toContain(secret);
  });

  it("waits 5 s when the server sends no interval", async () => {
    delete (authorization as { json: Record<string, unknown> }).json.interval;
    polls = [pending, tokens];
    const { clock, done } = run();
    await done;
    expect(clock.sleeps).toEqual([5000, 5000]);
  });

  it("slow_down adds 5 s to the interval each time, for all later polls (§3.5)", async () => {
    authorization = { ...authorization, json: { ...(authorization as { json: object }).json, interval: 2 } };
    polls = [pending, slowDown, pending, slowDown, pending, tokens];
    const { lines, clock, done } = run();
    await done;
    expect(clock.sleeps).toEqual([2000, 2000, 7000, 7000, 12000, 12000]);
    expect(lines.filter((l) => l.startsWith("slow_down"))).toEqual([
      "slow_down: the server asked to poll less often; now every 7 s",
      "slow_down: the server asked to poll less often; now every 12 s",
    ]);
  });

  it("treats the §3.5 errors the same when a server sends them with HTTP 200", async () => {
    polls = [{ status: 200, json: { error: "authorization_pending" } }, { status: 200, json: { error: "slow_down" } }, tokens];
    const { clock, done } = run();
    await done;
    expect(clock.sleeps).toEqual([3000, 3000, 8000]);
  });

  it("access_denied: one line, AuthorizationError access_denied, no further polls", async () => {
    polls = [pending, { status: 400, json: { error: "access_denied" } }, tokens];
    const { store, done } = run({ botName: "echo" });
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
    expect(err).toMatchObject({ code: "access_denied", message: "access_denied: the request for echo was declined on the verification page" });
    expect(tokenPolls()).toHaveLength(2);
    expect(await store.load("echo")).toBeUndefined();
  });

  it("expired_token from the server ends the flow with a hint to start again", async () => {
    polls = [pending, { status: 400, json: { error: "expired_token" } }];
    const err = await run({ botName: "echo" }).done.catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "AuthorizationError", code: "expired_token" });
    expect((err as Error).message).toContain("run `botrun auth echo --device` again");
    expect(tokenPolls()).toHaveLength(2);
  });

  it("stops on its own after the code's expires_in, one poll at the deadline and none after", async () => {
    authorization = { ...authorization, json: { ...(authorization as { json: object }).json, expires_in: 10, interval: 4 } };
    polls = [pending];
    const { clock, done } = run();
    await expect(done).rejects.toMatchObject({ code: "expired_token" });
    expect(clock.sleeps).toEqual([4000, 4000, 4000]); // polls at 4, 8 and 12 s: never faster than the interval
    expect(tokenPolls()).toHaveLength(3);
  });

  it("--timeout shorter than the code's lifetime gives up with code timeout", async () => {
    polls = [pending];
    const { done } = run({ timeoutMs: 7000 });
    await expect(done).rejects.toMatchObject({ code: "timeout", message: "no approval within 7 s" });
    expect(tokenPolls()).toHaveLength(3);
  });

  it("backs off exponentially on 5xx (never below the interval), honouring Retry-After", async () => {
    authorization = { ...authorization, json: { ...(authorization as { json: object }).json, interval: 1 } };
    polls = [{ status: 503, json: {} }, { status: 503, json: {} }, { status: 503, json: {}, headers: { "retry-after": "30" } }, pending, tokens];
    const { clock, lines, done } = run();
    await done;
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 30000, 1000]);
    expect(lines.filter((l) => l.includes("HTTP 503"))).toHaveLength(3);
  });

  it("a device endpoint error (invalid_client) is permanent and polls nothing", async () => {
    authorization = { status: 401, json: { error: "invalid_client", error_description: `bad secret ${SECRET}` } };
    const err = await run().done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentAuthError);
    expect((err as Error).message).not.toContain(SECRET);
    expect(tokenPolls()).toHaveLength(0);
  });

  it("a redirect from the device endpoint is not followed: a configuration error naming OAUTH_DEVICE_URL", async () => {
    authorization = { status: 307, headers: { location: "https://elsewhere.example.com/device" } };
    const err = await run().done.catch((e: unknown) => e);
    expect(err).toMatchObject({ setting: "OAUTH_DEVICE_URL" });
    expect((err as Error).message).not.toContain(SECRET);
    expect(server.requests).toHaveLength(1);
  });

  it("a device authorization response without the required members is rejected, naming them", async () => {
    authorization = { status: 200, json: { device_code: "x", expires_in: 600 } };
    const err = await run().done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientAuthError);
    expect((err as Error).message).toContain("without user_code, verification_uri");
  });

  it("strips terminal control sequences from what the server asks to display", async () => {
    authorization = { ...authorization, json: { ...(authorization as { json: object }).json, user_code: "AB\u001b[2JCD" } };
    const { lines, done } = run();
    await done;
    expect(lines).toContain("and enter the code: AB[2JCD");
  });

  it("shows verification_uri_complete as a QR code when a renderer gives one", async () => {
    const seen: string[] = [];
    const { lines, done } = run({ qr: async (text) => (seen.push(text), ["QR-LINE-1", "QR-LINE-2"]) });
    await done;
    expect(seen).toEqual(["https://example.com/device?user_code=WDJB-MJHT"]);
    expect(lines).toEqual(expect.arrayContaining(["Or scan this QR code, which carries the code:", "QR-LINE-1", "QR-LINE-2"]));
    expect(lines.some((l) => l.startsWith("Or open this link"))).toBe(false);
  });

  it("HTTP Basic client authentication when asked (RFC 6749 §2.3.1)", async () => {
    await run({ clientAuth: "basic" }).done;
    for (const r of server.requests) {
      expect(r.headers.authorization).toBe("Basic " + Buffer.from(`app-1:${SECRET}`).toString("base64"));
      expect(r.form.client_secret).toBeUndefined();
    }
  });

  it("an abort while waiting ends the flow (aborted) without another poll", async () => {
    polls = [pending];
    const ac = new AbortController();
    let t = 0;
    const clock: DeviceClock = {
      now: () => t,
      sleep: async (ms, signal) => {
        if (tokenPolls().length === 2) ac.abort();
        if (signal?.aborted) throw new Error("aborted");
        t += ms;
      },
    };
    await expect(run({ clock, signal: ac.signal }).done).rejects.toMatchObject({ code: "aborted" });
    expect(tokenPolls()).toHaveLength(2);
  });
});
