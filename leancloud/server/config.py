"""The server's settings: where data lives, the app's keys and the request limits.

Keys that are not given explicitly are generated on the first start and persisted in
``<data_dir>/config.json`` (mode 0600), so a plain ``leancloud serve`` keeps the same
credentials across restarts and clients stay connected.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from typing import Dict, Optional

DEFAULT_DATA_DIR = ".leancloud"
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
DEFAULT_HOOK_TIMEOUT = 15.0  # LeanCloud's limit for cloud functions and hooks, in seconds
CONFIG_FILE = "config.json"
KEY_NAMES = ("app_id", "app_key", "master_key", "hook_key")
_ALPHABET = string.ascii_letters + string.digits
# Generated lengths follow LeanCloud's console: long app ids, shorter keys.
_KEY_LENGTHS = {"app_id": 32, "app_key": 24, "master_key": 24, "hook_key": 24}


@dataclass(frozen=True)
class ServerConfig:
    app_id: str
    app_key: str
    master_key: str
    hook_key: str
    data_dir: str = DEFAULT_DATA_DIR
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # LeanCloud console switches, with a new app's defaults; env: see _switches().
    sms_require_captcha: bool = False  # SMS requests need a captcha validate_token (608)
    client_push: bool = False  # app-key callers may POST /1.1/push
    verify_email_on_sign_up: bool = True  # mail a verification link to new email addresses
    log_in_requires_verified_email: bool = False  # password log-ins of unverified emails: 216
    public_url: Optional[str] = None  # base of mailed links and file URLs; None: request's host
    # One uploaded file's content (413 above it); env LEANCLOUD_MAX_FILE_SIZE. Uploads are
    # requests too, so max_body_bytes caps them as well.
    max_file_bytes: int = DEFAULT_MAX_BODY_BYTES
    # The app's LeanEngine (env LEANCLOUD_ENGINE_URL) and how long a call to it may take
    # (env LEANCLOUD_HOOK_TIMEOUT); create_app's arguments win over both.
    engine_url: Optional[str] = None
    hook_timeout: float = DEFAULT_HOOK_TIMEOUT


def _generate(name: str) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(_KEY_LENGTHS[name]))


def _read_keys(path: str) -> Dict[str, str]:
    try:
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
    except FileNotFoundError:
        return {}
    if not isinstance(stored, dict):
        raise ValueError(f"{path} is not a JSON object")
    return {
        name: stored[name]
        for name in KEY_NAMES
        if isinstance(stored.get(name), str) and stored[name]
    }


def _write_keys(path: str, keys: Dict[str, str]) -> None:
    """Write atomically with mode 0600: the master key must not be world-readable."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(keys, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return value in ("1", "true", "yes", "on") if value else default


def _env_size(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ValueError(f"{name} must be a number of bytes, not {value!r}")
    return int(value)


def _env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return seconds


def _switches() -> Dict[str, bool]:
    """The console switches, from the environment the server starts in."""
    return {
        "sms_require_captcha": _env_flag("LEANCLOUD_SMS_REQUIRE_CAPTCHA"),
        "client_push": _env_flag("LEANCLOUD_CLIENT_PUSH"),
        "verify_email_on_sign_up": _env_flag("LEANCLOUD_VERIFY_EMAIL_ON_SIGN_UP", True),
        "log_in_requires_verified_email": _env_flag("LEANCLOUD_LOG_IN_REQUIRES_VERIFIED_EMAIL"),
    }


def load_config(
    data_dir: Optional[str] = None,
    *,
    app_id: Optional[str] = None,
    app_key: Optional[str] = None,
    master_key: Optional[str] = None,
    hook_key: Optional[str] = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> ServerConfig:
    """Explicit keys win, then the persisted ones; missing ones are generated and saved.

    Explicit keys are not written to disk: they are the caller's to keep.
    """
    data_dir = data_dir or DEFAULT_DATA_DIR
    os.makedirs(data_dir, mode=0o700, exist_ok=True)  # it holds the keys and the data
    path = os.path.join(data_dir, CONFIG_FILE)
    stored = _read_keys(path)
    explicit = {
        "app_id": app_id,
        "app_key": app_key,
        "master_key": master_key,
        "hook_key": hook_key,
    }
    missing = [name for name in KEY_NAMES if not explicit[name] and name not in stored]
    if missing:
        stored.update({name: _generate(name) for name in missing})
        _write_keys(path, stored)
    keys = {name: explicit[name] or stored[name] for name in KEY_NAMES}
    for name, value in keys.items():
        if "," in value:
            raise ValueError(f"{name} must not contain ','")
    return ServerConfig(
        data_dir=data_dir,
        max_body_bytes=max_body_bytes,
        public_url=os.environ.get("LEANCLOUD_PUBLIC_URL", "").strip().rstrip("/") or None,
        max_file_bytes=_env_size("LEANCLOUD_MAX_FILE_SIZE", DEFAULT_MAX_BODY_BYTES),
        engine_url=os.environ.get("LEANCLOUD_ENGINE_URL", "").strip() or None,
        hook_timeout=_env_seconds("LEANCLOUD_HOOK_TIMEOUT", DEFAULT_HOOK_TIMEOUT),
        **keys,
        **_switches(),
    )
