"""Image captchas and the validate tokens that let an SMS request through.

``request_captcha`` stores a random code under a new token; the image endpoint renders
that code with the ``captcha`` library (the ``server`` extra, which brings Pillow);
``verify_captcha`` trades a right code for a ``validate_token``, which
``use_validate_token`` accepts once (the SMS service asks for it when the app requires
captchas). Without the library the server still runs and ``request_captcha`` answers
119 ("not enabled"), as LeanCloud does for an app whose captcha switch is off.

Both kinds of row live in the master-only system class ``_Captcha`` under ids derived
from a hash of their token. A captcha is burned by its first verification, right or
wrong, so its few characters cannot be guessed one try after another.
"""

from __future__ import annotations

import hashlib
import importlib.util
import secrets
import time
from dataclasses import dataclass
from typing import Any, Optional

from leancloud.server.errors import ApiError
from leancloud.server.principal import MASTER
from leancloud.server.query import parse_query
from leancloud.server.services.objects import now as timestamp
from leancloud.server.storage.base import Storage, StoredObject

__all__ = [
    "CaptchaOptions",
    "available",
    "request_captcha",
    "render_png",
    "verify_captcha",
    "use_validate_token",
]

CAPTCHA_CLASS = "_Captcha"
# No 0/O, 1/I/l: a captcha tests whether a person reads, not how well they guess glyphs.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"
VALIDATE_TTL = 10 * 60.0
LIMITS = {"width": (60, 200, 85), "height": (30, 100, 30), "size": (3, 6, 4), "ttl": (10, 180, 60)}
MASTER_ONLY = ("size", "ttl")
INVALID_CAPTCHA = "Invalid or expired captcha code."  # no dedicated code in LeanCloud's table
NEEDS_VALIDATE_TOKEN = "A valid captcha validate_token is required."

# The clock, looked up at call time so tests can move it instead of sleeping.
now = time.time


@dataclass(frozen=True)
class CaptchaOptions:
    width: int = 85
    height: int = 30
    size: int = 4
    ttl: int = 60

    @classmethod
    def parse(cls, params: Any, master: bool) -> CaptchaOptions:
        """From query parameters (strings or ints): ranges checked, ``size``/``ttl`` master only."""
        values = {}
        for name, (low, high, default) in LIMITS.items():
            raw = params.get(name)
            if raw is None or raw == "":
                values[name] = default
                continue
            if name in MASTER_ONLY and not master:
                raise ApiError(119, f"Changing the captcha {name} requires the master key.")
            values[name] = _bounded(name, raw, low, high)
        return cls(**values)


def _bounded(name: str, raw: Any, low: int, high: int) -> int:
    try:
        value = int(raw) if not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        raise ApiError(1, f"{name} must be an integer between {low} and {high}.")
    return value


def available() -> bool:
    """Whether the image library (``pip install leancloud[server]``) is installed."""
    return importlib.util.find_spec("captcha") is not None


def _row_id(kind: str, token: str) -> str:
    return hashlib.sha256(f"{kind}\0{token}".encode("utf-8")).hexdigest()[:24]


def _insert(storage: Storage, row_id: str, data: dict) -> None:
    stamp = timestamp()
    with storage.write() as tx:
        tx.insert(StoredObject(CAPTCHA_CLASS, row_id, stamp, stamp, data, {}))


def _take(storage: Storage, row_id: str) -> Optional[dict]:
    """Read and delete a row in one transaction: a token works at most once."""
    with storage.write() as tx:
        row = tx.get(CAPTCHA_CLASS, row_id)
        if row is not None:
            tx.delete(CAPTCHA_CLASS, row_id)
    if row is None or now() >= row.data.get("expiresAt", 0):
        return None
    return row.data


def request_captcha(storage: Storage, options: CaptchaOptions) -> str:
    """A new captcha's token (119 when the image library is missing)."""
    if not available():
        raise ApiError(
            119, "Captcha is not enabled on this server: install leancloud[server] to use it."
        )
    token = secrets.token_hex(16)
    code = "".join(secrets.choice(ALPHABET) for _ in range(options.size))
    data = {
        "kind": "captcha",
        "code": code,
        "width": options.width,
        "height": options.height,
        "expiresAt": now() + options.ttl,
    }
    _insert(storage, _row_id("captcha", token), data)
    return token


def render_png(storage: Storage, token: str) -> bytes:
    """The captcha's image as PNG bytes, at the size it was requested with."""
    query = parse_query(CAPTCHA_CLASS, {"where": {"objectId": _row_id("captcha", token)}})
    rows = storage.find(query, MASTER)
    if not rows or now() >= rows[0].get("expiresAt", 0) or not available():
        raise ApiError(1, INVALID_CAPTCHA, 404)
    from captcha.image import ImageCaptcha

    row = rows[0]
    return ImageCaptcha(width=row["width"], height=row["height"]).generate(row["code"]).getvalue()


def verify_captcha(storage: Storage, token: Any, code: Any) -> str:
    """A ``validate_token`` for the right code (case-insensitive), else code 1."""
    if not isinstance(token, str) or not token or not isinstance(code, str) or not code:
        raise ApiError(1, "captcha_token and captcha_code are required strings.")
    data = _take(storage, _row_id("captcha", token))
    if data is None or code.strip().lower() != data.get("code", "").lower():
        raise ApiError(1, INVALID_CAPTCHA)
    validate_token = secrets.token_hex(16)
    _insert(
        storage,
        _row_id("validate", validate_token),
        {"kind": "validate", "expiresAt": now() + VALIDATE_TTL},
    )
    return validate_token


def use_validate_token(storage: Storage, validate_token: Any) -> None:
    """Accept a validate token once, or raise 608."""
    if not isinstance(validate_token, str) or not validate_token:
        raise ApiError(608, NEEDS_VALIDATE_TOKEN)
    if _take(storage, _row_id("validate", validate_token)) is None:
        raise ApiError(608, NEEDS_VALIDATE_TOKEN)
