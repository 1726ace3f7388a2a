// The accounts of a bot's fleet as data in Redis: import (JSON lines), list (owner, state, last refresh), remove; credentials sealed at rest.
import type { TokenSet } from "@botrun/core";
import { ConfigError } from "@botrun/core";
import { FleetKeys } from "./keys.ts";
import type { FleetRedis } from "./redis.ts";
import type { SecretBox } from "./secret-box.ts";

/** One account as imported: a bare JID and either a refresh token or a password, plus optional setting overrides. */
export interface AccountInput {
  jid: string;
  refreshToken?: string;
  password?: string;
  /** Per-account values of shared settings (`XMPP_SERVICE`, `XMPP_RESOURCE`, `OAUTH_SCOPE`…). */
  overrides?: Record<string, string>;
}

/** An account's state: `ready` (can run), `consent` (its grant is gone: re-import a refresh token). */
export type AccountState = "ready" | "consent";

/** What `list()` reports of one account; never a credential. */
export interface AccountInfo {
  jid: string;
  state: AccountState;
  /** Worker id of the lease holder, if any. */
  owner: string | undefined;
  /** Lease generation (fencing number) of the current holder. */
  generation: number | undefined;
  /** Last successful token refresh (epoch ms). */
  lastRefresh: number | undefined;
  /** Why the state is not `ready`. */
  reason: string | undefined;
  kind: "oauth" | "password";
}

/** An account's secrets, opened: for the worker that holds its lease. */
export interface AccountCredentials {
  jid: string;
  password?: string;
  overrides: Record<string, string>;
}

/** Settings an account may not override: secrets and the fleet's own. */
const FORBIDDEN_OVERRIDE = /^(BOTRUN_FLEET_|OAUTH_CLIENT_SECRET$|XMPP_PASSWORD$|XMPP_ACCESS_TOKEN$|OAUTH_REFRESH_TOKEN$)/;
const BARE_JID = /^[^@/\s]+@[^@/\s]+$/;
const MAX_LINE = 64 * 1024;

/** Parse a JSON-lines account file; throws ConfigError naming the line (never echoing secrets). */
export function parseAccountLines(text: string, source: string): AccountInput[] {
  const out: AccountInput[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const where = `${source} line ${i + 1}`;
    if (!line.trim()) return;
    if (line.length > MAX_LINE) throw new ConfigError(where, `a JSON object under ${MAX_LINE} characters`);
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new ConfigError(where, 'a JSON object like {"jid":"a@example.org","refreshToken":"…"}');
    }
    const a = v as Partial<Record<keyof AccountInput, unknown>>;
    if (typeof v !== "object" || v === null || typeof a.jid !== "string" || !BARE_JID.test(a.jid.trim())) {
      throw new ConfigError(where, 'a "jid" that is a bare JID (name@domain)');
    }
    const jid = a.jid.trim().toLowerCase();
    const hasToken = typeof a.refreshToken === "string" && a.refreshToken.length > 0;
    const hasPassword = typeof a.password === "string" && a.password.length > 0;
    if (hasToken === hasPassword) throw new ConfigError(where, `exactly one of "refreshToken" or "password" for ${jid}`);
    if (seen.has(jid)) throw new ConfigError(where, `each JID once (${jid} appears again)`);
    seen.add(jid);
    const overrides: Record<string, string> = {};
    if (a.overrides !== undefined) {
      if (typeof a.overrides !== "object" || a.overrides === null) throw new ConfigError(where, '"overrides" as an object of setting names to strings');
      for (const [k, val] of Object.entries(a.overrides)) {
        if (typeof val !== "string" || !/^[A-Z][A-Z0-9_]*$/.test(k) || FORBIDDEN_OVERRIDE.test(k)) {
          throw new ConfigError(where, `"overrides" of shared settings with string values (not ${k})`);
        }
        overrides[k] = val;
      }
    }
    out.push({ jid, overrides, ...(hasToken ? { refreshToken: a.refreshToken as string } : { password: a.password as string }) });
  });
  return out;
}

/** One bot's accounts in Redis. */
export class AccountStore {
  readonly keys: FleetKeys;

  constructor(
    readonly redis: FleetRedis,
    readonly box: SecretBox,
    bot: string,
  ) {
    this.keys = new FleetKeys(bot);
  }

  /** Store (or replace) accounts: sealed credentials, a new token record version, state `ready`. */
  async import(accounts: readonly AccountInput[]): Promise<number> {
    const now = Date.now();
    for (let i = 0; i < accounts.length; i += 200) {
      const batch = this.redis.multi();
      for (const a of accounts.slice(i, i + 200)) {
        const key = this.keys.account(a.jid);
        const cred: Omit<AccountCredentials, "jid"> = { overrides: a.overrides ?? {}, ...(a.password !== undefined && { password: a.password }) };
        const tok: TokenSet = a.refreshToken ? { refreshToken: a.refreshToken, meta: { source: "import" } } : {};
        batch.hset(key, "cred", this.box.seal(JSON.stringify(cred), `${a.jid}#cred`), "tok", this.box.seal(JSON.stringify(tok), `${a.jid}#tok`));
        batch.hset(key, "kind", a.refreshToken ? "oauth" : "password", "state", "ready", "reason", "", "importedAt", String(now));
        batch.hincrby(key, "tokv", 1);
        batch.sadd(this.keys.accounts, a.jid);
        batch.srem(this.keys.consent, a.jid);
      }
      await batch.exec();
    }
    return accounts.length;
  }

  /** Every account JID, sorted. */
  async jids(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.accounts)).sort();
  }

  /** Owner, state and last refresh of every account. */
  async list(): Promise<AccountInfo[]> {
    const jids = await this.jids();
    const p = this.redis.pipeline();
    for (const jid of jids) {
      p.hmget(this.keys.account(jid), "state", "refreshedAt", "reason", "kind");
      p.get(this.keys.lease(jid));
    }
    const res = (await p.exec()) ?? [];
    return jids.map((jid, i) => {
      const [state, refreshedAt, reason, kind] = (res[2 * i]?.[1] as (string | null)[] | undefined) ?? [];
      const lease = parseLease(res[2 * i + 1]?.[1] as string | null | undefined);
      return {
        jid,
        state: state === "consent" ? "consent" : "ready",
        owner: lease?.worker,
        generation: lease?.generation,
        lastRefresh: refreshedAt ? Number(refreshedAt) : undefined,
        reason: reason || undefined,
        kind: kind === "password" ? "password" : "oauth",
      };
    });
  }

  /** The accounts that can run (imported, not waiting for consent): two commands, whatever the count. */
  async runnable(): Promise<string[]> {
    const res = (await this.redis.multi().smembers(this.keys.accounts).smembers(this.keys.consent).exec()) ?? [];
    const all = (res[0]?.[1] as string[] | undefined) ?? [];
    const stopped = new Set((res[1]?.[1] as string[] | undefined) ?? []);
    return all.filter((j) => !stopped.has(j));
  }

  /** Remove an account; its owner hands it off at its next round. False if there was none. */
  async remove(jid: string): Promise<boolean> {
    const j = jid.trim().toLowerCase();
    const [[, removed] = []] = (await this.redis.multi().srem(this.keys.accounts, j).del(this.keys.account(j)).srem(this.keys.consent, j).exec()) ?? [];
    return Number(removed) > 0;
  }

  /** The account's opened credentials, or undefined if it is gone. */
  async credentials(jid: string): Promise<AccountCredentials | undefined> {
    const sealed = await this.redis.hget(this.keys.account(jid), "cred");
    if (!sealed) return undefined;
    const c = JSON.parse(this.box.open(sealed, `${jid}#cred`)) as Omit<AccountCredentials, "jid">;
    return { jid, overrides: c.overrides ?? {}, ...(c.password !== undefined && { password: c.password }) };
  }
}

/** A lease value `<worker>:<epoch>:<generation>` split up (worker ids may contain ':'). */
export function parseLease(value: string | null | undefined): { worker: string; epoch: string; generation: number } | undefined {
  if (!value) return undefined;
  const parts = value.split(":");
  if (parts.length < 3) return undefined;
  const generation = Number(parts.pop());
  const epoch = parts.pop()!;
  return { worker: parts.join(":"), epoch, generation };
}
