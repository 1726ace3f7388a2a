// `botrun auth echo --account <jid> --device` on real parts (redis-server, the OAuth test server's
// device flow, Prosody, one `botrun fleet echo` worker process): an account whose grant is dead is
// stopped for consent and not online; the device flow approved, its tokens land sealed in the
// account's record (the refresh token never in clear in Redis) and the running worker brings the
// account online without a restart. Wrong use: one line, exit 2.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeRedis, connectRedis, SecretBox, type FleetRedis } from "@botrun/fleet";
import type { TokenSet } from "@botrun/core";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { pidAlive } from "../env/proc.ts";
import { startRedis, type RedisServer } from "../env/redis.ts";
import { AccountProbe, fleetEnv, introspectedBy, startFleetPeer, spawnFleetWorker, type WorkerProcess } from "../env/fleet.ts";
import type { RawClient } from "./helpers/raw-client.ts";
import { startBotrun } from "./helpers/botrun-process.ts";
import { waitUntil } from "../soak/botrun-process.ts";

const SECRET = "fleet-auth-secret-0123456789abcdef";
const USER = "fc0";
const JID = `${USER}@localhost`;
const ACCT = `botrun:fleet:echo:acct:{${JID}}`;
const DEAD_GRANT = "a-refresh-token-the-server-never-issued";

let redis: RedisServer;
let oauth: OAuthServerHandle;
let prosody: ProsodyHandle;
let peer: RawClient;
let r: FleetRedis;
let dir: string;
let worker: WorkerProcess | undefined;
const pids: number[] = [];

const env = (): Record<string, string> => ({
  ...fleetEnv({ prosody, redisUrl: redis.url, secret: SECRET, ttlS: 3, oauth }),
  OAUTH_ISSUER: oauth.issuer,
  OAUTH_SCOPE: "openid offline_access wl.messenger",
});

/** Run `botrun ARGS` to its end. */
async function cli(args: string[], e: Record<string, string>): Promise<{ code: number; lines: string[] }> {
  const p = startBotrun(args, e);
  pids.push(p.pid);
  return { code: await p.exited, lines: p.lines };
}

beforeAll(async () => {
  [redis, oauth] = await Promise.all([startRedis(), startOAuthServer({ device: { interval: 1 }, loginUser: USER })]);
  prosody = await startProsody(introspectedBy(oauth));
  pids.push(prosody.pid, redis.pid);
  await prosody.register(USER, "unused-password-1");
  dir = mkdtempSync(path.join(tmpdir(), "fleet-auth-"));
  r = connectRedis(redis.url);
  peer = await startFleetPeer(prosody);
});

afterAll(async () => {
  await worker?.stop(5000);
  await peer?.stop();
  if (r) await closeRedis(r);
  await Promise.all([prosody?.stop(), oauth?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

describe("botrun auth --account: consent into a fleet account", () => {
  it("wrong use is one line and exit 2: no BOTRUN_FLEET_REDIS, an unknown account, no BOTRUN_FLEET_SECRET", async () => {
    const { BOTRUN_FLEET_REDIS: _r, ...noRedis } = env();
    const { BOTRUN_FLEET_SECRET: _s, ...noSecret } = env();
    const [a, b, c] = await Promise.all([
      cli(["auth", "echo", "--account", JID, "--device"], noRedis),
      cli(["auth", "echo", "--account", "nobody@localhost", "--device"], env()),
      cli(["auth", "echo", "--account", JID, "--device"], noSecret),
    ]);
    expect(a).toEqual({ code: 2, lines: ["botrun auth: BOTRUN_FLEET_REDIS: expected the fleet's Redis URL (or --redis) with --account: the account's tokens are stored there"] });
    expect(b.code).toBe(2);
    expect(b.lines).toEqual([expect.stringMatching(/^botrun auth: --account: expected an account of echo's fleet \(no nobody@localhost: import it/)]);
    expect(c.code).toBe(2);
    expect(c.lines).toEqual([expect.stringMatching(/^botrun auth: BOTRUN_FLEET_SECRET: expected a secret/)]);
    expect(oauth.device.userCodes).toEqual([]); // nobody was sent to a consent page
  });

  it("an account whose grant is dead waits for consent; `botrun auth --account --device` approved: the running worker brings it online", async () => {
    const file = path.join(dir, "accounts.jsonl");
    writeFileSync(file, JSON.stringify({ jid: JID, refreshToken: DEAD_GRANT }) + "\n", { mode: 0o600 });
    expect(await cli(["accounts", "import", "echo", file], env())).toMatchObject({ code: 0 });
    worker = spawnFleetWorker("echo", "w1", env());
    pids.push(worker.child.pid!);
    // The refresh is refused (invalid_grant): the account is stopped for consent, not online.
    await waitUntil(async () => (await r.hget(ACCT, "state")) === "consent", 30_000, () => worker!.output().slice(-3000));
    expect(await r.sismember("botrun:fleet:echo:consent", JID)).toBe(1);
    await waitUntil(async () => (await r.get(`botrun:fleet:echo:lease:{${JID}}`)) === null, 15_000, () => worker!.output().slice(-3000));
    const versionBefore = Number(await r.hget(ACCT, "tokv"));

    const auth = startBotrun(["auth", "echo", "--account", JID, "--device"], env());
    pids.push(auth.pid);
    const userCode = /^and enter the code: (\S+)$/.exec(await auth.waitLine(/^and enter the code: /, 30_000))![1]!;
    await oauth.device.approve(userCode);
    expect(await auth.exited).toBe(0);
    expect(auth.lines).toContain(`Authorized echo: tokens stored in fleet account ${JID} (sealed in Redis; its worker starts it within a round).`);

    // Sealed: the hash holds no token in clear; opened with the secret it is the device grant's.
    const hash = await r.hgetall(ACCT);
    const tokens = JSON.parse(new SecretBox(SECRET).open(hash.tok!, `${JID}#tok`)) as TokenSet;
    expect(tokens.refreshToken).toBeTruthy();
    expect(tokens.refreshToken).not.toBe(DEAD_GRANT);
    for (const secret of [tokens.refreshToken!, tokens.accessToken!]) {
      expect(JSON.stringify(hash)).not.toContain(secret);
      expect(auth.lines.join("\n")).not.toContain(secret);
    }
    expect(hash).toMatchObject({ state: "ready", reason: "" });
    expect(Number(hash.tokv)).toBe(versionBefore + 1);
    expect(await r.sismember("botrun:fleet:echo:consent", JID)).toBe(0);

    // The same worker process (never restarted) starts the account: its bare JID echoes.
    const probe = new AccountProbe(peer, "c");
    await probe.answerAll([JID], 30_000).catch((e: Error) => Promise.reject(new Error(`${e.message}\n${worker!.output().slice(-3000)}`)));
    expect(worker.child.exitCode).toBeNull();
    expect(worker.output()).toMatch(/account has consent again; starting it/);
    expect(worker.output()).not.toContain(tokens.refreshToken!);
  }, 90_000);
});
