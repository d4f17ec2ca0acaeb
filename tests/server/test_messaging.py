"""Messaging: the outbox (service, ``GET /1.1/outbox``, ``python -m leancloud outbox``),
the pluggable senders and the SMTP sender (against a fake ``smtplib``)."""

import logging

import pytest
import requests
from werkzeug.test import Client

from leancloud import cloud
from leancloud.__main__ import main
from leancloud.server import create_app
from leancloud.server.errors import ApiError
from leancloud.server.services import messaging, sms

APP_ID, APP_KEY, MASTER_KEY = "mail-app", "mail-key", "mail-master"
APP = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
MASTER = {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master"}
SMTP_ENV = (
    "LEANCLOUD_SMTP_HOST",
    "LEANCLOUD_SMTP_PORT",
    "LEANCLOUD_SMTP_USER",
    "LEANCLOUD_SMTP_PASSWORD",
    "LEANCLOUD_SMTP_FROM",
    "LEANCLOUD_SMTP_TLS",
)


@pytest.fixture(autouse=True)
def no_smtp_env(monkeypatch):
    for name in SMTP_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(tmp_path):
    app = create_app(str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY)
    yield app
    app.storage.close()


@pytest.fixture
def client(app):
    return Client(app)


def mail(app, to="ann@example.com", subject="Hello", text="Body", kind="verify"):
    messaging.send_mail(app.storage, app.config, to, subject, text, kind=kind)


# --- the outbox -----------------------------------------------------------------------


def test_mail_goes_to_the_outbox_and_the_log(app, caplog):
    with caplog.at_level(logging.INFO, logger="leancloud.server.messaging"):
        mail(app, text="Click https://x/verify?token=t")
    (row,) = messaging.outbox(app.storage)
    assert {k: row[k] for k in ("channel", "to", "kind", "subject", "text")} == {
        "channel": "mail",
        "to": "ann@example.com",
        "kind": "verify",
        "subject": "Hello",
        "text": "Click https://x/verify?token=t",
    }
    assert set(row) >= {"objectId", "createdAt"}
    assert "ann@example.com" in caplog.text and "Hello" in caplog.text


def test_outbox_is_newest_first_filtered_and_limited(app):
    for n in range(3):
        mail(app, subject=f"s{n}")
    mail(app, to="bob@example.com", subject="other")
    assert [r["subject"] for r in messaging.outbox(app.storage, "ann@example.com")] == [
        "s2",
        "s1",
        "s0",
    ]
    assert [r["subject"] for r in messaging.outbox(app.storage, limit=2)] == ["other", "s2"]
    assert messaging.outbox(app.storage, "nobody@example.com") == []


def test_outbox_phone_filter_is_normalised(app):
    sms.send_code(app.storage, app.config, "18612345678", purpose="verify")
    for spelling in ("18612345678", "+8618612345678", "186 1234 5678"):
        assert len(messaging.outbox(app.storage, spelling)) == 1


@pytest.mark.parametrize("limit", [0, -1, 1001, True, "5"])
def test_outbox_limit_is_checked(app, limit):
    with pytest.raises(ApiError) as info:
        messaging.outbox(app.storage, limit=limit)
    assert info.value.code == 1


@pytest.mark.parametrize("to", ["", None, 5])
def test_mail_needs_an_address(app, to):
    with pytest.raises(ApiError) as info:
        mail(app, to=to)
    assert info.value.code == 125


# --- GET /1.1/outbox --------------------------------------------------------------------


def test_outbox_endpoint(app, client):
    mail(app)
    mail(app, to="bob@example.com")
    response = client.get("/1.1/outbox", query_string={"to": "bob@example.com"}, headers=MASTER)
    assert [r["to"] for r in response.json["results"]] == ["bob@example.com"]
    assert len(client.get("/1.1/outbox", headers=MASTER).json["results"]) == 2
    assert len(client.get("/1.1/outbox?limit=1", headers=MASTER).json["results"]) == 1


def test_outbox_endpoint_needs_the_master_key(client):
    response = client.get("/1.1/outbox", headers=APP)
    assert (response.status_code, response.json["code"]) == (401, 401)


@pytest.mark.parametrize("limit", ["x", "-1", "0", "5000"])
def test_outbox_endpoint_bad_limit(client, limit):
    response = client.get("/1.1/outbox", query_string={"limit": limit}, headers=MASTER)
    assert (response.status_code, response.json["code"]) == (400, 1)


def test_outbox_endpoint_on_the_live_server(leancloud_clean_server):
    cloud.request_sms_code("13900002222")
    server = leancloud_clean_server
    headers = {"X-LC-Id": server.app_id, "X-LC-Key": server.master_key + ",master"}
    response = requests.get(
        f"{server.url}/1.1/outbox", params={"to": "13900002222"}, headers=headers, timeout=10
    )
    (row,) = response.json()["results"]
    assert row["to"] == "+8613900002222" and row["details"]["code"] in row["text"]


# --- the CLI ---------------------------------------------------------------------------


def test_cli_prints_the_outbox(app, capsys):
    mail(app, subject="Reset", text="Your link:\nhttps://x/reset")
    mail(app, to="bob@example.com", subject="Other")
    assert main(["outbox", "--data", app.config.data_dir, "--to", "ann@example.com"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert "mail to ann@example.com [verify] 'Reset': Your link: https://x/reset" in lines[0]
    assert main(["outbox", "--data", app.config.data_dir]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_cli_without_data(tmp_path, capsys):
    assert main(["outbox", "--data", str(tmp_path / "none")]) == 1
    assert "no server data" in capsys.readouterr().err


def test_cli_bad_limit(app, capsys):
    assert main(["outbox", "--data", app.config.data_dir, "--limit", "0"]) == 1
    assert "limit" in capsys.readouterr().err


# --- senders -----------------------------------------------------------------------------


def test_a_plugged_mail_sender_replaces_the_outbox(app):
    sent = []

    class Relay:
        def send(self, storage, message):
            sent.append(message)

    messaging.set_mail_sender(Relay())
    try:
        mail(app)
    finally:
        messaging.set_mail_sender(None)
    assert [(m.channel, m.to, m.subject, m.kind) for m in sent] == [
        ("mail", "ann@example.com", "Hello", "verify")
    ]
    assert messaging.outbox(app.storage) == []
    assert isinstance(messaging.mail_sender(), messaging.Outbox)


def test_a_failing_mail_sender_is_code_1(app):
    class Down:
        def send(self, storage, message):
            raise ConnectionRefusedError("relay down")

    messaging.set_mail_sender(Down())
    try:
        with pytest.raises(ApiError) as info:
            mail(app)
    finally:
        messaging.set_mail_sender(None)
    assert info.value.code == 1


class FakeSMTP:
    """Stands in for smtplib.SMTP / SMTP_SSL and records the conversation."""

    instances = []

    def __init__(self, host, port, timeout=None, context=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.calls = []
        FakeSMTP.instances.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.calls.append("quit")

    def starttls(self, context=None):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        self.calls.append(("send", message))


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSMTP.instances = []
    monkeypatch.setattr(messaging.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(messaging.smtplib, "SMTP_SSL", type("FakeSSL", (FakeSMTP,), {}))
    return FakeSMTP.instances


def test_smtp_from_env_with_starttls_and_login(app, fake_smtp, monkeypatch):
    monkeypatch.setenv("LEANCLOUD_SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("LEANCLOUD_SMTP_USER", "bot@example.com")
    monkeypatch.setenv("LEANCLOUD_SMTP_PASSWORD", "pw")
    monkeypatch.setenv("LEANCLOUD_SMTP_FROM", "App <noreply@example.com>")
    assert isinstance(messaging.mail_sender(), messaging.SmtpMailSender)
    mail(app, subject="Verify", text="Open the link")
    (smtp,) = fake_smtp
    assert (smtp.host, smtp.port) == ("mail.example.com", 587)
    assert smtp.calls[0] == "starttls"
    assert smtp.calls[1] == ("login", "bot@example.com", "pw")
    sent = smtp.calls[2][1]
    assert (sent["From"], sent["To"], sent["Subject"]) == (
        "App <noreply@example.com>",
        "ann@example.com",
        "Verify",
    )
    assert sent.get_content().strip() == "Open the link"
    assert smtp.calls[-1] == "quit"
    assert messaging.outbox(app.storage) == []  # real mail is not kept


def test_smtp_ssl_without_login(app, fake_smtp, monkeypatch):
    monkeypatch.setenv("LEANCLOUD_SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("LEANCLOUD_SMTP_TLS", "ssl")
    mail(app)
    (smtp,) = fake_smtp
    assert type(smtp).__name__ == "FakeSSL" and smtp.port == 465
    assert [c for c in smtp.calls if c == "starttls" or c[0] == "login"] == []


def test_smtp_plain_on_a_chosen_port(app, fake_smtp, monkeypatch):
    monkeypatch.setenv("LEANCLOUD_SMTP_HOST", "localhost")
    monkeypatch.setenv("LEANCLOUD_SMTP_TLS", "none")
    monkeypatch.setenv("LEANCLOUD_SMTP_PORT", "2525")
    mail(app)
    (smtp,) = fake_smtp
    assert smtp.port == 2525 and "starttls" not in smtp.calls


def test_smtp_settings():
    assert messaging.SmtpSettings.from_env({}) is None
    settings = messaging.SmtpSettings.from_env({"LEANCLOUD_SMTP_HOST": "h"})
    assert (settings.sender, settings.effective_port, settings.security) == (
        "noreply@h",
        587,
        "starttls",
    )
    with pytest.raises(ValueError):
        messaging.SmtpSettings.from_env({"LEANCLOUD_SMTP_HOST": "h", "LEANCLOUD_SMTP_TLS": "x"})
