// ctx.account on the wire: one `botrun fleet` worker process (real redis-server, real Prosody)
// serving two password accounts with one bot definition; a real peer writes to both. Each reply
// names the account it came to, and the session plugin's default per-chat state is per account
// (the same peer talking to two accounts gets two counters, not one shared).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { xml, type Element } from "@botrun/core";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { pidAlive } from "../env/proc.ts";
import { startRedis, type RedisServer } from "../env/redis.ts";
import { fleetEnv, spawnFleetWorker, startFleetPeer, writeProsodyAccounts, type WorkerProcess } from "../env/fleet.ts";
import type { RawClient } from "./helpers/raw-client.ts";
import { spawnBotrun, waitUntil } from "../soak/botrun-process.ts";

const BOT = fileURLToPath(new URL("./fixtures/fleet-account-bot.ts", import.meta.url));
const ACCOUNTS = [["fa1", "fa1-pw"], ["fa2", "fa2-pw"]] as const;
const JIDS = ACCOUNTS.map(([u]) => `${u}@localhost`);

let redis: RedisServer;
let prosody: ProsodyHandle;
let peer: RawClient;
let worker: WorkerProcess | undefined;
let dir: string;
const pids: number[] = [];
const replies: string[] = [];

const env = () => fleetEnv({ prosody, redisUrl: redis.url, secret: "fleet-account-secret-0123456789ab", ttlS: 3 });

beforeAll(async () => {
  [redis, prosody] = await Promise.all([startRedis(), startProsody()]);
  pids.push(redis.pid, prosody.pid);
  await writeProsodyAccounts(prosody, ACCOUNTS);
  peer = await startFleetPeer(prosody);
  peer.xmpp.on("stanza", (el: Element) => {
    if (el.is("message") && el.attrs.type !== "error" && el.getChildText("body")) replies.push(el.getChildText("body")!);
  });
  dir = mkdtempSync(path.join(tmpdir(), "fleet-account-"));
});

afterAll(async () => {
  await worker?.stop(5000);
  await peer?.stop();
  await Promise.all([prosody?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

describe("ctx.account in a fleet worker", () => {
  it("each reply names its account; the default session key keeps the peer's state per account", async () => {
    const file = path.join(dir, "accounts.jsonl");
    writeFileSync(file, ACCOUNTS.map(([u, password]) => JSON.stringify({ jid: `${u}@localhost`, password })).join("\n") + "\n");
    const imp = spawnBotrun(["accounts", "import", BOT, file], env());
    expect(await imp.exited, imp.output()).toBe(0);
    worker = spawnFleetWorker(BOT, "wacct", env());
    pids.push(worker.child.pid!);
    const say = (to: string, body: string) => peer.xmpp.send(xml("message", { to, type: "chat", id: body }, xml("body", {}, body)));
    // Until both accounts are online: a probe each, resent while silent.
    await waitUntil(async () => {
      for (const j of JIDS) if (!replies.some((r) => r.startsWith(`${j} `))) await say(j, "probe");
      return JIDS.every((j) => replies.some((r) => r.startsWith(`${j} `)));
    }, 40_000, () => worker!.output(), 1000);
    await say(JIDS[0]!, "one");
    await say(JIDS[1]!, "two");
    await waitUntil(() => replies.some((r) => r.endsWith(" one")) && replies.some((r) => r.endsWith(" two")), 10_000, () => worker!.output());
    // Per account, its replies count 1, 2, 3…: a state shared by the two accounts would leave gaps in
    // the second one's numbers. (Replies of one account reach the peer in order, so all of an
    // account's earlier replies are in once its last one is.)
    for (const [j, last] of [[JIDS[0]!, "one"], [JIDS[1]!, "two"]] as const) {
      const mine = replies.filter((r) => r.startsWith(`${j} #`));
      expect(mine.at(-1), replies.join("\n")).toMatch(new RegExp(` ${last}$`));
      expect(mine.map((r) => Number(r.split(" ")[1]!.slice(1))), replies.join("\n")).toEqual(mine.map((_, i) => i + 1));
    }
  });
});
