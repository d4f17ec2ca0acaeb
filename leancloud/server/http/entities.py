"""``PUT /1.1/entities/<class>/<objectId>``: our extension for ``leancloud.ndb``.

Replace-or-create under a chosen objectId (``?ifAbsent=1``: create only); the rules are
in ``services/entities.py``. Reads and deletes use the ordinary ``/1.1/classes`` routes.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from werkzeug.routing import Rule

from leancloud.server.hooks.classes import ClassHooks, class_hooks
from leancloud.server.http.objects import write_body
from leancloud.server.http.request import ApiRequest
from leancloud.server.services.entities import check_unhooked, put_entity


def unskippable_hooks(request: ApiRequest) -> Optional[ClassHooks]:
    """The Engine's class hooks unless this caller may skip them (master or hook key);
    entity writes run none, so ``check_unhooked`` refuses classes that have some."""
    return None if request.caller.may_ignore_hooks else class_hooks(request)


def put(request: ApiRequest, class_name: str, object_id: str) -> Dict[str, Any]:
    body = write_body(request)
    check_unhooked(unskippable_hooks(request), [class_name])
    with request.storage.write() as tx:
        return put_entity(
            tx, request.principal, class_name, object_id, body, request.flag("ifAbsent")
        )


RULES = [
    Rule("/1.1/entities/<class_name>/<object_id>", methods=["PUT"], endpoint=put),
]
