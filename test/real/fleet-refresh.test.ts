// A refresh token is never sent twice, even by a worker paused mid-refresh, on real parts: redis-server,
// Prosody validating tokens by introspection, the OAuth test server (strict rotation) behind a gate
// that counts every refresh token presented, and two `botrun fleet echo` processes. The gate STOPs
// the owner the moment its refresh arrives, forwards it (the server rotates), and holds the answer
// longer than the lease TTL many times over, the old refresh lock's 20 s and the request timeout;
// meanwhile the other worker takes the account over and must not spend the stored refresh token.
// Then the answer goes out and the owner is CONTinued: 0 reuses, the account online, one session.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeRedis, connectRedis, ownerOf, type FleetRedis } from "@botrun/fleet";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { freePort, pidAlive } from "../env/proc.ts";
import { startRedis, type RedisServer } from "../env/redis.ts";
import { startOAuthGate, type OAuthGate } from "../env/fleet-oauth-gate.ts";
import { AccountProbe, fleetEnv, introspectedBy, startFleetPeer, leaseOwners, spawnFleetWorker, type WorkerProcess } from "../env/fleet.ts";
import type { RawClient } from "./helpers/raw-client.ts";
import { scrape, spawnBotrun, waitUntil } from "../soak/botrun-process.ts";

const SECRET = "fleet-refresh-secret-0123456789ab";
const TTL_S = 2;
/** The held answer: above 2× the lease TTL, the old lock's 20 s and the 15 s request timeout. */
const HOLD_MS = Number(process.env.FLEET_REFRESH_HOLD_MS ?? 22_000);
const ACCESS_TTL_S = 8;
const SCOPE = "openid offline_access wl.messenger";
/** An account rendezvous gives to "wa" (the worker that will be paused). */
const USER = (() => {
  for (let i = 0; ; i++) if (ownerOf(`fr${i}@localhost`, ["wa", "wb"]) === "wa") return `fr${i}`;
})();
const JID = `${USER}@localhost`;

let redis: RedisServer;
let oauth: OAuthServerHandle;
let gate: OAuthGate;
let prosody: ProsodyHandle;
let peer: RawClient;
let r: FleetRedis;
let dir: string;
const workers = new Map<string, WorkerProcess>();
const pids: number[] = [];
const owner = async () => (await leaseOwners(r, "echo", [JID])).get(JID);
/** The running workers' last output, for failure messages. */
const logs = () => [...workers.values()].map((w) => `--- ${w.id}\n${w.output().slice(-4000)}`).join("\n");

beforeAll(async () => {
  [redis, oauth] = await Promise.all([startRedis(), startOAuthServer({ accessTtl: ACCESS_TTL_S, loginUser: USER })]);
  gate = await startOAuthGate(oauth.tokenUrl);
  prosody = await startProsody(introspectedBy(oauth));
  pids.push(prosody.pid, redis.pid);
  await prosody.register(USER, "unused-password-1");
  dir = mkdtempSync(path.join(tmpdir(), "fleet-refresh-"));
  r = connectRedis(redis.url);
  peer = await startFleetPeer(prosody);
}, 60_000);

afterAll(async () => {
  for (const w of workers.values()) if (w.child.pid && pidAlive(w.child.pid)) w.child.kill("SIGCONT");
  await Promise.all([...workers.values()].map((w) => w.stop(5000)));
  await peer?.stop();
  if (r) await closeRedis(r);
  await Promise.all([prosody?.stop(), gate?.stop(), oauth?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

describe("a worker paused while its refresh request is in flight", () => {
  it("outlives its lease and any lock by far, and still no refresh token is sent twice; the account ends online with one session", async () => {
    const env = { ...fleetEnv({ prosody, redisUrl: redis.url, secret: SECRET, ttlS: TTL_S, oauth: { ...oauth, tokenUrl: gate.tokenUrl } }), OAUTH_SCOPE: SCOPE };
    const { refreshToken } = await oauth.issueTokens(USER, { scope: SCOPE });
    writeFileSync(path.join(dir, "a.jsonl"), JSON.stringify({ jid: JID, refreshToken }) + "\n", { mode: 0o600 });
    const imp = spawnBotrun(["accounts", "import", "echo", path.join(dir, "a.jsonl")], env);
    pids.push(imp.child.pid!);
    expect(await imp.exited).toBe(0);
    const httpPort = await freePort();
    for (const id of ["wa", "wb"]) {
      const w = spawnFleetWorker("echo", id, { ...env, ...(id === "wb" && { BOTRUN_HTTP_PORT: String(httpPort) }) });
      workers.set(id, w);
      pids.push(w.child.pid!);
    }
    const wa = workers.get("wa")!;
    const probe = new AccountProbe(peer, "r");
    await probe.answerAll([JID], 40_000).catch((e: Error) => Promise.reject(new Error(`${e.message}\n${logs()}`)));
    expect(await owner()).toBe("wa");

    // wa's next refresh (its access token lives 8 s): STOP wa on arrival, hold the rotated answer.
    const before = { ...gate.stats };
    let arrived = 0;
    let takenOver = false;
    let released!: () => void;
    const resumed = new Promise<void>((res) => (released = res));
    gate.holdNext({
      onArrive: () => {
        wa.child.kill("SIGSTOP");
        arrived = Date.now();
      },
      release: async () => {
        // The sibling takes the lease while wa sleeps (2 s TTL), then the hold runs its full length.
        await waitUntil(async () => (takenOver ||= (await owner()) === "wb"), 30_000, logs);
        await new Promise((res) => setTimeout(res, Math.max(0, arrived + HOLD_MS - Date.now()))); // the pause under test
      },
      onReleased: () => {
        wa.child.kill("SIGCONT");
        released();
      },
    });
    await resumed;
    expect(takenOver).toBe(true);
    // Held that long, the answer still reached wa, which stored the rotated token: the account comes back.
    await probe.answerAll([JID], 60_000).catch((e: Error) => Promise.reject(new Error(`${e.message}\n${logs()}`)));
    // Two more refreshes after the pause (by whichever worker owns it now), each with a new token.
    const after = gate.stats.refreshes;
    await waitUntil(() => gate.stats.refreshes >= after + 2, 40_000, logs);
    // Online, one session: probes answered (resent while a reconnect is under way), none twice.
    for (let i = 0; i < 3; i++) await probe.answerAll([JID], 60_000).catch((e: Error) => Promise.reject(new Error(`${e.message}\n${logs()}`)));
    expect(probe.duplicates()).toEqual([]);
    expect(gate.stats.refreshes).toBeGreaterThan(before.refreshes + 2);
    expect(gate.stats).toMatchObject({ reuses: 0, invalidGrants: 0 });
    // wb found wa's spend in flight and waited (metrics), instead of sending the same token.
    const metrics = await scrape(`http://127.0.0.1:${httpPort}`);
    const metric = (name: string) => [...metrics].find(([k]) => k.startsWith(name))?.[1];
    expect(metric("botrun_fleet_refresh_waits_total")).toBeGreaterThan(0);
    expect(metric("botrun_fleet_refresh_takeovers_total")).toBe(0);
    expect(wa.child.exitCode).toBeNull();
    // Every worker's whole output (not the tail that failure messages show).
    for (const w of workers.values()) expect(w.output()).not.toContain(refreshToken);
  }, 240_000);
});
