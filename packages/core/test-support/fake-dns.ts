/** A tiny UDP DNS responder on loopback for offline tests: answers SRV queries from a table, optionally held back. */
import dgram from "node:dgram";

/** One SRV answer: target host and port. */
export interface FakeSrv {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

/** The running responder. */
export interface FakeDns {
  /** `127.0.0.1:port`, for XMPP_DNS_SERVER. */
  address: string;
  /** Names queried so far. */
  queries: string[];
  /** Resolves when the first query arrives. */
  firstQuery: Promise<void>;
  /** Send the answers of every held query (and answer later ones at once). */
  release(): void;
  close(): Promise<void>;
}

/** Start the responder: `records` maps a query name to its SRV answers (none: NXDOMAIN); `hold` delays answers until `release()`. */
export async function startFakeDns(records: Record<string, FakeSrv[]>, opts: { hold?: boolean } = {}): Promise<FakeDns> {
  const sock = dgram.createSocket("udp4");
  const held: (() => void)[] = [];
  let holding = opts.hold ?? false;
  let gotQuery!: () => void;
  const firstQuery = new Promise<void>((r) => (gotQuery = r));
  const queries: string[] = [];
  sock.on("message", (msg, rinfo) => {
    const { name, end } = readName(msg, 12);
    queries.push(name);
    gotQuery();
    const answers = records[name] ?? [];
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(answers.length ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const parts: Buffer[] = [header, Buffer.from(msg.subarray(12, end + 4))];
    for (const a of answers) {
      const target = encodeName(a.target);
      const rr = Buffer.alloc(12 + 6);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(33, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(6 + target.length, 10);
      rr.writeUInt16BE(a.priority ?? 0, 12);
      rr.writeUInt16BE(a.weight ?? 0, 14);
      rr.writeUInt16BE(a.port, 16);
      parts.push(rr, target);
    }
    const reply = () => sock.send(Buffer.concat(parts), rinfo.port, rinfo.address);
    if (holding) held.push(reply);
    else reply();
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  return {
    address: `127.0.0.1:${sock.address().port}`,
    queries,
    firstQuery,
    release() {
      holding = false;
      for (const r of held.splice(0)) r();
    },
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

function readName(msg: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = at;
  while (msg[i]! > 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString("ascii"));
    i += 1 + msg[i]!;
  }
  return { name: labels.join("."), end: i + 1 };
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, "").split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}
