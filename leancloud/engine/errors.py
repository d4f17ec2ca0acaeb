"""``LeanEngineError``: how cloud code refuses a call, and the JSON the caller receives.

The constructor keeps the official SDK's forgiving signature, because apps raise it in
every shape it ever accepted: ``LeanEngineError("text")``, ``LeanEngineError(code=N,
message=...)`` and ``LeanEngineError(code, message, status=S)``. Without an explicit
``status`` the HTTP status is the code when the code is an HTTP status, else 400.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, Optional, Union

from werkzeug.wrappers import Response

__all__ = ["LeanEngineError", "error_response", "json_response"]

_HTTP_STATUSES = frozenset(status.value for status in HTTPStatus)

# LeanCloud's answer to a failure inside cloud code, whatever it was.
SCRIPT_ERROR = 141
SCRIPT_ERROR_MESSAGE = "Cloud Code script had an error."


class LeanEngineError(Exception):
    """Raise it in a cloud function or hook to answer ``{"code": code, "error": message}``."""

    def __init__(
        self,
        code: Union[int, str, None] = None,
        message: str = "error",
        status: Optional[int] = None,
    ) -> None:
        if isinstance(code, str):  # LeanEngineError("text")
            code, message = 400, code
        elif code is None:
            code = 400 if status is None else 1
        if status is None:
            status = code if code in _HTTP_STATUSES else 400
        super().__init__(code, message)
        self.code: int = code
        self.message: str = message
        self.status: int = status

    def __str__(self) -> str:
        return f"LeanEngineError: [{self.code}] {self.message}"


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer; non-ASCII text stays readable, as LeanCloud sends it."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status=status, content_type="application/json; charset=utf-8")


def error_response(code: int, message: str, status: int) -> Response:
    """LeanCloud's error shape: ``{"code": ..., "error": ...}`` with an HTTP status."""
    return json_response({"code": code, "error": message}, status)
