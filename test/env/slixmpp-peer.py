#!/usr/bin/python3
"""A slixmpp peer for botrun's real-server tests (run with /usr/bin/python3, Debian's slixmpp).

Logs in with a password (PLAIN or SCRAM, forced with --mech), then optionally sends --count
messages "PREFIX #N" to --to keeping at most --window in flight, and counts replies (matched by
"#N" in the reply body, else first-in-first-out). Prints one JSON object per line on stdout:
  {"event":"online","jid":...}
  {"event":"reply","body":...,"rtt_ms":...}       (for each reply to a sent message)
  {"event":"message","from":...,"body":...}       (any other incoming message with a body)
  {"event":"done","sent":N,"received":M,"elapsed_ms":...,"rate":...,"timed_out":bool}
  {"event":"error","condition":...}               (auth failure or disconnect before done)
Reads JSON commands on stdin: {"cmd":"send","to":JID,"body":TEXT} and {"cmd":"quit"}.
With --count 0 it stays online until "quit", stdin EOF or a signal.
"""
import argparse
import asyncio
import json
import logging
import re
import sys
import time

import slixmpp

NUM = re.compile(r"#(\d+)")


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Peer(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password, sasl_mech=args.mech or None)
        self.args = args
        self.sent = 0
        self.received = 0
        self.inflight = {}  # n -> send time
        self.started = None
        self.finished = asyncio.get_event_loop().create_future()
        self.is_done = False
        if args.ca:
            self.ca_certs = args.ca
        self['feature_mechanisms'].unencrypted_plain = args.security == "none"
        self.register_plugin('xep_0199')
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", lambda *_: self.fail("not-authorized"))
        self.add_event_handler("disconnected", lambda *_: self.fail("disconnected"))

    def fail(self, condition):
        if not self.finished.done():
            emit({"event": "error", "condition": condition})
            self.finished.set_result(1)

    async def on_start(self, _event):
        self.send_presence()
        emit({"event": "online", "jid": str(self.boundjid)})
        asyncio.get_event_loop().create_task(self.read_commands())
        if self.args.count > 0:
            self.started = time.monotonic()
            asyncio.get_event_loop().call_later(self.args.timeout, self.finish, True)
            self.fill()

    def fill(self):
        while self.sent < self.args.count and len(self.inflight) < self.args.window:
            self.sent += 1
            self.inflight[self.sent] = time.monotonic()
            self.send_message(mto=self.args.to, mbody="%s #%d" % (self.args.prefix, self.sent), mtype="chat")

    def on_message(self, msg):
        body = msg["body"]
        if not body or msg["type"] not in ("chat", "normal", "groupchat"):
            return
        frm = msg["from"]
        if self.args.count > 0 and self.args.to and frm.bare == slixmpp.JID(self.args.to).bare and self.inflight:
            m = NUM.search(body)
            n = int(m.group(1)) if m and int(m.group(1)) in self.inflight else min(self.inflight)
            t0 = self.inflight.pop(n)
            self.received += 1
            emit({"event": "reply", "body": body, "rtt_ms": round((time.monotonic() - t0) * 1000, 3)})
            if self.received >= self.args.count:
                self.finish(False)
            else:
                self.fill()
        else:
            emit({"event": "message", "from": str(frm), "body": body, "type": msg["type"]})

    def finish(self, timed_out):
        if self.is_done or self.started is None:
            return
        self.is_done = True
        elapsed = time.monotonic() - self.started
        emit({"event": "done", "sent": self.sent, "received": self.received,
              "elapsed_ms": round(elapsed * 1000, 3),
              "rate": round(self.received / elapsed, 3) if elapsed > 0 else 0, "timed_out": timed_out})
        if not self.finished.done():
            self.finished.set_result(0 if not timed_out else 2)

    async def read_commands(self):
        loop = asyncio.get_event_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                if self.args.count == 0 and not self.finished.done():
                    self.finished.set_result(0)
                return
            try:
                cmd = json.loads(line)
            except ValueError:
                continue
            if cmd.get("cmd") == "send":
                self.send_message(mto=cmd["to"], mbody=cmd["body"], mtype=cmd.get("type", "chat"))
            elif cmd.get("cmd") == "quit" and not self.finished.done():
                self.finished.set_result(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", default=None, help="or the PEER_PASSWORD environment variable")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--security", choices=["starttls", "direct", "none"], default="starttls")
    p.add_argument("--ca", default=None)
    p.add_argument("--mech", default=None, help="force a SASL mechanism, e.g. PLAIN or SCRAM-SHA-1")
    p.add_argument("--to", default=None)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--window", type=int, default=1)
    p.add_argument("--prefix", default="ping")
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()
    if args.password is None:
        import os
        args.password = os.environ.get("PEER_PASSWORD", "")
    logging.basicConfig(level=logging.CRITICAL)
    peer = Peer(args)
    if args.security == "direct":
        peer.connect((args.host, args.port), use_ssl=True, force_starttls=False, disable_starttls=True)
    elif args.security == "none":
        peer.connect((args.host, args.port), use_ssl=False, force_starttls=False, disable_starttls=True)
    else:
        peer.connect((args.host, args.port), use_ssl=False, force_starttls=True, disable_starttls=False)
    loop = asyncio.get_event_loop()
    code = loop.run_until_complete(peer.finished)
    peer.disconnect()
    try:
        loop.run_until_complete(asyncio.wait_for(peer.disconnected, 2))
    except Exception:
        pass
    sys.exit(code)


if __name__ == "__main__":
    main()
