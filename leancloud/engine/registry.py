"""The functions and hooks an Engine serves, under the names the platform knows them by.

The platform learns them from ``/1.1/functions/_ops/metadatas``, which lists these
internal names in registration order: a function's own name, ``__before_save_for_<Class>``
and the other class hooks, ``__on_verified_sms``/``__on_verified_email``,
``__on_login__User``, ``__on_authdata__User`` and ``__on_complete_bigquery_job``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

__all__ = [
    "CLASS_HOOKS",
    "ON_AUTH_DATA",
    "ON_INSIGHT",
    "ON_LOGIN",
    "REALTIME_HOOKS",
    "Entry",
    "Registry",
    "class_hook_name",
    "on_verified_name",
]

# URL hook name -> prefix of the internal name.
CLASS_HOOKS = {
    "beforeSave": "__before_save_for_",
    "afterSave": "__after_save_for_",
    "beforeUpdate": "__before_update_for_",
    "afterUpdate": "__after_update_for_",
    "beforeDelete": "__before_delete_for_",
    "afterDelete": "__after_delete_for_",
}
VERIFY_TYPES = ("sms", "email")
ON_LOGIN = "__on_login__User"
ON_AUTH_DATA = "__on_authdata__User"
ON_INSIGHT = "__on_complete_bigquery_job"
# Functions with these names are LeanCloud's realtime (IM) hooks: only the platform may call them.
REALTIME_HOOKS = frozenset(
    {
        "_messageReceived",
        "_receiversOffline",
        "_messageSent",
        "_messageUpdate",
        "_conversationStart",
        "_conversationStarted",
        "_conversationAdd",
        "_conversationAdded",
        "_conversationRemove",
        "_conversationRemoved",
        "_conversationUpdate",
        "_clientOnline",
        "_clientOffline",
        "_rtmClientSign",
    }
)


def class_hook_name(class_name: Any, hook: str) -> str:
    if not isinstance(class_name, str) or not class_name:
        raise TypeError(f"a class name must be a non-empty string, not {class_name!r}")
    return CLASS_HOOKS[hook] + class_name


def on_verified_name(verify_type: Any) -> str:
    if verify_type not in VERIFY_TYPES:
        raise ValueError(f"verify_type must be 'sms' or 'email', not {verify_type!r}")
    return f"__on_verified_{verify_type}"


@dataclass(frozen=True)
class Entry:
    func: Callable[..., Any]
    fetch_user: Optional[bool] = None  # None: the Engine's setting


class Registry:
    """Internal name -> Entry, in registration order; a name is registered once."""

    def __init__(self) -> None:
        self._entries: Dict[str, Entry] = {}

    def add(self, name: str, func: Any, fetch_user: Optional[bool] = None) -> Callable[..., Any]:
        if not callable(func):
            raise TypeError(f"cloud code must be callable, not {func!r}")
        self.check_free(name)
        self._entries[name] = Entry(func, fetch_user)
        return func

    def check_free(self, name: str) -> None:
        if name in self._entries:
            raise RuntimeError(f"cloud function: {name} is already registered")

    def get(self, name: str) -> Optional[Entry]:
        return self._entries.get(name)

    def names(self) -> List[str]:
        return list(self._entries)

    def merge(self, other: Registry) -> None:
        """Take every entry of ``other``; nothing is taken if any name is already used."""
        taken = [name for name in other._entries if name in self._entries]
        if taken:
            raise RuntimeError(f"cloud functions already registered: {', '.join(taken)}")
        self._entries.update(other._entries)
