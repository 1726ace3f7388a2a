// Channel binding over real TLS connections (tls-exporter, tls-server-end-point, tls-unique, both
// ends agree), the choice of mechanism and GS2 flag (RFC 5802 §6, XEP-0440), and whole SASL
// exchanges through sasl.ts against a server-side SCRAM that checks the binding data.
import { EventEmitter } from "node:events";
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import xml, { type Element } from "@xmpp/xml";
import { ExitCode } from "../exit-codes.ts";
import { XmppAuthError } from "./errors.ts";
import { bindingData, serverEndPoint } from "./scram-channel-binding.ts";
import { advertisedBindings, authenticate, NS_SASL, NS_SASL_CB, planSasl, type PlanInput } from "./sasl.ts";
import { scramServer, tlsPair } from "../../test-support/scram-server.ts";
import type { ScramHash } from "./scram.ts";

const EXPORTER = ["EXPORTER-Channel-Binding", Buffer.alloc(0)] as const;
const EJABBERD = ["PLAIN", "SCRAM-SHA-512-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"];
const PROSODY = ["SCRAM-SHA-1", "PLAIN"];
const creds = { username: "bot", password: "pw" };

let t13: Awaited<ReturnType<typeof tlsPair>>;
let t12: Awaited<ReturnType<typeof tlsPair>>;
beforeAll(async () => {
  [t13, t12] = await Promise.all([tlsPair(), tlsPair({ maxVersion: "TLSv1.2" })]);
});
afterAll(async () => {
  await t13?.close();
  await t12?.close();
});

describe("channel-binding data", () => {
  it("TLS 1.3: tls-exporter equals the server's exporter (RFC 9266), tls-unique is undefined", () => {
    expect(t13.client.getProtocol()).toBe("TLSv1.3");
    const data = bindingData(t13.client, "tls-exporter")!;
    expect(data).toHaveLength(32);
    expect(data.equals(t13.server.exportKeyingMaterial(32, ...EXPORTER))).toBe(true);
    expect(bindingData(t13.client, "tls-unique")).toBeUndefined();
  });

  it("tls-server-end-point is the certificate's SHA-256 for ecdsa-with-SHA256 (RFC 5929 §4.1)", () => {
    const der = new X509Certificate(t13.certPem).raw;
    expect(bindingData(t13.client, "tls-server-end-point")!.equals(createHash("sha256").update(der).digest())).toBe(true);
  });

  it("TLS 1.2: tls-unique is the first Finished message, as the server sees it; no tls-exporter", () => {
    expect(t12.client.getProtocol()).toBe("TLSv1.2");
    expect(bindingData(t12.client, "tls-unique")!.equals(t12.server.getPeerFinished()!)).toBe(true);
    expect(bindingData(t12.client, "tls-exporter")).toBeUndefined();
  });

  it("tls-server-end-point follows the signature hash (SHA-384, SHA-1 → SHA-256) and is undefined for Ed25519", async () => {
    const cert = async (args: string[]) => {
      const { stdout } = await promisify(execFile)("sh", ["-c", `openssl req -x509 ${args.join(" ")} -nodes -keyout /dev/null -subj /CN=x -days 1 2>/dev/null`]);
      return new X509Certificate(stdout).raw;
    };
    const [p384, sha1, ed] = await Promise.all([
      cert(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1", "-sha384"]),
      cert(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-sha1"]),
      cert(["-newkey", "ed25519"]),
    ]);
    expect(serverEndPoint(p384)!.equals(createHash("sha384").update(p384).digest())).toBe(true);
    expect(serverEndPoint(sha1)!.equals(createHash("sha256").update(sha1).digest())).toBe(true);
    expect(serverEndPoint(ed)).toBeUndefined();
  });
});

describe("mechanism and GS2 flag", () => {
  const plan = (p: Partial<PlanInput> & { offered: string[] }) =>
    planSasl({ choice: { mechanism: "auto", credentials: creds }, secure: true, socket: t13.client, ...p });
  const flag = (p: ReturnType<typeof planSasl>) => (p.binding.flag === "p" ? `p=${p.binding.type}` : p.binding.flag);

  it("auto takes the strongest -PLUS with the best advertised type (XEP-0440)", () => {
    const both = plan({ offered: EJABBERD, advertised: ["tls-server-end-point", "tls-exporter"] });
    expect([both.mechanism, flag(both)]).toEqual(["SCRAM-SHA-512-PLUS", "p=tls-exporter"]);
    const endPoint = plan({ offered: EJABBERD, advertised: ["tls-server-end-point"] });
    expect([endPoint.mechanism, flag(endPoint)]).toEqual(["SCRAM-SHA-512-PLUS", "p=tls-server-end-point"]);
  });

  it("no mutual type, or TLS 1.3 without XEP-0440 (ejabberd 23.01): the plain SCRAM with n,,", () => {
    for (const advertised of [["tls-foo"], undefined]) {
      const p = plan({ offered: EJABBERD, advertised });
      expect([p.mechanism, flag(p)]).toEqual(["SCRAM-SHA-512", "n"]);
    }
  });

  it("TLS 1.2 without XEP-0440: tls-unique, RFC 5802's default", () => {
    const p = plan({ offered: EJABBERD, socket: t12.client });
    expect([p.mechanism, flag(p)]).toEqual(["SCRAM-SHA-512-PLUS", "p=tls-unique"]);
  });

  it("TLS and no -PLUS offered (Prosody 0.12 on TLS 1.3): y,, so a stripped -PLUS is detected; no TLS: n,,", () => {
    const p = plan({ offered: PROSODY });
    expect([p.mechanism, flag(p)]).toEqual(["SCRAM-SHA-1", "y"]);
    const insecure = plan({ offered: PROSODY, secure: false, socket: undefined });
    expect([insecure.mechanism, flag(insecure)]).toEqual(["SCRAM-SHA-1", "n"]);
    expect(() => plan({ offered: ["PLAIN"], secure: false, socket: undefined })).toThrow(/none of the mechanisms botrun uses with a password/);
  });

  it("a forced mechanism is used as is: n,, beside an offered -PLUS; a -PLUS without binding is a config error", () => {
    const forced = plan({ offered: EJABBERD, choice: { mechanism: "SCRAM-SHA-1", credentials: creds } });
    expect([forced.mechanism, flag(forced)]).toEqual(["SCRAM-SHA-1", "n"]);
    const err = (() => {
      try {
        plan({ offered: EJABBERD, choice: { mechanism: "SCRAM-SHA-256-PLUS", credentials: creds } });
      } catch (e) {
        return e as XmppAuthError;
      }
    })();
    expect(err).toBeInstanceOf(XmppAuthError);
    expect(err!.exitCode).toBe(ExitCode.CONFIG);
    expect(err!.message).toMatch(/SCRAM-SHA-256-PLUS needs TLS channel binding.*TLSv1\.3.*XMPP_MECHANISM=auto/);
    expect(() => plan({ offered: PROSODY, choice: { mechanism: "SCRAM-SHA-256", credentials: creds } })).toThrow(/does not offer SCRAM-SHA-256; it offers SCRAM-SHA-1, PLAIN/);
  });

  it("reads XEP-0440 types as a stream feature and (older drafts) inside <mechanisms/>", () => {
    const cb = xml("sasl-channel-binding", { xmlns: NS_SASL_CB }, xml("channel-binding", { type: "tls-exporter" }), xml("channel-binding", { type: "tls-server-end-point" }));
    const mechs = xml("mechanisms", { xmlns: NS_SASL }, xml("mechanism", {}, "SCRAM-SHA-1-PLUS"));
    expect(advertisedBindings(xml("features", {}, cb, mechs), mechs)).toEqual(["tls-exporter", "tls-server-end-point"]);
    const inner = xml("mechanisms", { xmlns: NS_SASL }, xml("mechanism", {}, "SCRAM-SHA-1-PLUS"), cb);
    expect(advertisedBindings(xml("features", {}, inner), inner)).toEqual(["tls-exporter", "tls-server-end-point"]);
    expect(advertisedBindings(xml("features", {}, mechs), mechs)).toBeUndefined();
  });
});

/**
 * An entity whose "server" is `scramServer`; `tamper` corrupts the server signature; `finalAsChallenge`
 * sends the server-final-message in a second `<challenge/>` and then an empty `<success/>`.
 */
function fakeEntity(hash: ScramHash, tamper = false, iterations?: number, finalAsChallenge = false) {
  const server = scramServer({ hash, password: "pw", iterations });
  const ee = new EventEmitter();
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const text = (el: Element) => Buffer.from(el.text(), "base64").toString();
  const entity = {
    isSecure: () => true,
    socket: t13.client,
    restart: async () => {},
    on: (e: "nonza", fn: (el: Element) => void) => ee.on(e, fn),
    removeListener: (e: "nonza", fn: (el: Element) => void) => ee.removeListener(e, fn),
    async send(el: Element) {
      const final = () => b64(tamper ? "v=AAAA" : server.final(text(el)));
      const reply = el.name === "auth"
        ? xml("challenge", { xmlns: NS_SASL }, b64(server.first(text(el))))
        : !finalAsChallenge
          ? xml("success", { xmlns: NS_SASL }, final())
          : el.text() === "" ? xml("success", { xmlns: NS_SASL }) : xml("challenge", { xmlns: NS_SASL }, final());
      setImmediate(() => ee.emit("nonza", reply));
    },
  };
  return { entity, server };
}

describe("whole exchanges with channel binding", () => {
  it("SCRAM-SHA-256-PLUS with tls-exporter and SCRAM-SHA-1-PLUS with tls-server-end-point: the server gets its own binding data", async () => {
    for (const [mechanism, hash, type] of [["SCRAM-SHA-256-PLUS", "SHA-256", "tls-exporter"], ["SCRAM-SHA-1-PLUS", "SHA-1", "tls-server-end-point"]] as const) {
      const { entity, server } = fakeEntity(hash);
      const p = planSasl({ choice: { mechanism, credentials: creds }, offered: EJABBERD, secure: true, socket: t13.client, advertised: [type] });
      await authenticate(entity, p, 5000);
      expect(server.result.gs2Header).toBe(`p=${type},,`);
      const expected = type === "tls-exporter"
        ? t13.server.exportKeyingMaterial(32, ...EXPORTER)
        : createHash("sha256").update(new X509Certificate(t13.certPem).raw).digest();
      expect(server.result.cbData!.equals(expected)).toBe(true);
    }
  });

  it("a wrong server signature fails the login clearly (permanent SASL error)", async () => {
    const { entity } = fakeEntity("SHA-512", true);
    const p = planSasl({ choice: { mechanism: "SCRAM-SHA-512", credentials: creds }, offered: EJABBERD, secure: true, socket: t13.client });
    const err = await authenticate(entity, p, 5000).catch((e: XmppAuthError) => e);
    expect(err).toBeInstanceOf(XmppAuthError);
    expect((err as XmppAuthError).message).toMatch(/SCRAM-SHA-512: server signature mismatch/);
    expect((err as XmppAuthError).condition).toBe("malformed-request");
  });

  it("accepts the server-final-message as a second challenge (then an empty success), and checks it there too", async () => {
    const p = planSasl({ choice: { mechanism: "SCRAM-SHA-256", credentials: creds }, offered: EJABBERD, secure: true, socket: t13.client });
    await expect(authenticate(fakeEntity("SHA-256", false, undefined, true).entity, p, 5000)).resolves.toBeUndefined();
    await expect(authenticate(fakeEntity("SHA-256", true, undefined, true).entity, p, 5000)).rejects.toThrow(/server signature mismatch/);
  });

  it("a hostile iteration count (i=100000000) fails at once with a clear, permanent error", async () => {
    const { entity } = fakeEntity("SHA-256", false, 100_000_000);
    const p = planSasl({ choice: { mechanism: "SCRAM-SHA-256", credentials: creds }, offered: EJABBERD, secure: true, socket: t13.client });
    const t0 = performance.now();
    const err = await authenticate(entity, p, 5000).catch((e: XmppAuthError) => e);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(XmppAuthError);
    expect((err as XmppAuthError).message).toMatch(/SCRAM-SHA-256: the server asks for 100000000 PBKDF2 iterations; accepted are 4096 to 1000000/);
    expect((err as XmppAuthError).condition).toBe("malformed-request");
  });
});
