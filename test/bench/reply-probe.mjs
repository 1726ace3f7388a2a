// Bench probe loaded into each echo bot with `--import`: times, inside the bot, the last socket read
// before each message the bot writes on a TLS socket (the part of a round trip the bot itself controls), and writes the
// samples on exit to $BENCH_PROBE_DIR/probe-<pid>.json: `samples` as [wall-clock ms, latency ms]
// pairs, and `acks`, the read times (wall-clock ms) of the XEP-0198 `<a/>` elements it wrote.
// The same probe goes into every bot of a run, so its cost is the same for each.
import tls from "node:tls";
import { syncBuiltinESMExports } from "node:module";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.BENCH_PROBE_DIR;
if (dir) {
  /** Flat pairs: read time (ms since the epoch), read-to-write latency (ms). */
  const samples = [];
  /** Wall-clock ms of each `<a/>` written. */
  const acks = [];
  let readAt = -1;
  const emit = tls.TLSSocket.prototype.emit;
  tls.TLSSocket.prototype.emit = function (event, ...args) {
    if (event === "data") readAt = performance.now(); // the last read before a reply
    return emit.call(this, event, ...args);
  };
  // A TLSSocket carries its own `write` (set in its constructor): wrap each one as it is made.
  const connect = tls.connect;
  tls.connect = function (...args) {
    const socket = connect.apply(this, args);
    const write = socket.write;
    socket.write = function (...wargs) {
      const data = typeof wargs[0] === "string" ? wargs[0] : "";
      if (data.startsWith("<a ")) acks.push(performance.timeOrigin + performance.now());
      // Only a stanza is a reply (an <a/> may wait on purpose: XEP-0198 acks are collected).
      if (readAt >= 0 && data.startsWith("<message")) {
        const now = performance.now();
        samples.push(performance.timeOrigin + readAt, now - readAt);
        readAt = -1;
      }
      return write.apply(this, wargs);
    };
    return socket;
  };
  syncBuiltinESMExports();
  process.on("exit", () => writeFileSync(join(dir, `probe-${process.pid}.json`), JSON.stringify({ samples, acks })));
}
