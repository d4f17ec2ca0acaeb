"""SMS verification codes: send one to a number for a purpose, check it once.

Every flow that proves a phone (``requestSmsCode``, phone verification, SMS log-in,
password reset, phone change) goes through ``send_code`` and ``check_code`` with its
own ``purpose``, so a code sent for one flow never opens another.

Storage (master-only system classes, rows keyed by a hash so lookups need no query):

* ``_SmsCode``: one row per (number, purpose) holding the newest code's SHA-256, its
  expiry, whether it was used and the failed guesses. A new code replaces the old one;
  ``MAX_GUESSES`` wrong guesses burn it, so six digits cannot be enumerated.
* ``_SmsThrottle``: one row per number with its send times of the last 24 hours,
  enforcing LeanCloud's limits (>= 1 minute apart, <= 10 a day: 601).

Numbers are normalised (``messaging.normalize_phone``) on both sides, so
``18612345678`` and ``+8618612345678`` share codes and limits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any, Dict, Mapping, Optional

from leancloud.server.errors import ApiError
from leancloud.server.services import captcha, messaging
from leancloud.server.services.objects import now as timestamp
from leancloud.server.storage.base import Storage, StoredObject, WriteTx

__all__ = ["PURPOSES", "SMS_TYPES", "send_code", "check_code"]

CODE_CLASS = "_SmsCode"
THROTTLE_CLASS = "_SmsThrottle"
PURPOSES = ("sms", "login", "verify", "reset", "change_phone")
SMS_TYPES = ("sms", "voice")
CODE_DIGITS = 6
MIN_INTERVAL = 60.0
DAILY_LIMIT = 10
DAY = 24 * 60 * 60.0
MAX_TTL_MINUTES = 24 * 60
MAX_GUESSES = 5
INVALID_CODE = "Invalid SMS code."

# The clock, looked up at call time so tests can move it instead of sleeping.
now = time.time


def _row_id(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:24]


def _code_hash(row_id: str, code: str) -> str:
    return hashlib.sha256(f"{row_id}:{code}".encode("utf-8")).hexdigest()


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")


def _throttle(tx: WriteTx, number: str, at: float) -> None:
    """Record one send to ``number`` at ``at``, or raise 601 if it is too soon."""
    row = tx.get(THROTTLE_CLASS, _row_id(number))
    times = [t for t in (row.data.get("times", ()) if row else ()) if t > at - DAY]
    if times and at - max(times) < MIN_INTERVAL:
        raise ApiError(601, "Can't send SMS too frequently: wait a minute between codes.")
    if len(times) >= DAILY_LIMIT:
        raise ApiError(601, "Can't send more SMS to this number today.")
    _put(tx, row, THROTTLE_CLASS, _row_id(number), {"times": times + [at]})


def _put(
    tx: WriteTx, row: Optional[StoredObject], class_name: str, row_id: str, data: dict
) -> None:
    stamp = timestamp()
    if row is None:
        tx.insert(StoredObject(class_name, row_id, stamp, stamp, data, {}))
    else:
        row.data, row.updated_at = data, stamp
        tx.update(row)


def _text(code: str, ttl_minutes: int, sign: Optional[str], params: Mapping[str, Any]) -> str:
    """The message a person reads; real providers get the template and variables too."""
    name = params.get("name")
    op = params.get("op")
    prefix = f"[{sign}] " if sign else ""
    app = f" for {name}" if name else ""
    action = f" ({op})" if op else ""
    return (
        f"{prefix}Your verification code{app}{action} is {code}. "
        f"It expires in {ttl_minutes} minutes."
    )


def send_code(
    storage: Storage,
    config: Any,
    phone: str,
    *,
    purpose: str,
    ttl_minutes: int = 10,
    template: Optional[str] = None,
    sign: Optional[str] = None,
    params: Optional[dict] = None,
    validate_token: Optional[str] = None,
    sms_type: str = "sms",
) -> None:
    """Send a fresh 6-digit code to ``phone`` for ``purpose`` (throttled, 601).

    With ``config.sms_require_captcha`` a captcha ``validate_token`` is required and
    used up (608). ``params`` are template variables (``name``, ``op``, ...).
    Call outside a write transaction.
    """
    _check_purpose(purpose)
    number = messaging.normalize_phone(phone)
    if sms_type not in SMS_TYPES:
        raise ApiError(1, "smsType must be 'sms' or 'voice'.")
    if isinstance(ttl_minutes, bool) or not isinstance(ttl_minutes, int):
        raise ApiError(1, "ttl must be a whole number of minutes.")
    if not 1 <= ttl_minutes <= MAX_TTL_MINUTES:
        raise ApiError(1, f"ttl must be between 1 and {MAX_TTL_MINUTES} minutes.")
    if config.sms_require_captcha:
        captcha.use_validate_token(storage, validate_token)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    row_id = _row_id(number, purpose)
    at = now()
    with storage.write() as tx:
        _throttle(tx, number, at)
        data = {
            "hash": _code_hash(row_id, code),
            "expiresAt": at + ttl_minutes * 60.0,
            "used": False,
            "guesses": 0,
        }
        _put(tx, tx.get(CODE_CLASS, row_id), CODE_CLASS, row_id, data)
    variables = dict(params or {})
    details: Dict[str, Any] = {"code": code, "ttl": ttl_minutes, "params": variables}
    details.update({k: v for k, v in (("template", template), ("sign", sign)) if v is not None})
    message = messaging.Message(
        sms_type, number, purpose, _text(code, ttl_minutes, sign, variables), details=details
    )
    error = ApiError(602, "The SMS provider could not send the message.")
    messaging.deliver(storage, messaging.sms_sender(), message, error)


def check_code(
    storage: Storage, phone: str, code: Any, *, purpose: str, consume: bool = True
) -> None:
    """Accept the newest unexpired, unused code for (``phone``, ``purpose``), else 603.

    ``consume`` uses it up. Call outside a write transaction.
    """
    _check_purpose(purpose)
    try:
        number = messaging.normalize_phone(phone)
    except ApiError:
        raise ApiError(603, INVALID_CODE) from None
    if isinstance(code, int) and not isinstance(code, bool):  # JSON bodies may send a number
        code = f"{code:0{CODE_DIGITS}d}"
    row_id = _row_id(number, purpose)
    at = now()
    with storage.write() as tx:
        row = tx.get(CODE_CLASS, row_id)
        if row is None or not _usable(row.data, at):
            raise ApiError(603, INVALID_CODE)
        right = isinstance(code, str) and hmac.compare_digest(
            _code_hash(row_id, code.strip()), row.data.get("hash", "")
        )
        if right and not consume:
            return
        if right:
            row.data = {**row.data, "used": True}
        else:
            row.data = {**row.data, "guesses": row.data.get("guesses", 0) + 1}
        row.updated_at = timestamp()
        tx.update(row)
    if not right:  # raised after the commit, so the failed guess is counted
        raise ApiError(603, INVALID_CODE)


def _usable(data: Mapping[str, Any], at: float) -> bool:
    return (
        not data.get("used")
        and data.get("guesses", 0) < MAX_GUESSES
        and at < data.get("expiresAt", 0)
    )
