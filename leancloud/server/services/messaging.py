"""Mail and SMS leave the server through pluggable senders.

A self-hosted server has no SMS provider and often no mail relay, so the default sender
is the **outbox**: every message is stored in the master-only system class
``_OutboxMessage`` and logged, and an operator (``python -m leancloud outbox``) or a
test (``GET /1.1/outbox``) reads the codes and links from there. Setting
``LEANCLOUD_SMTP_HOST`` switches mail to SMTP (``smtplib``); any object with
``send(storage, message)`` can replace either sender (``set_mail_sender``,
``set_sms_sender``), e.g. one that calls a real SMS provider.

Senders are chosen per process, like logging handlers. A sender reports a failure by
raising; the caller then answers LeanCloud's "provider failed" error.

Call ``send_mail`` (and ``sms.send_code``) outside a storage write transaction: the
outbox writes in one of its own.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Dict, List, Mapping, Optional, Protocol

from leancloud.server.errors import ApiError
from leancloud.server.principal import MASTER
from leancloud.server.query import parse_query
from leancloud.server.services.objects import new_object_id, now
from leancloud.server.storage.base import Storage, StoredObject

__all__ = [
    "OUTBOX_CLASS",
    "Message",
    "Sender",
    "Outbox",
    "SmtpSettings",
    "SmtpMailSender",
    "normalize_phone",
    "deliver",
    "send_mail",
    "outbox",
    "format_message",
    "set_mail_sender",
    "set_sms_sender",
    "mail_sender",
    "sms_sender",
]

logger = logging.getLogger("leancloud.server.messaging")

OUTBOX_CLASS = "_OutboxMessage"
MAX_OUTBOX_LIMIT = 1000
_BOOKKEEPING = ("updatedAt", "sentNs")
DEFAULT_IDD = "+86"  # LeanCloud's rule for numbers given without a country code
_E164 = re.compile(r"\+[1-9][0-9]{4,14}\Z")


def normalize_phone(phone: Any) -> str:
    """E.164 form of a mobile number; no ``+`` means mainland China (``+86``). 127 if invalid."""
    if isinstance(phone, str):
        number = phone.strip().replace(" ", "").replace("-", "")
        if not number.startswith("+"):
            number = DEFAULT_IDD + number
        if _E164.match(number):
            return number
    raise ApiError(127, "Invalid mobile phone number.")


@dataclass(frozen=True)
class Message:
    """One message to deliver. ``kind`` says what it is for (``verify``, ``reset``, ...)."""

    channel: str  # "mail", "sms" or "voice"
    to: str  # an email address or an E.164 phone number
    kind: str
    text: str
    subject: Optional[str] = None
    # What a real provider needs besides the text: SMS code, template, sign, variables.
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_data(self) -> Dict[str, Any]:
        data = {"channel": self.channel, "to": self.to, "kind": self.kind, "text": self.text}
        if self.subject is not None:
            data["subject"] = self.subject
        if self.details:
            data["details"] = dict(self.details)
        return data


class Sender(Protocol):
    def send(self, storage: Storage, message: Message) -> None:
        """Deliver ``message`` or raise."""


class Outbox:
    """Deliver nowhere: keep the message in ``_OutboxMessage`` and log one line."""

    def send(self, storage: Storage, message: Message) -> None:
        stamp = now()
        # createdAt has millisecond precision; the nanosecond clock keeps the order exact.
        data = {**message.to_data(), "sentNs": time.time_ns()}
        row = StoredObject(OUTBOX_CLASS, new_object_id(), stamp, stamp, data, {})
        with storage.write() as tx:
            tx.insert(row)
        logger.info(
            "outbox: %s to %s (%s): %s",
            message.channel,
            message.to,
            message.kind,
            message.subject or message.text,
        )


_SECURITY = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    """Where mail goes; ``security`` is ``starttls`` (default), ``ssl`` or ``none``."""

    host: str
    sender: str
    port: int = 0  # 0 = the security mode's usual port
    user: Optional[str] = None
    password: Optional[str] = None
    security: str = "starttls"
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.security not in _SECURITY:
            raise ValueError(f"SMTP security must be one of {sorted(_SECURITY)}")

    @property
    def effective_port(self) -> int:
        return self.port or _SECURITY[self.security]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Optional[SmtpSettings]:
        """``LEANCLOUD_SMTP_HOST`` (required), ``_PORT``, ``_USER``, ``_PASSWORD``, ``_FROM``,
        ``_TLS``; None when no host is set."""
        host = environ.get("LEANCLOUD_SMTP_HOST", "").strip()
        if not host:
            return None
        user = environ.get("LEANCLOUD_SMTP_USER") or None
        return cls(
            host=host,
            sender=environ.get("LEANCLOUD_SMTP_FROM") or user or f"noreply@{host}",
            port=int(environ.get("LEANCLOUD_SMTP_PORT") or 0),
            user=user,
            password=environ.get("LEANCLOUD_SMTP_PASSWORD") or None,
            security=(environ.get("LEANCLOUD_SMTP_TLS") or "starttls").strip().lower(),
        )


class SmtpMailSender:
    """Send mail through an SMTP relay with the standard library."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, storage: Storage, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject or ""
        mail.set_content(message.text)
        with self._connect() as smtp:
            if self.settings.user:
                smtp.login(self.settings.user, self.settings.password or "")
            smtp.send_message(mail)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(s.host, s.effective_port, timeout=s.timeout, context=context)
        smtp = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout)
        if s.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp


_OUTBOX = Outbox()
_senders: Dict[str, Optional[Sender]] = {"mail": None, "sms": None}


def set_mail_sender(sender: Optional[Sender]) -> None:
    """Use ``sender`` for mail in this process; None restores the default."""
    _senders["mail"] = sender


def set_sms_sender(sender: Optional[Sender]) -> None:
    """Use ``sender`` for SMS and voice codes in this process; None restores the outbox."""
    _senders["sms"] = sender


def mail_sender() -> Sender:
    """The configured sender, else SMTP when ``LEANCLOUD_SMTP_HOST`` is set, else the outbox."""
    if _senders["mail"] is not None:
        return _senders["mail"]
    settings = SmtpSettings.from_env()
    return SmtpMailSender(settings) if settings is not None else _OUTBOX


def sms_sender() -> Sender:
    return _senders["sms"] or _OUTBOX


def deliver(storage: Storage, sender: Sender, message: Message, error: ApiError) -> None:
    """Hand ``message`` to ``sender``; its failure is logged and answered as ``error``."""
    try:
        sender.send(storage, message)
    except Exception:  # noqa: BLE001 - any sender failure is the provider's, not a 500
        logger.exception("could not send %s to %s", message.channel, message.to)
        raise error from None


def send_mail(
    storage: Storage, config: Any, to: str, subject: str, text: str, *, kind: str
) -> None:
    """Send one mail through the configured sender (outbox by default)."""
    if not isinstance(to, str) or not to:
        raise ApiError(125, "The email address is invalid.")
    message = Message("mail", to, kind, text, subject)
    deliver(storage, mail_sender(), message, ApiError(1, "Could not send the email."))


def _phone_or_text(to: str) -> str:
    try:
        return normalize_phone(to)
    except ApiError:
        return to


def format_message(row: Mapping[str, Any]) -> str:
    """One outbox row as a line (mail adds its subject) for people reading a terminal."""
    subject = f" {row['subject']!r}" if row.get("subject") else ""
    text = str(row.get("text", "")).replace("\n", " ")
    return f"{row['createdAt']} {row['channel']} to {row['to']} [{row['kind']}]{subject}: {text}"


def outbox(storage: Storage, to: Optional[str] = None, limit: int = 100) -> List[dict]:
    """The newest messages first, all or those sent to ``to``; each a dict with
    ``objectId, createdAt, channel, to, kind, text`` and ``subject`` for mail."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_OUTBOX_LIMIT:
        raise ApiError(1, f"limit must be between 1 and {MAX_OUTBOX_LIMIT}.")
    params: Dict[str, Any] = {"order": "-sentNs", "limit": limit}
    if to is not None:
        params["where"] = {"to": to if "@" in to else _phone_or_text(to)}
    rows = storage.find(parse_query(OUTBOX_CLASS, params), MASTER)
    return [{k: v for k, v in row.items() if k not in _BOOKKEEPING} for row in rows]
