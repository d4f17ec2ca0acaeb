"""A LeanEngine app written for the official SDK, run unchanged by ``test_official_engine.py``
with the official ``leancloud`` 3.0.2 (in a venv of its own) and with ours, configured
the way LeanEngine configured Python apps: keys and port in ``LEANCLOUD_APP_*``, the API
in ``LEANCLOUD_API_SERVER``. Our server is its platform.

It is served by the official ``engine.run`` (werkzeug, threaded, so that a function may
call the server, which calls this app's hooks meanwhile); ``engine.start()`` would serve
it on gevent, whose plugins do not load in that venv."""

import os

import leancloud
from leancloud import Engine, LeanEngineError


def website(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the app's own pages"]


leancloud.init(
    os.environ["LEANCLOUD_APP_ID"],
    os.environ["LEANCLOUD_APP_KEY"],
    master_key=os.environ["LEANCLOUD_APP_MASTER_KEY"],
    hook_key=os.environ["LEANCLOUD_APP_HOOK_KEY"],
)
engine = Engine(website)


@engine.define
def hello(name="world"):
    user = engine.current.user
    return {"greeting": "hello " + name, "user": user.get("username") if user else None}


@engine.define
def add_note(text):
    note = leancloud.Object.extend("OfficialNote")(text=text)
    note.save()  # back to the server, through this app's own beforeSave
    return note


@engine.before_save("OfficialNote")
def note_before_save(note):
    if note.get("text") == "forbidden":
        raise LeanEngineError(400, "notes may not say that")
    note.set("text", note.get("text").upper())


@engine.after_save("OfficialNote")
def note_after_save(note):
    note.set("audited", True)
    note.save()  # flagged __ignore_hooks by the official SDK, sent with the hook key


@engine.before_delete("OfficialNote")
def note_before_delete(note):
    if note.get("text") == "KEEP":
        raise LeanEngineError(400, "this note stays")


@engine.on_login
def on_login(user):
    if user.get("username").startswith("banned"):
        raise LeanEngineError(403, "banned here")


engine.run("127.0.0.1", int(os.environ["LEANCLOUD_APP_PORT"]), engine, threaded=True)
