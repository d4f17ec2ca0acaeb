"""``GET /1.1/outbox``: what the outbox sender kept (master key only).

For operators and tests of a server without a mail relay or SMS provider: the codes
and links users would have received. ``?to=`` filters by address or phone number.

The bookkeeping classes of messaging, SMS and captchas are internal to the server
(``names.INTERNAL_CLASSES``): no client reads or writes them under ``/1.1/classes``.
"""

from __future__ import annotations

from werkzeug.routing import Rule

from leancloud.server.errors import ApiError
from leancloud.server.http.request import ApiRequest
from leancloud.server.services import messaging


def read_outbox(request: ApiRequest) -> dict:
    request.require_master()
    limit = request.params.get("limit", "100")
    if not limit.isdigit():
        raise ApiError(1, "limit must be a positive integer.")
    to = request.params.get("to") or None
    return {"results": messaging.outbox(request.storage, to, int(limit))}


RULES = [Rule("/1.1/outbox", methods=["GET"], endpoint=read_outbox)]
