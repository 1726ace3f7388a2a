// Test helpers for the fleet suites: spawn `botrun fleet <bot>` workers (real OS processes), read
// lease owners from Redis, and probe accounts: a chat message to each bare JID through a real peer,
// counting the echoes per probe id (so a double session shows up as a second echo of one id).
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { xml, type Element } from "@botrun/core";
import { parseLease, type FleetRedis } from "@botrun/fleet";
import { spawnBotrun, type BotrunProcess } from "../soak/botrun-process.ts";
import { startRawClient, type RawClient } from "../real/helpers/raw-client.ts";
import type { OAuthServerHandle } from "./oauth-server.ts";
import type { ProsodyHandle, ProsodyOptions } from "./prosody.ts";

/** The settings of a test fleet's workers: the shared server settings, Redis, secret, lease TTL, JSON logs. */
export function fleetEnv(o: {
  prosody: { c2sPort: number; caFile: string };
  redisUrl: string;
  secret: string;
  ttlS: number;
  oauth?: { tokenUrl: string; clientId: string; clientSecret: string };
}): Record<string, string> {
  return {
    XMPP_SERVICE: `xmpp://127.0.0.1:${o.prosody.c2sPort}`,
    XMPP_DOMAIN: "localhost",
    XMPP_CA_FILE: o.prosody.caFile,
    ...(o.oauth && { OAUTH_TOKEN_URL: o.oauth.tokenUrl, OAUTH_CLIENT_ID: o.oauth.clientId, OAUTH_CLIENT_SECRET: o.oauth.clientSecret }),
    BOTRUN_FLEET_REDIS: o.redisUrl,
    BOTRUN_FLEET_SECRET: o.secret,
    BOTRUN_FLEET_LEASE_TTL: String(o.ttlS),
    BOTRUN_LOG_FORMAT: "json",
  };
}

/** Prosody's options for X-MESSENGER-OAUTH2 tokens checked by `oauth`'s introspection. */
export function introspectedBy(oauth: OAuthServerHandle): Pick<ProsodyOptions, "oauth"> {
  return { oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret } };
}

/** Register `peer` on the test Prosody and log it in (resource `probe`): the client that probes the accounts. */
export async function startFleetPeer(prosody: ProsodyHandle): Promise<RawClient> {
  await prosody.register("peer", "peer-pw");
  return startRawClient({ host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost", username: "peer", password: "peer-pw", caFile: prosody.caFile, resource: "probe" });
}

/**
 * Create Prosody accounts by writing its internal storage files (`data/<host>/accounts/<user>.dat`
 * with a plaintext password, which mod_auth_internal_hashed hashes at the first login): thousands
 * per second, where `prosodyctl register` takes ~90 ms each. Usernames must be [a-z0-9] only.
 */
export async function writeProsodyAccounts(prosody: ProsodyHandle, accounts: ReadonlyArray<readonly [user: string, password: string]>): Promise<void> {
  const dir = path.join(prosody.dataDir, "data", "localhost", "accounts");
  await mkdir(dir, { recursive: true });
  for (const [user, password] of accounts) {
    if (!/^[a-z0-9]+$/.test(user)) throw new Error(`writeProsodyAccounts: ${user}: letters and digits only`);
    await writeFile(path.join(dir, `${user}.dat`), `return {\n\t["password"] = ${JSON.stringify(password)};\n};\n`);
  }
}

/** A spawned worker. */
export interface WorkerProcess extends BotrunProcess {
  id: string;
}

/** Spawn `botrun fleet <bot>` with worker id `id`. */
export function spawnFleetWorker(bot: string, id: string, env: Record<string, string>): WorkerProcess {
  return Object.assign(spawnBotrun(["fleet", bot], { ...env, BOTRUN_WORKER_ID: id }), { id });
}

/** Lease owner (worker id) of each account, from Redis. */
export async function leaseOwners(redis: FleetRedis, bot: string, jids: readonly string[]): Promise<Map<string, string | undefined>> {
  const values = jids.length ? await redis.mget(...jids.map((j) => `botrun:fleet:${bot}:lease:{${j}}`)) : [];
  return new Map(jids.map((j, i) => [j, parseLease(values[i])?.worker]));
}

/** Sends probes to accounts and counts the echoes of each probe id. */
export class AccountProbe {
  /** Echoes per probe id. */
  readonly echoes = new Map<string, number>();
  /** Account of each probe id. */
  readonly target = new Map<string, string>();
  #seq = 0;
  #waiters = new Set<() => void>();

  constructor(readonly peer: RawClient, readonly tag: string) {
    peer.xmpp.on("stanza", (el: Element) => {
      if (!el.is("message") || el.attrs.type === "error") return;
      const body = el.getChildText("body") ?? "";
      if (!body.startsWith(`${tag}:`) || !this.target.has(body)) return;
      this.echoes.set(body, (this.echoes.get(body) ?? 0) + 1);
      for (const w of this.#waiters) w();
    });
  }

  /** Send one probe to `jid`'s bare JID; returns its id. */
  send(jid: string): string {
    const id = `${this.tag}:${jid}:${++this.#seq}`;
    this.target.set(id, jid);
    void this.peer.xmpp.send(xml("message", { to: jid, type: "chat", id }, xml("body", {}, id))).catch(() => undefined);
    return id;
  }

  /**
   * Probe every account until each has echoed one probe: a fresh probe every `resendMs` to those
   * still silent (a message may land in a session that is going away). Resolves with the time (ms
   * since the call) at which each account first answered; rejects after `timeoutMs` naming the silent ones.
   */
  async answerAll(jids: readonly string[], timeoutMs: number, resendMs = 2000): Promise<Map<string, number>> {
    const start = Date.now();
    const answered = new Map<string, number>();
    const mine = new Map<string, string>();
    const sendTo = (j: string) => mine.set(this.send(j), j);
    jids.forEach(sendTo);
    let lastSend = Date.now();
    for (;;) {
      for (const [id, j] of mine) if (!answered.has(j) && (this.echoes.get(id) ?? 0) > 0) answered.set(j, Date.now() - start);
      const silent = jids.filter((j) => !answered.has(j));
      if (silent.length === 0) return answered;
      if (Date.now() - start > timeoutMs) throw new Error(`no answer within ${timeoutMs} ms from ${silent.join(", ")}`);
      if (Date.now() - lastSend >= resendMs) {
        silent.forEach(sendTo);
        lastSend = Date.now();
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 200);
        function done() {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        }
        const waiters = this.#waiters;
        waiters.add(done);
      });
    }
  }

  /** Probe ids echoed more than once (a double session, or a redelivery answered twice). */
  duplicates(): string[] {
    return [...this.echoes].filter(([, n]) => n > 1).map(([id]) => id);
  }
}
