"""Class hooks around object writes: ``beforeSave``/``afterSave``, ``beforeUpdate``/
``afterUpdate``, ``beforeDelete``/``afterDelete``.

The objects service calls a ``ClassHooks`` (built per request by ``class_hooks``) with
the object in its wire form. ``before*`` hooks run before the write's transaction
opens (the Engine may call the server back), so a refusal leaves no trace: it becomes
error 142 ``Cloud Code validation failed. Error detail : <the hook's message>``.
``beforeSave`` answers the fields to save; ``beforeUpdate`` may change the values of
the keys being updated (other changes are ignored, as on LeanCloud). ``after*`` hooks
run after the commit; their failures are only logged.

``__ignore_hooks`` (a list of hook names in the body) skips hooks, and is honoured only
for callers with the master key or the hook key (the HTTP layer refuses it otherwise).
``_Installation`` has no hooks, as on LeanCloud.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, FrozenSet, Mapping, Optional

from leancloud.engine.registry import CLASS_HOOKS, class_hook_name
from leancloud.server.errors import ApiError
from leancloud.server.hooks.client import EngineClient, EngineReply
from leancloud.server.principal import MASTER
from leancloud.server.query import parse_query

if TYPE_CHECKING:  # pragma: no cover
    from leancloud.server.http.request import ApiRequest

__all__ = ["HOOK_REJECTED", "ClassHooks", "class_hooks", "ignored_hooks"]

log = logging.getLogger("leancloud.server.engine")

HOOK_REJECTED = 142
NO_HOOK_CLASSES = frozenset({"_Installation"})
# Keys of an object dump that are not fields to write.
_NOT_FIELDS = frozenset(
    {
        "objectId",
        "createdAt",
        "updatedAt",
        "className",
        "__type",
        "__before",
        "__after",
        "_updatedKeys",
        "__ignore_hooks",
    }
)
# A _User hook never sees these, so its answer cannot carry them: keep the write's own.
_KEPT_FROM_WRITE = ("password", "sessionToken")


def _shown(class_name: str, obj: Mapping[str, Any]) -> Dict[str, Any]:
    """What a hook may see of an object: never a user's password or session token."""
    if class_name != "_User":
        return dict(obj)
    return {k: v for k, v in obj.items() if k not in _KEPT_FROM_WRITE}


def rejected(reply: EngineReply) -> ApiError:
    body = reply.body if isinstance(reply.body, dict) else {}
    detail = body.get("error") or f"LeanEngine answered HTTP {reply.status}"
    return ApiError(HOOK_REJECTED, f"Cloud Code validation failed. Error detail : {detail}", 400)


def ignored_hooks(body: Any) -> FrozenSet[str]:
    """The hook names a write body asks to skip (``__ignore_hooks``)."""
    names = body.get("__ignore_hooks") if isinstance(body, dict) else None
    if isinstance(names, str):
        names = [names]
    return frozenset(n for n in names or () if isinstance(n, str))


class ClassHooks:
    """The Engine's class hooks as one write request triggers them.

    ``user``: loads the calling user (fields with its session token) when a hook needs it.
    """

    def __init__(
        self,
        client: EngineClient,
        ignored: FrozenSet[str] = frozenset(),
        production: bool = True,
        user: Callable[[], Optional[Dict[str, Any]]] = lambda: None,
    ) -> None:
        self.client = client
        self.ignored = ignored
        self.production = production
        self._load_user = user
        self._user: Optional[Dict[str, Any]] = None
        self._user_loaded = False

    def _caller(self) -> Optional[Dict[str, Any]]:
        if not self._user_loaded:
            self._user, self._user_loaded = self._load_user(), True
        return self._user

    def wants(self, class_name: str, hook: str) -> bool:
        """Whether ``hook`` (``"beforeSave"``, ...) is to run for a write to ``class_name``."""
        if hook not in CLASS_HOOKS:
            raise ValueError(f"unknown class hook {hook!r}")
        return (
            hook not in self.ignored
            and class_name not in NO_HOOK_CLASSES
            and self.client.defines(class_hook_name(class_name, hook))
        )

    def _call(self, class_name: str, hook: str, obj: Mapping[str, Any]) -> Optional[EngineReply]:
        """The Engine's answer; None when it turned out not to define the hook."""
        body: Dict[str, Any] = {"object": _shown(class_name, obj)}
        user = self._caller()
        if user:
            body["user"] = user
        reply = self.client.post(
            f"/1.1/functions/{class_name}/{hook}", body, hook=True, production=self.production
        )
        return None if reply.status == 404 else reply

    def _before(self, class_name: str, hook: str, obj: Mapping[str, Any]) -> Optional[Any]:
        reply = self._call(class_name, hook, obj)
        if reply is None:
            return None
        if not reply.ok:
            raise rejected(reply)
        return reply.body

    def before_save(self, class_name: str, fields: Mapping[str, Any]) -> Dict[str, Any]:
        """The fields to create the object with; 142 if the hook refuses."""
        answer = self._before(class_name, "beforeSave", _shown(class_name, fields))
        if not isinstance(answer, dict):
            return dict(fields)
        saved = {k: v for k, v in answer.items() if k not in _NOT_FIELDS}
        if class_name == "_User":
            saved.update({k: fields[k] for k in _KEPT_FROM_WRITE if k in fields})
        return saved

    def before_update(
        self, class_name: str, preview: Mapping[str, Any], fields: Mapping[str, Any]
    ) -> Dict[str, Any]:
        """The update's fields, with the values the hook gave the updated keys.

        ``preview``: the object as it would be after the update (its wire form).
        """
        updated = [k for k in fields if k not in _NOT_FIELDS and k != "ACL"]
        answer = self._before(class_name, "beforeUpdate", {**preview, "_updatedKeys": updated})
        result = dict(fields)
        if isinstance(answer, dict):
            for key in updated:
                if key in answer and answer[key] != preview.get(key):
                    result[key] = answer[key]
        return result

    def before_delete(self, class_name: str, obj: Mapping[str, Any]) -> None:
        self._before(class_name, "beforeDelete", obj)

    def after(self, class_name: str, hook: str, obj: Mapping[str, Any]) -> None:
        """Run an ``after*`` hook: the write is done, so a failure is only logged."""
        try:
            reply = self._call(class_name, hook, obj)
        except ApiError as exc:
            log.warning("%s of %s failed: %s", hook, class_name, exc.message)
            return
        if reply is not None and not reply.ok:
            log.warning("%s of %s answered %s %r", hook, class_name, reply.status, reply.body)


def class_hooks(request: ApiRequest) -> Optional[ClassHooks]:
    """The class hooks of a write request; None when the server has no Engine."""
    client = getattr(request.app, "engine", None)
    if client is None:
        return None
    caller = request.caller
    ignored = ignored_hooks(request.body) if caller.may_ignore_hooks else frozenset()
    return ClassHooks(
        client,
        ignored,
        caller.production,
        lambda: calling_user(request.storage, caller.principal.user_id, caller.session_token),
    )


def calling_user(storage: Any, user_id: Optional[str], token: Optional[str]) -> Optional[dict]:
    """The user a hook is told about: its public fields and its session token."""
    if not user_id:
        return None
    query = parse_query("_User", {"where": {"objectId": user_id}, "limit": 1})
    rows = storage.find(query, MASTER)
    if not rows:
        return None
    user = dict(rows[0])
    if token:
        user["sessionToken"] = token
    return user
