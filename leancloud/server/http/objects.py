"""``/1.1/classes``, ``/1.1/scan/classes`` and ``/1.1/schemas``: thin glue to services."""

from __future__ import annotations

from typing import Any, Dict, Optional

from werkzeug.routing import Rule

from leancloud.server.errors import ApiError
from leancloud.server.hooks.classes import class_hooks
from leancloud.server.http.request import ApiRequest, Reply
from leancloud.server.services import objects


def write_body(request: ApiRequest) -> Dict[str, Any]:
    """The body of a save, after checking who may skip hooks with ``__ignore_hooks``."""
    body = dict(request.json_object())
    if body.pop("__ignore_hooks", None) is not None and not request.caller.may_ignore_hooks:
        raise ApiError(403, "Ignoring hooks requires the master key or the hook key.", 403)
    return body


def fetch_when_save(request: ApiRequest) -> bool:
    """The PY/Java spelling and the JS one."""
    return request.flag("fetchWhenSave") or request.flag("new")


def create(request: ApiRequest, class_name: str) -> Reply:
    result = objects.create_object(
        request.storage,
        request.principal,
        class_name,
        write_body(request),
        fetch_when_save(request),
        hooks=class_hooks(request),
    )
    return Reply(result, 201, {"Location": f"/1.1/classes/{class_name}/{result['objectId']}"})


def find(request: ApiRequest, class_name: str) -> dict:
    return objects.find_objects(request.storage, request.principal, class_name, request.params)


def get(request: ApiRequest, class_name: str, object_id: str) -> dict:
    return objects.get_object(
        request.storage, request.principal, class_name, object_id, request.params
    )


def update(request: ApiRequest, class_name: str, object_id: str) -> dict:
    return objects.update_object(
        request.storage,
        request.principal,
        class_name,
        object_id,
        write_body(request),
        where=request.params.get("where"),
        fetch=fetch_when_save(request),
        hooks=class_hooks(request),
    )


def delete(request: ApiRequest, class_name: str, object_ids: str) -> dict:
    write_body(request)  # only flags, but __ignore_hooks is checked like on saves
    ids = objects.parse_ids(object_ids)
    objects.delete_objects(
        request.storage,
        request.principal,
        class_name,
        ids,
        request.params.get("where"),
        hooks=class_hooks(request),
    )
    return {}


def scan(request: ApiRequest, class_name: str) -> dict:
    request.require_master()
    return objects.scan_objects(request.storage, request.principal, class_name, request.params)


def schemas(request: ApiRequest, class_name: Optional[str] = None) -> dict:
    request.require_master()
    return objects.get_schema(request.storage, class_name)


RULES = [
    Rule("/1.1/classes/<class_name>", methods=["POST"], endpoint=create),
    Rule("/1.1/classes/<class_name>", methods=["GET"], endpoint=find),
    Rule("/1.1/classes/<class_name>/<object_id>", methods=["GET"], endpoint=get),
    Rule("/1.1/classes/<class_name>/<object_id>", methods=["PUT"], endpoint=update),
    Rule("/1.1/classes/<class_name>/<object_ids>", methods=["DELETE"], endpoint=delete),
    Rule("/1.1/scan/classes/<class_name>", methods=["GET"], endpoint=scan),
    Rule("/1.1/schemas", methods=["GET"], endpoint=schemas),
    Rule("/1.1/schemas/<class_name>", methods=["GET"], endpoint=schemas),
]
