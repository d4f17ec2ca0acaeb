"""The one strict rule for class and field names, checked before a name goes anywhere.

LeanCloud: a letter first, then letters, digits and underscores. System classes and
built-in fields start with ``_`` and are listed explicitly.
"""

import re

from leancloud.server.errors import ApiError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}\Z")
SYSTEM_CLASSES = frozenset(
    {
        "_User",
        "_Role",
        "_File",
        "_Installation",
        "_Notification",
        "_Follower",
        "_Followee",
        "_Conversation",
        "_SysMessage",
        "_Status",
        "_LoginFailure",  # the server's failed-login record per user (master only)
        "_PhoneChange",  # who asked for a code to move to a number (master only)
        "_FileUpload",  # a pending /fileTokens upload (master only)
        # Messaging bookkeeping, master only: sent mail/SMS, SMS codes and send times,
        # captchas and their validate tokens.
        "_OutboxMessage",
        "_SmsCode",
        "_SmsThrottle",
        "_Captcha",
    }
)
# The server's own bookkeeping: no client may read or write these, whatever their ACLs.
INTERNAL_CLASSES = frozenset(
    {
        "_LoginFailure",
        "_PhoneChange",
        "_FileUpload",
        "_OutboxMessage",
        "_SmsCode",
        "_SmsThrottle",
        "_Captcha",
    }
)
# Rows a client may read by objectId but never search: only master lists devices (their
# push tokens), so subqueries by other callers see none of these rows either.
MASTER_LISTED_CLASSES = frozenset({"_Installation"})
# Keys inside nested objects may be any text but the path syntax characters.
_NESTED_KEY = re.compile(r'[^.$"\[\]\\]+\Z')
BUILTIN_FIELDS = frozenset({"objectId", "createdAt", "updatedAt", "ACL"})


def is_valid_class_name(name: object) -> bool:
    return isinstance(name, str) and (name in SYSTEM_CLASSES or bool(_NAME.match(name)))


def check_class_name(name: object) -> str:
    if not is_valid_class_name(name):
        raise ApiError(103, f"Invalid class name: {name!r}.")
    return name  # type: ignore[return-value]


def is_valid_field_name(name: object) -> bool:
    return isinstance(name, str) and bool(_NAME.match(name))


def check_field_name(name: object) -> str:
    """A top-level field name (not a dotted path)."""
    if not is_valid_field_name(name):
        raise ApiError(105, f"Invalid key name: {name!r}.")
    return name  # type: ignore[return-value]


def check_field_path(path: object) -> str:
    """A field name or a dotted path into nested objects, e.g. ``address.city``."""
    if not isinstance(path, str) or not path:
        raise ApiError(105, f"Invalid key name: {path!r}.")
    first, *rest = path.split(".")
    if not _NAME.match(first) or not all(_NESTED_KEY.match(part) for part in rest):
        raise ApiError(105, f"Invalid key name: {path!r}.")
    return path
