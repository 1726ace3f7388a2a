// Spawns test/env/slixmpp-peer.py (Debian's slixmpp under /usr/bin/python3) and parses its JSON lines.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopChild } from "./proc.ts";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "slixmpp-peer.py");

/** One line printed by the peer. */
export type PeerEvent =
  | { event: "online"; jid: string }
  | { event: "reply"; body: string; rtt_ms: number }
  | { event: "message"; from: string; body: string; type: string }
  | { event: "done"; sent: number; received: number; elapsed_ms: number; rate: number; timed_out: boolean }
  | { event: "error"; condition: string };

/** Options for {@link startPeer}. */
export interface PeerOptions {
  jid: string;
  password: string;
  host?: string;
  port: number;
  security?: "starttls" | "direct" | "none";
  caFile?: string;
  /** Force a SASL mechanism ("PLAIN", "SCRAM-SHA-1"). */
  mechanism?: string;
  /** Send `count` messages "PREFIX #N" to `to`, at most `window` in flight, and count replies. */
  to?: string;
  count?: number;
  window?: number;
  prefix?: string;
  /** Seconds before the run is declared done with timed_out = true; default 60. */
  timeoutSeconds?: number;
}

/** A running peer. */
export interface PeerHandle {
  pid: number;
  /** Every event so far, in order. */
  events: PeerEvent[];
  /** Resolves with the first event matching `pred` (past or future); rejects on timeout or exit. */
  waitFor<E extends PeerEvent["event"]>(event: E, timeoutMs?: number): Promise<Extract<PeerEvent, { event: E }>>;
  /** Sends a chat message through the peer. */
  send(to: string, body: string): void;
  /** Ends the peer (by PID: SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Exit code once exited, else null. */
  exitCode(): number | null;
}

/** Starts a slixmpp peer; the password goes through the environment, not the command line. */
export function startPeer(o: PeerOptions): PeerHandle {
  const args = [SCRIPT, "--jid", o.jid, "--host", o.host ?? "127.0.0.1", "--port", String(o.port),
    "--security", o.security ?? "starttls", "--count", String(o.count ?? 0), "--window", String(o.window ?? 1),
    "--prefix", o.prefix ?? "ping", "--timeout", String(o.timeoutSeconds ?? 60)];
  if (o.caFile) args.push("--ca", o.caFile);
  if (o.mechanism) args.push("--mech", o.mechanism);
  if (o.to) args.push("--to", o.to);
  const child: ChildProcess = spawn("/usr/bin/python3", args, {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PEER_PASSWORD: o.password, PYTHONUNBUFFERED: "1" },
  });
  const events: PeerEvent[] = [];
  const listeners = new Set<() => void>();
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => { if (stderr.length < 4096) stderr += b.toString(); });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      events.push(JSON.parse(line) as PeerEvent);
    } catch {
      return; // not ours
    }
    for (const l of [...listeners]) l();
  });
  let exited = false;
  child.on("exit", () => { exited = true; for (const l of [...listeners]) l(); });
  child.stdin?.on("error", () => { /* peer gone */ });

  return {
    pid: child.pid ?? 0,
    events,
    waitFor(event, timeoutMs = 15_000) {
      type R = Extract<PeerEvent, { event: typeof event }>;
      return new Promise<R>((resolve, reject) => {
        const check = () => {
          const found = events.find((e) => e.event === event);
          if (found) { done(); resolve(found as R); return; }
          if (exited) { done(); reject(new Error(`slixmpp peer exited (code ${child.exitCode}) before "${event}": ${stderr.slice(-800)}`)); }
        };
        const timer = setTimeout(() => { done(); reject(new Error(`timeout waiting for peer event "${event}"; events: ${JSON.stringify(events.slice(-5))}`)); }, timeoutMs);
        const done = () => { clearTimeout(timer); listeners.delete(check); };
        listeners.add(check);
        check();
      });
    },
    send(to, body) {
      child.stdin?.write(JSON.stringify({ cmd: "send", to, body }) + "\n");
    },
    stop: () => stopChild(child, 3000),
    exitCode: () => child.exitCode,
  };
}
