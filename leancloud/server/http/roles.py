"""``/1.1/roles`` and ``/1.1/classes/_Role``: the same role rules under both paths.

These static rules win over ``/1.1/classes/<class_name>``, so a role is never created
or renamed by the generic object rules (reads and deletes are the generic ones).
"""

from __future__ import annotations

from typing import Any, Dict, List

from werkzeug.routing import Rule

from leancloud.server.http.objects import fetch_when_save, write_body
from leancloud.server.http.request import ApiRequest, Reply
from leancloud.server.services import objects, roles
from leancloud.server.services.roles import ROLE_CLASS


def create(request: ApiRequest) -> Reply:
    result = roles.create_role(
        request.storage, request.principal, write_body(request), fetch_when_save(request)
    )
    return Reply(result, 201, {"Location": f"/1.1/roles/{result['objectId']}"})


def find(request: ApiRequest) -> Dict[str, Any]:
    return objects.find_objects(request.storage, request.principal, ROLE_CLASS, request.params)


def get(request: ApiRequest, role_id: str) -> Dict[str, Any]:
    return objects.get_object(
        request.storage, request.principal, ROLE_CLASS, role_id, request.params
    )


def update(request: ApiRequest, role_id: str) -> Dict[str, Any]:
    return roles.update_role(
        request.storage,
        request.principal,
        role_id,
        write_body(request),
        where=request.params.get("where"),
        fetch=fetch_when_save(request),
    )


def delete(request: ApiRequest, role_ids: str) -> Dict[str, Any]:
    write_body(request)  # only flags, checked as on any delete
    objects.delete_objects(
        request.storage,
        request.principal,
        ROLE_CLASS,
        objects.parse_ids(role_ids),
        request.params.get("where"),
    )
    return {}


def _both(path: str, methods: List[str], endpoint: Any) -> List[Rule]:
    return [
        Rule(f"/1.1/roles{path}", methods=methods, endpoint=endpoint),
        Rule(f"/1.1/classes/{ROLE_CLASS}{path}", methods=methods, endpoint=endpoint),
    ]


RULES = [
    *_both("", ["POST"], create),
    *_both("", ["GET"], find),
    *_both("/<role_id>", ["GET"], get),
    *_both("/<role_id>", ["PUT"], update),
    *_both("/<role_ids>", ["DELETE"], delete),
]
