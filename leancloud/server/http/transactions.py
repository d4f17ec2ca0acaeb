"""``/1.1/transactions/read`` and ``/1.1/transactions/commit``: our extension for
``leancloud.ndb`` transactions (rules in ``services/transactions.py``). Any key may
call them; reads and writes obey ACLs as over ``/1.1/classes``, and clients cannot
write classes that have LeanEngine hooks (commits run none)."""

from __future__ import annotations

from typing import Any, Dict

from werkzeug.routing import Rule

from leancloud.server.http.entities import unskippable_hooks
from leancloud.server.http.request import ApiRequest
from leancloud.server.services import transactions


def read(request: ApiRequest) -> Dict[str, Any]:
    body = request.json_object()
    return {"results": transactions.read_versions(request.storage, request.principal, body)}


def commit(request: ApiRequest) -> Dict[str, Any]:
    body = request.json_object()
    hooks = unskippable_hooks(request)
    return {"results": transactions.commit(request.storage, request.principal, body, hooks)}


RULES = [
    Rule("/1.1/transactions/read", methods=["POST"], endpoint=read),
    Rule("/1.1/transactions/commit", methods=["POST"], endpoint=commit),
]
