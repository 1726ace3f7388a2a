/** Tests of FileTokenStore / MemoryTokenStore / createTokenStore: modes, atomicity, concurrency, specs, unsafe owners and modes. */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../config/errors.ts";
import { createTokenStore } from "./create-store.ts";
import { FileTokenStore } from "./file-store.ts";
import { MemoryTokenStore } from "./memory-store.ts";
import { RedisTokenStore } from "./redis-store.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botrun-store-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("FileTokenStore", () => {
  it("round-trips a token set, file 0600 in a 0700 directory, no temp files left", async () => {
    const store = new FileTokenStore(path.join(dir, "tokens"));
    expect(await store.load("bot")).toBeUndefined();
    await store.save("bot", { accessToken: "AT-1", refreshToken: "RT-1", expiresAt: 123, meta: { scope: "x" } });
    expect(await store.load("bot")).toEqual({ accessToken: "AT-1", refreshToken: "RT-1", expiresAt: 123, meta: { scope: "x" } });
    const file = store.fileFor("bot");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, "tokens")).mode & 0o777).toBe(0o700);
    expect(readdirSync(path.join(dir, "tokens"))).toEqual(["bot.json"]);
    await store.delete("bot");
    expect(await store.load("bot")).toBeUndefined();
    await store.delete("bot"); // idempotent
  });

  it("maps awkward keys to distinct files inside the directory", async () => {
    const store = new FileTokenStore(dir);
    const keys = ["a/b", "a_b", "..", "../x", "user@example.com/res", "*"];
    for (const k of keys) await store.save(k, { refreshToken: `RT-${k}` });
    for (const k of keys) {
      expect(path.dirname(store.fileFor(k))).toBe(dir);
      expect((await store.load(k))?.refreshToken).toBe(`RT-${k}`);
    }
    expect(readdirSync(dir)).toHaveLength(keys.length);
  });

  it("concurrent saves of one key never corrupt the file and the last call wins", async () => {
    const store = new FileTokenStore(dir);
    const saves = Array.from({ length: 40 }, (_, i) => store.save("bot", { refreshToken: `RT-${i}`.padEnd(2000, "x") }));
    await Promise.all(saves);
    expect((await store.load("bot"))?.refreshToken).toBe("RT-39".padEnd(2000, "x"));
    expect(readdirSync(dir)).toEqual(["bot.json"]);
  });

  it("two store instances (as two processes would) writing concurrently: readers only ever see whole files", async () => {
    const a = new FileTokenStore(dir);
    const b = new FileTokenStore(dir);
    const file = a.fileFor("bot");
    await a.save("bot", { refreshToken: "init" });
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        const parsed = JSON.parse(readFileSync(file, "utf8")) as { refreshToken: string };
        expect(parsed.refreshToken).toMatch(/^(init|[ab]-\d+x*)$/);
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      writes.push(a.save("bot", { refreshToken: `a-${i}`.padEnd(50_000, "x") }));
      writes.push(b.save("bot", { refreshToken: `b-${i}`.padEnd(50_000, "x") }));
    }
    await Promise.all(writes);
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual(["bot.json"]);
  });

  it("a corrupt file gives a clear error that does not echo its content", async () => {
    const store = new FileTokenStore(dir);
    writeFileSync(store.fileFor("bot"), '{"refreshToken": "SECRET-RT-VALUE"', { mode: 0o600 });
    const err = await store.load("bot").catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/not a valid token file/);
    expect((err as Error).message).not.toContain("SECRET-RT-VALUE");
  });
});

describe("FileTokenStore refuses what other local users could have planted or can read", () => {
  const asRoot = process.getuid?.() === 0;
  const refusal = async (store: FileTokenStore, op: "load" | "save" = "load") => {
    const err = await (op === "load" ? store.load("bot") : store.save("bot", { refreshToken: "RT-mine" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError); // exit 2
    return (err as Error).message;
  };

  it("a group- or world-writable directory: one line naming the path and `chmod 700`", async () => {
    const d = path.join(dir, "shared");
    mkdirSync(d);
    chmodSync(d, 0o777);
    const store = new FileTokenStore(d);
    writeFileSync(store.fileFor("bot"), JSON.stringify({ refreshToken: "RT-planted" }), { mode: 0o600 });
    const msg = await refusal(store);
    expect(msg).toContain(d);
    expect(msg).toContain(`chmod 700 ${d}`);
    expect(msg).toContain("BOTRUN_TOKEN_STORE");
    expect(msg).not.toContain("RT-planted");
    expect(msg).not.toContain("\n");
    chmodSync(d, 0o770);
    expect(await refusal(store, "save")).toContain("writable by other users");
    expect(JSON.parse(readFileSync(store.fileFor("bot"), "utf8"))).toEqual({ refreshToken: "RT-planted" }); // nothing written
  });

  it("a token file others can read: refused, naming the file and `chmod 600`", async () => {
    const store = new FileTokenStore(dir);
    writeFileSync(store.fileFor("bot"), JSON.stringify({ refreshToken: "RT-x" }));
    chmodSync(store.fileFor("bot"), 0o644);
    const msg = await refusal(store);
    expect(msg).toContain(`chmod 600 ${store.fileFor("bot")}`);
    expect(msg).toContain("mode 0644");
  });

  it("a symbolic link in place of the token file is not followed", async () => {
    const store = new FileTokenStore(dir);
    const elsewhere = path.join(dir, "elsewhere.json");
    writeFileSync(elsewhere, JSON.stringify({ refreshToken: "RT-elsewhere" }), { mode: 0o600 });
    symlinkSync(elsewhere, store.fileFor("bot"));
    const msg = await refusal(store);
    expect(msg).toMatch(/symbolic link/);
    expect(msg).not.toContain("RT-elsewhere");
  });

  it.skipIf(!asRoot)("a file or directory owned by another user (uid 65534) is refused, naming the fix (chown)", async () => {
    const store = new FileTokenStore(dir);
    writeFileSync(store.fileFor("bot"), JSON.stringify({ refreshToken: "RT-other" }), { mode: 0o600 });
    chownSync(store.fileFor("bot"), 65534, 65534);
    const msg = await refusal(store);
    expect(msg).toMatch(/belongs to uid 65534/);
    expect(msg).toContain("chown");
    rmSync(store.fileFor("bot"));
    chownSync(dir, 65534, 65534);
    expect(await refusal(store)).toMatch(new RegExp(`directory ${dir} belongs to uid 65534.*chown 0 ${dir}`));
  });
});

describe("MemoryTokenStore", () => {
  it("copies values in and out", async () => {
    const store = new MemoryTokenStore();
    const t = { refreshToken: "r", meta: { a: "1" } };
    await store.save("k", t);
    t.meta.a = "2";
    const loaded = await store.load("k");
    expect(loaded).toEqual({ refreshToken: "r", meta: { a: "1" } });
    await store.delete("k");
    expect(await store.load("k")).toBeUndefined();
  });
});

describe("createTokenStore", () => {
  it("accepts file:, file://, plain paths and memory:", () => {
    expect((createTokenStore(`file:${dir}`) as FileTokenStore).dir).toBe(dir);
    expect((createTokenStore(`file://${dir}`) as FileTokenStore).dir).toBe(dir);
    expect((createTokenStore(dir) as FileTokenStore).dir).toBe(dir);
    expect((createTokenStore(undefined) as FileTokenStore).dir).toMatch(/\.botrun[/\\]tokens$/);
    expect(createTokenStore("memory:")).toBeInstanceOf(MemoryTokenStore);
    expect(createTokenStore("redis://127.0.0.1:6379/0")).toBeInstanceOf(RedisTokenStore); // connects on first use
  });

  it("rejects unknown schemes with an error naming BOTRUN_TOKEN_STORE", () => {
    let err: unknown;
    try {
      createTokenStore("s3://bucket/tokens");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe("BOTRUN_TOKEN_STORE");
    expect((err as Error).message).toMatch(/unsupported token store scheme "s3:"/);
  });
});
