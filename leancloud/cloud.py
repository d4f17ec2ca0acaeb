"""LeanEngine cloud functions, SMS codes, captchas and the server clock.

``run`` calls ``/functions/<name>`` with plain JSON; ``rpc`` calls ``/call/<name>``,
which carries LeanCloud objects both ways. ``run.local``/``rpc.local`` call a function
registered in this process instead of over HTTP (``run.remote``/``rpc.remote`` are
``run``/``rpc``); a LeanEngine implementation provides them with
``set_local_runner``, and without one they return ``None``, as the official SDK
does without an engine.

Deliberate differences from the official SDK (same wire requests otherwise):

* ``rpc`` sends ``leancloud.Object`` arguments in full (``{"__type": "Object", ...}``),
  as its documentation promises; the official SDK sent only Pointers.
* ``run`` encodes its arguments with the codec, so dates, objects and files can be
  passed (the official SDK failed on anything that is not plain JSON).
* Wrong argument types raise ``TypeError`` before any request.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Dict, Optional

from leancloud import client, codec
from leancloud.errors import BAD_RESPONSE, LeanCloudError

__all__ = [
    "Captcha",
    "get_server_time",
    "request_captcha",
    "request_sms_code",
    "rpc",
    "run",
    "set_local_runner",
    "verify_captcha",
    "verify_sms_code",
]

_SMS_TYPES = ("sms", "voice")

# (function name, params, is_rpc) -> the function's raw result, set by LeanEngine.
LocalRunner = Callable[[str, Dict[str, Any], bool], Any]
_local_runner: Optional[LocalRunner] = None


def set_local_runner(runner: Optional[LocalRunner]) -> None:
    """Let ``run.local``/``rpc.local`` reach the functions registered in this process."""
    global _local_runner
    _local_runner = runner


def _check_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {value!r}")
    return value


def _function_path(prefix: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"a cloud function name must be a non-empty string, not {name!r}")
    return f"{prefix}/{client.segment(name)}"


def _field(content: Any, name: str) -> Any:
    if not isinstance(content, dict) or name not in content:
        raise LeanCloudError(BAD_RESPONSE, f"expected {name!r} in the response")
    return content[name]


def _result(path: str, body: Dict[str, Any]) -> Any:
    content = client.post(path, body).json()
    return codec.decode(content.get("result") if isinstance(content, dict) else None)


def run(_cloud_func_name: str, **params: Any) -> Any:
    """Call a LeanEngine function and return its decoded ``result``."""
    return _result(_function_path("/functions", _cloud_func_name), codec.encode(params))


def rpc(_cloud_rpc_name: str, **params: Any) -> Any:
    """Like ``run``, but objects go in and come back out as ``leancloud.Object``s."""
    path = _function_path("/call", _cloud_rpc_name)
    return _result(path, codec.encode(params, dump_objects=True))


def _run_locally(name: str, params: Dict[str, Any], is_rpc: bool) -> Any:
    if _local_runner is None:
        return None
    return codec.decode(_local_runner(name, params, is_rpc))


def _run_local(_cloud_func_name: str, **params: Any) -> Any:
    return _run_locally(_cloud_func_name, params, False)


def _rpc_local(_cloud_rpc_name: str, **params: Any) -> Any:
    return _run_locally(_cloud_rpc_name, params, True)


run.remote = run  # type: ignore[attr-defined]
run.local = _run_local  # type: ignore[attr-defined]
rpc.remote = rpc  # type: ignore[attr-defined]
rpc.local = _rpc_local  # type: ignore[attr-defined]


def request_sms_code(
    phone_number: str,
    idd: str = "+86",
    sms_type: str = "sms",
    validate_token: Optional[str] = None,
    template: Optional[str] = None,
    sign: Optional[str] = None,
    params: Optional[Dict[str, Any]] = None,
) -> None:
    """Send a verification code by SMS or voice call.

    ``idd`` prefixes a number without ``+``; ``params`` fill the template's variables.
    """
    _check_str("phone_number", phone_number)
    _check_str("idd", idd)
    if sms_type not in _SMS_TYPES:
        raise ValueError(f"sms_type must be 'sms' or 'voice', not {sms_type!r}")
    for name, value in (("validate_token", validate_token), ("template", template), ("sign", sign)):
        if value is not None:
            _check_str(name, value)
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict, not {params!r}")
    body: Dict[str, Any] = {
        "mobilePhoneNumber": phone_number if phone_number.startswith("+") else idd + phone_number,
        "smsType": sms_type,
    }
    for name, value in (("template", template), ("sign", sign), ("validate_token", validate_token)):
        if value is not None:
            body[name] = value
    body.update(codec.encode(params or {}))
    client.post("/requestSmsCode", body)


def verify_sms_code(phone_number: str, code: Any) -> bool:
    """Check a code sent by ``request_sms_code``; a wrong code raises ``LeanCloudError``."""
    _check_str("phone_number", phone_number)
    if isinstance(code, bool) or not isinstance(code, (str, int)) or code == "":
        raise TypeError(f"code must be a non-empty string, not {code!r}")
    path = f"/verifySmsCode/{client.segment(code)}"
    client.post(path, {"mobilePhoneNumber": phone_number})
    return True


class Captcha:
    """An image captcha: show ``url``, then ``verify`` what the user typed."""

    def __init__(self, token: str, url: str) -> None:
        self.token = token
        self.url = url

    def verify(self, code: str) -> str:
        """The ``validate_token`` for SMS requests; a wrong code raises ``LeanCloudError``."""
        return verify_captcha(code, self.token)

    def __repr__(self) -> str:
        return f"Captcha(token={self.token!r}, url={self.url!r})"


def request_captcha(
    size: Optional[int] = None,
    width: Optional[int] = None,
    height: Optional[int] = None,
    ttl: Optional[int] = None,
) -> Captcha:
    """A new captcha; ``size`` (characters) and ``ttl`` (seconds) need the master key."""
    given = {"size": size, "width": width, "height": height, "ttl": ttl}
    params = {k: v for k, v in given.items() if v is not None}
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, not {value!r}")
    content = client.get("/requestCaptcha", params).json()
    return Captcha(_field(content, "captcha_token"), _field(content, "captcha_url"))


def verify_captcha(code: str, token: str) -> str:
    """The ``validate_token`` for a correct captcha ``code``."""
    _check_str("code", code)
    _check_str("token", token)
    body = {"captcha_token": token, "captcha_code": code}
    return _field(client.post("/verifyCaptcha", body).json(), "validate_token")


def get_server_time() -> _dt.datetime:
    """The server's clock (``GET /date``)."""
    return client.get_server_time()
