"""``/1.1/requestSmsCode`` and ``/1.1/verifySmsCode/<code>``: the generic SMS code API."""

from __future__ import annotations

from typing import Any, Dict, Optional

from werkzeug.routing import Rule

from leancloud.server.errors import ApiError
from leancloud.server.http.request import ApiRequest
from leancloud.server.services import sms

# Body fields with a meaning of their own; every other key is a template variable.
_FIELDS = ("mobilePhoneNumber", "smsType", "ttl", "template", "sign", "validate_token")
DEFAULT_TTL_MINUTES = 10


def phone_of(body: Dict[str, Any]) -> str:
    phone = body.get("mobilePhoneNumber")
    if phone is None or phone == "":
        raise ApiError(212, "Mobile phone number is required.")
    if not isinstance(phone, str):
        raise ApiError(127, "Invalid mobile phone number.")
    return phone


def optional_text(body: Dict[str, Any], name: str) -> Optional[str]:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(1, f"{name} must be a string.")
    return value


def ttl_minutes(body: Dict[str, Any], default: int = DEFAULT_TTL_MINUTES) -> int:
    """``ttl`` in minutes, as a JSON number or a numeric string."""
    value = body.get("ttl")
    if value is None:
        return default
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(1, "ttl must be a whole number of minutes.")
    return value


def request_sms_code(request: ApiRequest) -> dict:
    body = request.json_object()
    sms.send_code(
        request.storage,
        request.config,
        phone_of(body),
        purpose="sms",
        ttl_minutes=ttl_minutes(body),
        template=optional_text(body, "template"),
        sign=optional_text(body, "sign"),
        params={k: v for k, v in body.items() if k not in _FIELDS},
        validate_token=optional_text(body, "validate_token"),
        sms_type=optional_text(body, "smsType") or "sms",
    )
    return {}


def verify_sms_code(request: ApiRequest, code: str) -> dict:
    body = request.json_object()
    sms.check_code(request.storage, phone_of(body), code, purpose="sms")
    return {}


RULES = [
    Rule("/1.1/requestSmsCode", methods=["POST"], endpoint=request_sms_code),
    Rule("/1.1/verifySmsCode/<code>", methods=["POST"], endpoint=verify_sms_code),
]
