// The outbox: writes only to an attached wire, original order kept across failures and take-backs, pipelined
// writes within a window, overflow policies that never drop silently.
import { describe, expect, it } from "vitest";
import xml, { type Element } from "@xmpp/xml";
import { createConsoleLogger, silentLogger } from "../logger.ts";
import { OutboxFullError } from "./errors.ts";
import { Outbox } from "./outbox.ts";

const msg = (n: number) => xml("message", { id: String(n) });
const tick = () => new Promise((r) => setImmediate(r));

/** A fake socket: writes settle when the test says so; once dead, every write fails. */
function fakeSocket() {
  const written: string[] = [];
  const pending: Array<{ id: string; settle(ok: boolean): void }> = [];
  let dead = false;
  return {
    written,
    pending,
    kill: () => void (dead = true),
    revive: () => void (dead = false),
    write: (el: ReturnType<typeof xml>) =>
      new Promise<void>((resolve, reject) => {
        if (dead) return reject(new Error("socket gone"));
        written.push(String(el.attrs.id));
        pending.push({ id: String(el.attrs.id), settle: (ok) => (ok && !dead ? resolve() : reject(new Error("socket gone"))) });
      }),
    settleAll(ok = true) {
      for (const p of pending.splice(0)) p.settle(ok);
    },
  };
}

describe("Outbox", () => {
  it("holds stanzas while paused and writes them in order once resumed", async () => {
    const written: string[] = [];
    const ob = new Outbox({ limit: 10, overflow: "reject", logger: silentLogger, });
    const wire = { write: async (el: Element) => void written.push(el.attrs.id) };
    for (let i = 1; i <= 3; i++) await ob.push(msg(i));
    expect(ob.depth).toBe(3);
    expect(written).toEqual([]);
    ob.attach(wire);
    expect(await ob.drain(1000)).toBe(true);
    expect(written).toEqual(["1", "2", "3"]);
  });

  it("rejects with OutboxFullError at the limit (policy reject), keeping what it holds", async () => {
    const ob = new Outbox({ limit: 2, overflow: "reject", logger: silentLogger });
    const wire = { write: async () => {} };
    await ob.push(msg(1));
    await ob.push(msg(2));
    await expect(ob.push(msg(3))).rejects.toBeInstanceOf(OutboxFullError);
    expect(ob.depth).toBe(2);
  });

  it("OutboxFullError is one line (no stack) and the rejections are logged once per interval with their count", async () => {
    const lines: string[] = [];
    const depths: number[] = [];
    const ob = new Outbox({
      limit: 2, overflow: "reject", onDepth: (d) => void depths.push(d),
      logger: createConsoleLogger({ level: "warn", write: (l) => void lines.push(l) }),
    });
    await ob.push(msg(1));
    await ob.push(msg(2));
    const errors: Error[] = [];
    for (let i = 0; i < 500; i++) await ob.push(msg(3)).catch((e: Error) => void errors.push(e));
    expect(errors).toHaveLength(500);
    expect(errors[0]!.stack).toBe("OutboxFullError: outbox full: 2 stanzas queued (XMPP_OUTBOX_LIMIT); stanza not accepted");
    expect(lines).toHaveLength(1);
    expect(ob.rejected).toBe(500);
    ob.close(); // the count not yet written comes out on close
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/rejected[^0-9]*499/);
    expect(depths.slice(0, 2)).toEqual([1, 2]);
  });

  it("makes push wait for room (policy block)", async () => {
    const written: string[] = [];
    const ob = new Outbox({ limit: 1, overflow: "block", logger: silentLogger, });
    const wire = { write: async (el: Element) => void written.push(el.attrs.id) };
    await ob.push(msg(1));
    let accepted = false;
    const p = ob.push(msg(2)).then(() => (accepted = true));
    await tick();
    expect(accepted).toBe(false);
    ob.attach(wire);
    await p;
    expect(await ob.drain(1000)).toBe(true);
    expect(written).toEqual(["1", "2"]);
  });

  it("writes at once when online and idle, pipelined up to the window, in order", async () => {
    const sock = fakeSocket();
    const ob = new Outbox({ limit: 100, overflow: "reject", logger: silentLogger, window: 2 });
    ob.attach(sock);
    await ob.push(msg(1));
    expect(sock.written).toEqual(["1"]); // no queue round trip
    for (let i = 2; i <= 4; i++) await ob.push(msg(i));
    await tick();
    expect(sock.written).toEqual(["1", "2", "3"]); // 1 direct, 2 and 3 pipelined; the window is full: 4 waits
    sock.settleAll();
    await tick();
    await tick();
    expect(sock.written).toEqual(["1", "2", "3", "4"]);
    sock.settleAll();
    expect(await ob.drain(1000)).toBe(true);
  });

  it("a dead socket fails every write under way: all go back, in their original order, before later ones", async () => {
    const sock = fakeSocket();
    const ob = new Outbox({ limit: 100, overflow: "reject", logger: silentLogger, window: 8 });
    ob.attach(sock);
    for (let i = 1; i <= 4; i++) await ob.push(msg(i));
    await tick();
    expect(sock.written).toEqual(["1", "2", "3", "4"]);
    sock.pending.shift()!.settle(true); // 1 made it
    sock.kill(); // 2, 3, 4 fail
    sock.settleAll(false);
    await tick();
    await ob.push(msg(5)); // while offline: held
    await tick();
    expect(ob.depth).toBe(4);
    const acked = sock.written.splice(0);
    expect(acked).toEqual(["1", "2", "3", "4"]);
    // A failed XEP-0198 resumption hands back 1 (written but never acknowledged).
    ob.takeBack([msg(0)]); // a stanza the outbox never saw gets a new, later sequence number
    sock.revive();
    ob.attach(sock);
    for (let i = 0; i < 10 && ob.depth > 0; i++) {
      await tick();
      sock.settleAll();
    }
    expect(await ob.drain(1000)).toBe(true);
    expect(sock.written).toEqual(["2", "3", "4", "5", "0"]);
  });

  it("takeBackd stanzas go back to their original place", async () => {
    const written: string[] = [];
    const ob = new Outbox({ limit: 10, overflow: "reject", logger: silentLogger, });
    const wire = { write: async (el: Element) => void written.push(el.attrs.id) };
    const els = [1, 2, 3].map(msg);
    for (const e of els) await ob.push(e);
    ob.attach(wire);
    await ob.drain(1000);
    ob.detach();
    await ob.push(msg(4));
    ob.takeBack([els[1]!, els[2]!]); // 2 and 3 were written but not acknowledged
    ob.attach(wire);
    expect(await ob.drain(1000)).toBe(true);
    expect(written).toEqual(["1", "2", "3", "2", "3", "4"]);
  });

  it("a late failure on an old wire puts its stanza back but leaves the new session's wire attached", async () => {
    const old = fakeSocket();
    const ob = new Outbox({ limit: 10, overflow: "reject", logger: silentLogger });
    ob.attach(old);
    await ob.push(msg(1)); // on its way over the old connection
    const fresh = { written: [] as string[], write: async (el: Element) => void fresh.written.push(String(el.attrs.id)) };
    ob.attach(fresh); // the session was replaced before the old write settled
    old.settleAll(false); // the old socket fails the write
    await tick();
    await ob.push(msg(2));
    expect(await ob.drain(1000)).toBe(true);
    expect(fresh.written).toEqual(["1", "2"]); // 1 written again first, in order, on the new wire
  });

  it("clear() reports how many stanzas it dropped; close() refuses new ones", async () => {
    const ob = new Outbox({ limit: 10, overflow: "reject", logger: silentLogger });
    const wire = { write: async () => {} };
    await ob.push(msg(1));
    await ob.push(msg(2));
    ob.close();
    await expect(ob.push(msg(3))).rejects.toThrow();
    expect(ob.clear()).toBe(2);
    expect(ob.depth).toBe(0);
  });
});
