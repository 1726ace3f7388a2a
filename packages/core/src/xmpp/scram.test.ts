// SCRAM client: the RFC 5802 (SHA-1) and RFC 7677 (SHA-256) test vectors, SHA-512 against a
// server-side implementation, the GS2 channel-binding header, iteration bounds and signature checks.
import { describe, expect, it } from "vitest";
import { scramClient, SCRAM_MAX_ITERATIONS, type ScramHash } from "./scram.ts";
import { scramServer } from "../../test-support/scram-server.ts";

describe("SCRAM test vectors", () => {
  it("SCRAM-SHA-1 matches RFC 5802 §5", async () => {
    const c = scramClient({ hash: "SHA-1", username: "user", password: "pencil", binding: { flag: "n" }, nonce: "fyko+d2lbbFgONRv9qkxdawL" });
    expect(c.first()).toBe("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    const final = await c.final("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    expect(final).toBe("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    expect(() => c.verify("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")).not.toThrow();
    expect(() => c.verify("v=AAAApqV8S7suAoZWja4dJRkFsKQ=")).toThrow(/SCRAM-SHA-1: server signature mismatch/);
  });

  it("SCRAM-SHA-256 matches RFC 7677 §3", async () => {
    const c = scramClient({ hash: "SHA-256", username: "user", password: "pencil", binding: { flag: "n" }, nonce: "rOprNGfwEbeRWgbNEkqO" });
    expect(c.first()).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    const final = await c.final("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    expect(final).toBe("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    expect(() => c.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")).not.toThrow();
    expect(() => c.verify("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")).toThrow(/mismatch/);
  });
});

describe("SCRAM exchange", () => {
  const run = async (hash: ScramHash, binding: Parameters<typeof scramClient>[0]["binding"], serverPassword = "pencil \u00e9") => {
    const server = scramServer({ hash, password: serverPassword });
    const c = scramClient({ hash, username: "bot,=x", password: "pencil \u00e9", binding });
    const serverFirst = server.first(c.first());
    const serverFinal = server.final(await c.final(serverFirst));
    c.verify(serverFinal);
    return { first: c.first(), result: server.result };
  };

  for (const hash of ["SHA-1", "SHA-256", "SHA-512"] as const) {
    it(`SCRAM-${hash} logs in against the server side, names escaped (RFC 5802 §5.1)`, async () => {
      const { first } = await run(hash, { flag: "n" });
      expect(first).toMatch(/^n,,n=bot=2C=3Dx,r=/);
    });
  }

  it("sends y,, when told the server cannot bind, and p=<type>,, with the binding data in c=", async () => {
    expect((await run("SHA-256", { flag: "y" })).result).toEqual({ gs2Header: "y,,", cbData: Buffer.alloc(0) });
    const data = Buffer.from("0123456789abcdef0123456789abcdef");
    expect((await run("SHA-512", { flag: "p", type: "tls-exporter", data })).result).toEqual({ gs2Header: "p=tls-exporter,,", cbData: data });
  });

  it("a wrong password is refused by the server (the proof does not verify)", async () => {
    await expect(run("SHA-256", { flag: "n" }, "other")).rejects.toThrow(/invalid proof/);
  });

  const first = (c: ReturnType<typeof scramClient>) => c.first().split("r=")[1]!;

  it("refuses iteration counts outside 4096..1000000 before any PBKDF2 work", async () => {
    const c = scramClient({ hash: "SHA-1", username: "u", password: "p", binding: { flag: "n" } });
    const t0 = performance.now();
    await expect(c.final(`r=${first(c)}x,s=QSXCR+Q6sek8bf92,i=100000000`)).rejects.toThrow(
      /SCRAM-SHA-1: the server asks for 100000000 PBKDF2 iterations; accepted are 4096 to 1000000/,
    );
    expect(performance.now() - t0).toBeLessThan(100);
    await expect(c.final(`r=${first(c)}x,s=QSXCR+Q6sek8bf92,i=${SCRAM_MAX_ITERATIONS + 1}`)).rejects.toThrow(/PBKDF2 iterations/);
    await expect(c.final(`r=${first(c)}x,s=QSXCR+Q6sek8bf92,i=1`)).rejects.toThrow(/asks for 1 PBKDF2 iterations/);
    await expect(c.final(`r=${first(c)}x,s=QSXCR+Q6sek8bf92,i=1e9`)).rejects.toThrow(/invalid iteration count/);
  });

  it("refuses a server nonce that does not extend ours, a mandatory extension, and an e= answer", async () => {
    const c = scramClient({ hash: "SHA-1", username: "u", password: "p", binding: { flag: "n" } });
    await expect(c.final("r=someone-else,s=QSXCR+Q6sek8bf92,i=4096")).rejects.toThrow(/invalid server-first-message/);
    await expect(c.final(`r=${first(c)},s=QSXCR+Q6sek8bf92,i=4096`)).rejects.toThrow(/invalid server-first-message/);
    await expect(c.final(`m=ext,r=${first(c)}x,s=QSXCR+Q6sek8bf92,i=4096`)).rejects.toThrow(/extension/);
    expect(() => c.verify("v=x")).toThrow(/before the server-first-message/);
    await c.final(`r=${first(c)}x,s=QSXCR+Q6sek8bf92,i=4096`);
    expect(() => c.verify("e=channel-bindings-dont-match")).toThrow(/the server reports channel-bindings-dont-match/);
    expect(() => c.verify("")).toThrow(/no server signature/);
  });

  it("derives the key off the event loop (the loop keeps ticking during PBKDF2)", async () => {
    const c = scramClient({ hash: "SHA-512", username: "u", password: "p", binding: { flag: "n" }, maxIterations: 2_000_000 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await c.final(`r=${first(c)}x,s=QSXCR+Q6sek8bf92,i=200000`);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
  });
});
