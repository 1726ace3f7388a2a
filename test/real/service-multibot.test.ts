// Several bots in one real `botrun` process against real Prosody: per-bot settings by prefix
// (ECHO_XMPP_USERNAME, SHOUT_XMPP_PASSWORD…), /readyz per bot, one bot failing (wrong password,
// exit code 3) while the other keeps answering, and the process exit code reporting the failure
// once all stopped. Also `botrun check`: one line per step and the exit code per exit-codes.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { freePort, pidAlive } from "../env/proc.ts";
import { EchoPeer } from "./helpers/echo-peer.ts";
import { readyz, spawnBotrun, waitUntil } from "../soak/botrun-process.ts";

let prosody: ProsodyHandle;
const pids: number[] = [];
const SHOUT = "test/offline/fixtures/shout-bot.ts";

beforeAll(async () => {
  prosody = await startProsody();
  pids.push(prosody.pid);
  await prosody.register("echo", "echo-pw-1");
  await prosody.register("shout", "shout-pw-1");
  await prosody.register("alice", "alice-pw-1");
});

afterAll(async () => {
  await prosody?.stop();
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

const common = () => ({
  XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
  XMPP_DOMAIN: "localhost",
  XMPP_CA_FILE: prosody.caFile,
  XMPP_START_ATTEMPTS: "1",
  BOTRUN_LOG_FORMAT: "json",
});

describe("several bots in one process", () => {
  it("both online: /readyz is 200 with each bot's JID; SIGTERM stops both with exit 0", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const p = spawnBotrun(["echo", SHOUT], {
      ...common(),
      BOTRUN_HTTP_PORT: String(port),
      ECHO_XMPP_USERNAME: "echo",
      ECHO_XMPP_PASSWORD: "echo-pw-1",
      SHOUT_XMPP_USERNAME: "shout",
      SHOUT_XMPP_PASSWORD: "shout-pw-1",
    });
    pids.push(p.child.pid!);
    try {
      await waitUntil(async () => (await readyz(url))?.status === 200, 30_000, () => p.output().slice(-2000));
      const r = await readyz(url);
      expect(r!.body.bots.echo).toMatchObject({ state: "online", jid: expect.stringMatching(/^echo@localhost\//) });
      expect(r!.body.bots.shout).toMatchObject({ state: "online", jid: expect.stringMatching(/^shout@localhost\//) });
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });

  it("one bot failing (wrong password) does not stop the other; the exit code reports it after SIGTERM", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const p = spawnBotrun(["echo", SHOUT], {
      ...common(),
      BOTRUN_HTTP_PORT: String(port),
      ECHO_XMPP_USERNAME: "echo",
      ECHO_XMPP_PASSWORD: "echo-pw-1",
      SHOUT_XMPP_USERNAME: "shout",
      SHOUT_XMPP_PASSWORD: "wrong-password",
    });
    pids.push(p.child.pid!);
    let peer: EchoPeer | undefined;
    try {
      await waitUntil(
        async () => {
          const r = await readyz(url);
          return r?.body.bots.echo?.state === "online" && r.body.bots.shout?.state === "failed";
        },
        30_000,
        () => p.output().slice(-2000),
      );
      const r = await readyz(url);
      expect(r!.status).toBe(503);
      expect(r!.body.bots.shout!.exitCode).toBe(3);
      expect(p.output()).toMatch(/botrun \[shout\]: .*XMPP_PASSWORD/);
      expect(p.output()).not.toContain("wrong-password");
      // The healthy bot still answers.
      peer = await EchoPeer.start({
        host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost",
        username: "alice", password: "alice-pw-1", caFile: prosody.caFile, bot: "echo@localhost",
      });
      for (let i = 0; i < 3; i++) peer.send();
      await peer.waitAllEchoed(15_000);
      expect(p.child.exitCode).toBe(null);
    } finally {
      await peer?.stop();
      expect(await p.stop()).toBe(3);
    }
  });
});

describe("botrun check", () => {
  const check = async (env: Record<string, string>) => {
    const p = spawnBotrun(["check", "echo"], env);
    pids.push(p.child.pid!);
    const code = await Promise.race([p.exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 60_000))]);
    if (code === "timeout") await p.stop(1000);
    return { code, lines: p.output().trim().split("\n") };
  };

  it("reports each step on one line and exits 0", async () => {
    const { code, lines } = await check({ ...common(), XMPP_USERNAME: "echo", XMPP_PASSWORD: "echo-pw-1" });
    expect(lines.map((l) => l.split(":")[0]!.replace(/ .*/, ""))).toEqual(["config", "DNS/SRV", "TCP", "TLS", "SASL", "bound", "disconnected"]);
    expect(lines[1]).toBe(`DNS/SRV ok: 127.0.0.1:${prosody.c2sPort} (XMPP_SERVICE)`);
    expect(lines[3]).toMatch(/^TLS ok: TLSv1\.[23] /);
    expect(lines[4]).toBe("SASL SCRAM-SHA-1 ok");
    expect(lines[5]).toMatch(/^bound echo@localhost\/.+/);
    expect(code).toBe(0);
  });

  it("a wrong password: the SASL step fails, exit 3, the password is not printed", async () => {
    const { code, lines } = await check({ ...common(), XMPP_USERNAME: "echo", XMPP_PASSWORD: "not-the-pw-9" });
    expect(lines.at(-1)).toMatch(/^SASL failed: .*not-authorized/);
    expect(lines.join("\n")).not.toContain("not-the-pw-9");
    expect(code).toBe(3);
  });

  it("nothing listening: the TCP step fails, exit 4", async () => {
    const port = await freePort();
    const { code, lines } = await check({ ...common(), XMPP_SERVICE: `xmpp://127.0.0.1:${port}`, XMPP_USERNAME: "echo", XMPP_PASSWORD: "x-pw-1234" });
    expect(lines.at(-1)).toMatch(/^TCP failed: .*ECONNREFUSED/);
    expect(code).toBe(4);
  });

  it("a configuration error names the setting, exit 2", async () => {
    const { code, lines } = await check({ ...common(), XMPP_USERNAME: "echo" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^config failed: .*XMPP_PASSWORD/);
    expect(code).toBe(2);
  });
});
