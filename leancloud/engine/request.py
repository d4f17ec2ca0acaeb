"""``Call``: one authenticated request to the Engine, as the handlers see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ContextManager, Dict, Optional

from leancloud.engine.authorization import Caller, unauthorized
from leancloud.engine.context import request_scope
from leancloud.engine.errors import LeanEngineError
from leancloud.engine.registry import Entry, Registry
from leancloud.engine.signatures import verify_hook
from leancloud.user import User

__all__ = ["INVALID_JSON", "Call"]

INVALID_JSON = 107


@dataclass
class Call:
    caller: Caller
    body: Dict[str, Any]
    registry: Registry
    fetch_user: bool  # the Engine's setting; a function may override it
    meta: Dict[str, Any] = field(default_factory=dict)
    # Set once the request proved it comes from the platform (hook key, master key or a
    # valid legacy signature): only then is the body's ``user`` taken as the caller.
    from_platform: bool = False

    def __post_init__(self) -> None:
        self.from_platform = self.caller.master or self.caller.hook

    def require_hook(self, signed_as: Optional[str] = None, signature: Any = None) -> None:
        """401 unless the platform sent this hook call: hook key, master key or signature.

        A signature that is present must be valid, whatever else the request carries.
        """
        if signature is not None:
            if not (signed_as and verify_hook(signed_as, signature)):
                raise unauthorized()
            self.from_platform = True
        elif not self.from_platform:
            raise unauthorized()

    def signature(self, field: str, inside: Optional[str] = "object") -> Any:
        """A legacy signature the body carries (in its ``inside`` object), or None."""
        container = self.body.get(inside) if inside else self.body
        return container.get(field) if isinstance(container, dict) else None

    def require_master(self) -> None:
        if not self.caller.master:
            raise unauthorized()

    def json_object(self, key: str) -> Dict[str, Any]:
        """The body's object ``key``, which the platform always sends."""
        value = self.body.get(key)
        if not isinstance(value, dict):
            raise LeanEngineError(INVALID_JSON, f"{key!r} must be a JSON object", status=400)
        return value

    def entry(self, name: str, missing: str) -> Entry:
        """The registered function or hook ``name``; 404 with ``missing`` otherwise."""
        entry = self.registry.get(name)
        if entry is None:
            raise LeanEngineError(404, missing)
        return entry

    def scope(self, entry: Optional[Entry] = None) -> ContextManager[Optional[User]]:
        """Make the caller the current user while cloud code runs."""
        fetch_user = self.fetch_user
        if entry is not None and entry.fetch_user is not None:
            fetch_user = entry.fetch_user
        trusted_user = self.body.get("user") if self.from_platform else None
        return request_scope(self.caller.session_token, self.meta, fetch_user, trusted_user)
