// BOTRUN_VERSION_OS: `botrun <bot>` reports the OS in XEP-0092 replies only when it is set to true;
// a value that is not a boolean is a configuration error naming the setting (exit 2).
import os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../logger.ts";
import { startFakeServer, until, type FakeServer } from "../../test-support/fake-server.ts";
import { runBots } from "./run.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Run the echo bot on a fake server, ask it for its version, then end the run (the next login is refused: exit 3). */
async function versionReply(extra: Record<string, string>): Promise<{ reply: string; code: number }> {
  const s = (server = await startFakeServer({ mechanisms: ["PLAIN"], verdict: (_a, n) => (n === 1 ? "success" : "not-authorized") }));
  const run = runBots({
    bots: ["echo"], mode: "xmpp", debug: false, envFiles: [], cwd: ROOT, signals: false, logger: silentLogger, errorLine: () => {},
    env: {
      PATH: process.env.PATH, XMPP_SERVICE: `xmpp://127.0.0.1:${s.port}`, XMPP_DOMAIN: "localhost", XMPP_ALLOW_INSECURE: "1",
      XMPP_USERNAME: "bot", XMPP_PASSWORD: "version-pw-1", XMPP_MECHANISM: "PLAIN", XMPP_RECONNECT_BASE_DELAY: "0.01", ...extra,
    },
  });
  // The bot's initial presence follows its roster get (RFC 6121 §2.2): answered, not left to time out (5 s).
  await until(() => /<iq [^>]*>\s*<query xmlns="jabber:iq:roster"/.test(s.rawBy[0] ?? ""));
  const rosterId = /<iq [^>]*id="([^"]+)"[^>]*>\s*<query xmlns="jabber:iq:roster"/.exec(s.rawBy[0]!)![1];
  s.write(1, `<iq type='result' id='${rosterId}' to='bot@localhost/r1'><query xmlns='jabber:iq:roster'/></iq>`);
  await until(() => /<presence/.test(s.rawBy[0] ?? ""));
  s.write(1, `<iq type='get' id='ver1' from='alice@localhost/x' to='bot@localhost/r1'><query xmlns='jabber:iq:version'/></iq>`);
  await until(() => /<iq [^>]*id="ver1"[\s\S]*?<\/iq>/.test(s.rawBy[0]!));
  const reply = s.rawBy[0]!.match(/<iq [^>]*id="ver1"[\s\S]*?<\/iq>/)![0];
  s.dropAll();
  return { reply, code: await run };
}

describe("BOTRUN_VERSION_OS", () => {
  it("true: the XEP-0092 reply names the OS; unset: it does not", async () => {
    const on = await versionReply({ BOTRUN_VERSION_OS: "true" });
    expect(on.reply).toContain(`<os>${os.type()} ${os.release()}</os>`);
    expect(on.code).toBe(3);
    await server!.close();
    const off = await versionReply({});
    expect(off.reply).toContain("<name>botrun</name>");
    expect(off.reply).not.toContain("<os>");
  });

  it("not a boolean: one line naming the setting, exit 2", async () => {
    const lines: string[] = [];
    const code = await runBots({
      bots: ["echo"], mode: "xmpp", debug: false, envFiles: [], cwd: ROOT, signals: false, logger: silentLogger, errorLine: (l) => lines.push(l),
      env: { PATH: process.env.PATH, XMPP_SERVICE: "xmpp://127.0.0.1:1", XMPP_ALLOW_INSECURE: "1", XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", BOTRUN_VERSION_OS: "sometimes" },
    });
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/BOTRUN_VERSION_OS/);
  });
});
