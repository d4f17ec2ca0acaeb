"""The legacy hook signatures (``__before``, ``__after``, ``__sign``).

Older platform versions and lean-cli's console authenticate hook calls with a value
carried in the body instead of ``X-LC-Hook-Key``: ``"<ms timestamp>,<hex HMAC-SHA1>"``,
keyed with the master key over ``"<name>:<timestamp>"``. A saved object that carries a
valid ``__before``/``__after`` tells the storage server to skip that object's hooks, so
the Engine echoes them on the object it hands to the hook.

``name`` is ``__before_for_<Class>`` / ``__after_for_<Class>`` for class hooks,
``__on_verified_<sms|email>``, ``__on_login__User``, ``__on_complete_bigquery_job``,
or a realtime hook's function name. Like LeanCloud, timestamps are not checked for
freshness.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, Optional

from leancloud import client
from leancloud.engine.authorization import same_secret

__all__ = ["sign_hook", "verify_hook"]


def sign_hook(name: str, master_key: str, timestamp: Optional[int] = None) -> str:
    """The signature of a hook call named ``name``."""
    ts = str(int(time.time() * 1000) if timestamp is None else timestamp)
    digest = hmac.new(master_key.encode("utf-8"), f"{name}:{ts}".encode(), hashlib.sha1)
    return f"{ts},{digest.hexdigest()}"


def verify_hook(name: str, value: Any) -> bool:
    """Whether ``value`` is a valid signature of ``name`` under the configured master key."""
    master_key = client.get_app_info()["master_key"]
    if not isinstance(value, str) or not master_key:
        return False
    timestamp = value.split(",", 1)[0]
    if not timestamp.isdigit():
        return False
    return same_secret(value, sign_hook(name, master_key, int(timestamp)))
