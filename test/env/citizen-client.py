#!/usr/bin/python3
"""A slixmpp client that questions a bot the way XMPP clients do (run with /usr/bin/python3).

Logs in (password in CITIZEN_PASSWORD), sends presence, and prints JSON lines on stdout:
  {"event":"online","jid":...}
  {"event":"caps","from":...,"node":...,"ver":...,"hash":...}   (a presence with XEP-0115 caps)
  {"event":"reply","tag":T,"type":"result"|"error"|"timeout","stanza":TREE}
  {"event":"caps-check","tag":T,"valid":bool,"ver":...}      (slixmpp's xep_0115 re-computes the ver)
  {"event":"counts","tag":T,"counts":{id: replies}}           (replies seen per iq id sent so far)
  {"event":"message","from":...,"type":...,"body":...,"origin_id":...}  (a message with a body)
  {"event":"error","condition":...}
TREE is {"name","attrs","text","children":[TREE...]} with namespaces as "{ns}name" (ElementTree).
Reads JSON commands on stdin:
  {"cmd":"iq","tag":T,"to":JID,"type":"get"|"set"|"result","xml":"<query xmlns='...'/>"}
     (type result: sent as is, no reply expected; the bot must not answer it)
  {"cmd":"verify-caps","tag":T,"jid":JID,"node":N,"ver":V}
  {"cmd":"counts","tag":T}
  {"cmd":"message","tag":T,"to":JID,"type":"chat"|"headline"|"normal","body":TEXT}
  {"cmd":"quit"}
"""
import argparse
import asyncio
import json
import logging
import os
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def tree(el):
    return {
        "name": el.tag,
        "attrs": dict(el.attrib),
        "text": el.text or "",
        "children": [tree(c) for c in el],
    }


class Citizen(slixmpp.ClientXMPP):
    def __init__(self, args, password):
        super().__init__(args.jid, password)
        self.args = args
        self.counts = {}
        self.done = asyncio.get_event_loop().create_future()
        self['feature_mechanisms'].unencrypted_plain = args.security == "none"
        for plugin in ('xep_0030', 'xep_0004', 'xep_0115', 'xep_0199'):
            self.register_plugin(plugin)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("presence", self.on_presence)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", lambda *_: self.finish("not-authorized"))
        self.add_event_handler("disconnected", lambda *_: self.finish("disconnected"))
        # Count every iq result/error by id, to see an iq answered twice.
        self.register_handler(slixmpp.xmlstream.handler.Callback(
            "count replies",
            slixmpp.xmlstream.matcher.MatchXPath("{%s}iq" % self.default_ns),
            self.on_iq_seen))
        self.register_handler(slixmpp.xmlstream.handler.Callback(
            "chat states",
            slixmpp.xmlstream.matcher.MatchXPath("{%s}message" % self.default_ns),
            self.on_any_message))

    def finish(self, condition=None):
        if condition:
            emit({"event": "error", "condition": condition})
        if not self.done.done():
            self.done.set_result(0)

    def on_iq_seen(self, iq):
        if iq['type'] in ('result', 'error'):
            self.counts[iq['id']] = self.counts.get(iq['id'], 0) + 1

    def on_any_message(self, msg):
        # slixmpp's "message" event only fires for messages with a body: chat states come here.
        state = next((c for c in msg.xml if c.tag.startswith('{http://jabber.org/protocol/chatstates}')), None)
        if state is not None:
            emit({"event": "chatstate", "from": str(msg['from']), "state": state.tag.split('}')[1],
                  "no_store": msg.xml.find('{urn:xmpp:hints}no-store') is not None})

    def on_message(self, msg):
        if msg['body']:
            oid = msg.xml.find('{urn:xmpp:sid:0}origin-id')
            emit({"event": "message", "from": str(msg['from']), "type": msg['type'], "body": msg['body'],
                  "origin_id": oid.get('id') if oid is not None else None})

    def on_presence(self, pres):
        caps = pres.xml.find('{http://jabber.org/protocol/caps}c')
        if caps is not None and pres['from'].bare != self.boundjid.bare:
            emit({"event": "caps", "from": str(pres['from']), "node": caps.get('node'),
                  "ver": caps.get('ver'), "hash": caps.get('hash')})

    async def on_start(self, _event):
        self.send_presence()
        emit({"event": "online", "jid": str(self.boundjid)})
        asyncio.get_event_loop().create_task(self.read_commands())

    async def read_commands(self):
        # A thread reads stdin: node's "pipe" is a socketpair, which asyncio's connect_read_pipe does not read.
        loop = asyncio.get_event_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            try:
                cmd = json.loads(line)
            except ValueError:
                continue
            if cmd.get("cmd") == "quit":
                break
            loop.create_task(self.run(cmd))
        self.finish()

    async def run(self, cmd):
        try:
            await self.run_one(cmd)
        except Exception as e:  # report, never hang the test
            emit({"event": "failed", "tag": cmd.get("tag"), "error": repr(e)})

    async def run_one(self, cmd):
        tag = cmd.get("tag")
        if cmd["cmd"] == "iq":
            iq = self.make_iq(id=self.new_id(), ito=cmd["to"], itype=cmd["type"])
            iq.append(ET.fromstring(cmd["xml"]))
            if cmd["type"] == "result":
                iq.send()
                emit({"event": "sent", "tag": tag, "id": iq['id']})
                return
            try:
                reply = await iq.send(timeout=8)
                emit({"event": "reply", "tag": tag, "id": iq['id'], "type": "result", "stanza": tree(reply.xml)})
            except IqError as e:
                emit({"event": "reply", "tag": tag, "id": iq['id'], "type": "error", "stanza": tree(e.iq.xml)})
            except IqTimeout:
                emit({"event": "reply", "tag": tag, "id": iq['id'], "type": "timeout", "stanza": None})
        elif cmd["cmd"] == "verify-caps":
            node = "%s#%s" % (cmd["node"], cmd["ver"])
            info = await self['xep_0030'].get_info(jid=cmd["jid"], node=node, cached=False)
            valid = await self['xep_0115']._validate_caps(info['disco_info'], 'sha-1', cmd["ver"])
            computed = self['xep_0115'].generate_verstring(info['disco_info'], 'sha-1')
            emit({"event": "caps-check", "tag": tag, "valid": bool(valid), "ver": computed})
        elif cmd["cmd"] == "message":
            self.send_message(mto=cmd["to"], mbody=cmd["body"], mtype=cmd["type"])
            emit({"event": "sent", "tag": tag})
        elif cmd["cmd"] == "raw":
            self.send_raw(cmd["xml"])
            emit({"event": "sent", "tag": tag})
        elif cmd["cmd"] == "counts":
            emit({"event": "counts", "tag": tag, "counts": self.counts})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jid", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--security", default="none", choices=["starttls", "none"])
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if os.environ.get("CITIZEN_LOG") else logging.CRITICAL, stream=sys.stderr)
    c = Citizen(args, os.environ.get("CITIZEN_PASSWORD", ""))
    c.connect((args.host, args.port), use_ssl=False, force_starttls=args.security == "starttls",
              disable_starttls=args.security == "none")
    loop = asyncio.get_event_loop()
    loop.run_until_complete(c.done)
    c.disconnect()
    try:
        loop.run_until_complete(asyncio.wait_for(c.disconnected, 2))
    except Exception:
        pass


if __name__ == "__main__":
    main()
