"""``GET /1.1/outbox``: what the outbox sender kept (master key only).

For operators and tests of a server without a mail relay or SMS provider: the codes
and links users would have received. ``?to=`` filters by address or phone number.

The bookkeeping classes of messaging, SMS and captchas are master-only under
``/1.1/classes`` too: their rows have empty ACLs, but without this a client could
still add rows, e.g. fake messages to the outbox.
"""

from __future__ import annotations

from typing import Any, Callable, List

from werkzeug.routing import Rule

from leancloud.server.errors import ApiError
from leancloud.server.http import objects as generic
from leancloud.server.http.request import ApiRequest
from leancloud.server.services import captcha, messaging, sms

INTERNAL_CLASSES = (
    messaging.OUTBOX_CLASS,
    sms.CODE_CLASS,
    sms.THROTTLE_CLASS,
    captcha.CAPTCHA_CLASS,
)


def read_outbox(request: ApiRequest) -> dict:
    request.require_master()
    limit = request.params.get("limit", "100")
    if not limit.isdigit():
        raise ApiError(1, "limit must be a positive integer.")
    to = request.params.get("to") or None
    return {"results": messaging.outbox(request.storage, to, int(limit))}


def _master_only(handler: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(request: ApiRequest, **values: Any) -> Any:
        request.require_master()
        return handler(request, **values)

    return guarded


_GENERIC = [
    ("", "POST", generic.create),
    ("", "GET", generic.find),
    ("/<object_id>", "GET", generic.get),
    ("/<object_id>", "PUT", generic.update),
    ("/<object_ids>", "DELETE", generic.delete),
]


def _internal_rules() -> List[Rule]:
    return [
        Rule(
            f"/1.1/classes/{class_name}{path}",
            methods=[method],
            endpoint=_master_only(handler),
            defaults={"class_name": class_name},
        )
        for class_name in INTERNAL_CLASSES
        for path, method, handler in _GENERIC
    ]


RULES = [Rule("/1.1/outbox", methods=["GET"], endpoint=read_outbox), *_internal_rules()]
