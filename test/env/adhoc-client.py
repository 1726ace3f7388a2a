#!/usr/bin/python3
"""A slixmpp client using its XEP-0050 plugin (xep_0050) against a bot (run with /usr/bin/python3).

Logs in (password in ADHOC_PASSWORD) and prints JSON lines on stdout:
  {"event":"online","jid":...}
  {"event":"commands","tag":T,"items":[[jid,node,name]...]}        (xep_0050.get_commands)
  {"event":"ran","tag":T,"steps":[STEP...]}                         (one command session)
STEP is {"status","sessionid","notes":[[type,text]...],"fields":[[var,type,required,[options]]...]}
or {"error": condition, "text": text}.
Reads JSON commands on stdin:
  {"cmd":"list","tag":T,"jid":JID}
  {"cmd":"run","tag":T,"jid":JID,"node":N,"values":{var: value}|null,"more":[{var: value}...],"cancel":bool}
     (execute; if a form comes back: cancel, or complete with the values filled in, then with
      each of "more" while the command asks further forms)
  {"cmd":"quit"}
"""
import argparse
import asyncio
import json
import logging
import os
import sys
import threading

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def parse(line):
    """A JSON command, or None for a line that is not one."""
    try:
        cmd = json.loads(line)
    except ValueError:
        return None
    return cmd if isinstance(cmd, dict) else None


def step(iq):
    c = iq['command']
    form = c.xml.find('{jabber:x:data}x')
    fields = []
    if form is not None:
        X = '{jabber:x:data}'
        for f in form.findall(X + 'field'):
            fields.append([f.get('var'), f.get('type'), f.find(X + 'required') is not None,
                           [o.findtext(X + 'value') for o in f.findall(X + 'option')]])
    return {"status": c['status'], "sessionid": c['sessionid'], "notes": [list(n) for n in c['notes']], "fields": fields}


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.done = asyncio.get_event_loop().create_future()
        self['feature_mechanisms'].unencrypted_plain = True
        for plugin in ('xep_0030', 'xep_0004', 'xep_0050'):
            self.register_plugin(plugin)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", lambda *_: self.finish())
        self.add_event_handler("disconnected", lambda *_: self.finish())

    def finish(self):
        if not self.done.done():
            self.done.set_result(0)

    async def on_start(self, _event):
        self.send_presence()
        emit({"event": "online", "jid": str(self.boundjid)})
        loop = asyncio.get_event_loop()
        # stdin is read by a thread (node's pipe is a socketpair); each command runs as its own task.
        threading.Thread(target=self.stdin_thread, args=(loop,), daemon=True).start()

    def stdin_thread(self, loop):
        commands = (parse(line) for line in sys.stdin)
        for cmd in (c for c in commands if c is not None):
            if cmd.get("cmd") == "quit":
                break
            asyncio.run_coroutine_threadsafe(self.guarded(cmd), loop)
        loop.call_soon_threadsafe(self.finish)

    async def guarded(self, cmd):
        try:
            await self.run_one(cmd)
        except Exception as e:  # reported as a line, so the test fails with the reason instead of hanging
            emit({"event": "failed", "tag": cmd.get("tag"), "error": repr(e)})

    async def command(self, *args, **kwargs):
        try:
            return await self['xep_0050'].send_command(*args, timeout=10, **kwargs), None
        except IqError as e:
            return None, {"error": e.condition, "text": e.text}
        except IqTimeout:
            return None, {"error": "timeout", "text": ""}

    async def run_one(self, cmd):
        tag = cmd.get("tag")
        if cmd["cmd"] == "list":
            res = await self['xep_0050'].get_commands(jid=cmd["jid"])
            emit({"event": "commands", "tag": tag, "items": [list(i) for i in res['disco_items']['items']]})
        elif cmd["cmd"] == "run":
            steps = []
            iq, err = await self.command(cmd["jid"], cmd["node"], action="execute")
            steps.append(err or step(iq))
            if iq is not None and iq['command']['status'] == 'executing':
                sid = iq['command']['sessionid']
                if cmd.get("cancel"):
                    iq, err = await self.command(cmd["jid"], cmd["node"], action="cancel", sessionid=sid)
                    steps.append(err or step(iq))
                else:
                    for values in [cmd.get("values") or {}] + cmd.get("more", []):
                        form = self['xep_0004'].make_form(ftype='submit')
                        for var, value in values.items():
                            form.add_field(var=var, value=value)
                        iq, err = await self.command(cmd["jid"], cmd["node"], action="complete", sessionid=sid, payload=form)
                        steps.append(err or step(iq))
                        if iq is None or iq['command']['status'] != 'executing':
                            break
            emit({"event": "ran", "tag": tag, "steps": steps})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jid", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if os.environ.get("ADHOC_LOG") else logging.CRITICAL, stream=sys.stderr)
    c = Client(args.jid, os.environ.get("ADHOC_PASSWORD", ""))
    c.connect((args.host, args.port), use_ssl=False, disable_starttls=True)
    asyncio.get_event_loop().run_until_complete(run_until_done(c))


async def run_until_done(c):
    await c.done
    c.disconnect()
    await asyncio.wait([c.disconnected], timeout=2)

if __name__ == "__main__":
    main()
