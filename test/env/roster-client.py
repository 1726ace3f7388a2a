#!/usr/bin/python3
"""A slixmpp contact for botrun's roster tests (run with /usr/bin/python3, Debian's slixmpp).

Logs in with a password over STARTTLS, fetches its roster (so the server sends it roster pushes),
accepts subscription requests (auto_authorize) without subscribing back on its own, and prints one
JSON object per line on stdout:
  {"event":"online","jid":...}
  {"event":"push","jid":...,"subscription":...,"ask":bool}     (each roster push it receives)
  {"event":"presence","type":"subscribe"|"subscribed"|"unsubscribe"|"unsubscribed","from":...}
  {"event":"roster","items":{jid:{"subscription":...,"ask":bool}}}   (answer to the "roster" command)
  {"event":"error","condition":...}
Reads JSON commands on stdin: {"cmd":"subscribe","to":JID}, {"cmd":"remove","jid":JID},
{"cmd":"roster"}, {"cmd":"quit"}. Runs until "quit", stdin EOF or a signal.
"""
import argparse
import asyncio
import json
import logging
import os
import sys

import slixmpp


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Contact(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, os.environ.get("PEER_PASSWORD", ""))
        self.finished = asyncio.get_event_loop().create_future()
        self.pending = b""
        if args.ca:
            self.ca_certs = args.ca
        self.auto_authorize = True
        self.auto_subscribe = False
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("roster_update", self.on_push)
        for kind in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
            self.add_event_handler("presence_" + kind, lambda p, kind=kind: emit({"event": "presence", "type": kind, "from": str(p["from"])}))
        self.add_event_handler("failed_auth", lambda *_: self.fail("not-authorized"))
        self.add_event_handler("disconnected", lambda *_: self.fail("disconnected"))

    def fail(self, condition):
        if not self.finished.done():
            emit({"event": "error", "condition": condition})
        self.finish(1)

    async def on_start(self, _event):
        await self.get_roster()
        self.send_presence()
        emit({"event": "online", "jid": str(self.boundjid)})
        asyncio.get_event_loop().add_reader(sys.stdin.fileno(), self.on_stdin)

    def on_push(self, iq):
        for jid, item in iq["roster"]["items"].items():
            emit({"event": "push", "jid": str(jid), "subscription": item["subscription"], "ask": item.get("ask") == "subscribe"})

    def items(self):
        roster = self.client_roster
        return {str(j): {"subscription": roster[j]["subscription"], "ask": bool(roster[j]["pending_out"])} for j in roster}

    def on_stdin(self):
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:  # EOF: the test is done with us
            asyncio.get_event_loop().remove_reader(sys.stdin.fileno())
            self.finish(0)
            return
        self.pending += chunk
        while b"\n" in self.pending:
            line, self.pending = self.pending.split(b"\n", 1)
            try:
                self.on_command(json.loads(line))
            except ValueError:
                continue

    def on_command(self, cmd):
        kind = cmd.get("cmd")
        if kind == "subscribe":
            self.send_presence(pto=cmd["to"], ptype="subscribe")
        elif kind == "unsubscribe":
            self.send_presence(pto=cmd["to"], ptype="unsubscribe")
        elif kind == "remove":
            asyncio.ensure_future(self.del_roster_item(cmd["jid"]))
        elif kind == "roster":
            emit({"event": "roster", "items": self.items()})
        elif kind == "quit":
            self.finish(0)

    def finish(self, code):
        if not self.finished.done():
            self.finished.set_result(code)

    async def run(self):
        code = await self.finished
        self.disconnect()
        await asyncio.wait([self.disconnected], timeout=2)
        return code


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    contact = Contact(args)
    contact.connect((args.host, args.port), use_ssl=False, force_starttls=True, disable_starttls=False)
    sys.exit(asyncio.get_event_loop().run_until_complete(contact.run()))


if __name__ == "__main__":
    main()
