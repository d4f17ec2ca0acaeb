"""Our migration extension (master key only; LeanCloud has no such routes).

``leancloud import --server`` writes through these, and ``leancloud import --from`` /
``leancloud export --server`` read through them when the source is one of our servers:

* ``POST /1.1/import``: one batch, ``{"className", "objects": [rows]}`` or
  ``{"className", "field", "relations": [{"owningId", "relatedId"}], "targetClass"}`` or
  ``{"schema": {...}}``, plus ``"dryRun": true`` to roll back. Rows keep their objectId,
  createdAt, updatedAt, ACL and ``_User`` password hash; answers ``{"inserted",
  "updated", "skipped", "failed": [[index, message], ...]}``.
* ``GET /1.1/import/files?key=K``: ``{"exists", "url"}``; ``PUT`` with the raw content
  (and ``mime_type``) stores it under that key: ``{"url"}``.
* ``GET /1.1/export/classes/<C>`` and ``/1.1/export/relations/<C>/<field>``: raw rows
  (hidden fields and ACL included) in pages of ``limit`` (default 100, max 1000) with a
  ``cursor``, like ``/1.1/scan``.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any, Dict, Optional

from werkzeug.routing import Rule

from leancloud.migration import writer
from leancloud.migration.records import to_row
from leancloud.server import safe_json
from leancloud.server.errors import ApiError
from leancloud.server.http.files import blobs
from leancloud.server.http.request import ApiRequest
from leancloud.server.names import check_class_name, check_field_name
from leancloud.server.services.files import file_url, is_valid_key

_MAX_PAGE = 1000
_DEFAULT_PAGE = 100


def import_batch(request: ApiRequest) -> Dict[str, Any]:
    request.require_master()
    body = request.json_object()
    dry_run = body.get("dryRun") is True
    if "schema" in body:
        if not isinstance(body["schema"], dict):
            raise ApiError(107, "An import schema must be a JSON object of classes.")
        return writer.write_schema(request.storage, body["schema"], dry_run).to_json()
    class_name = check_class_name(body.get("className"))
    if isinstance(body.get("objects"), list):
        result = writer.write_objects(request.storage, class_name, body["objects"], dry_run)
    elif isinstance(body.get("relations"), list):
        field = check_field_name(body.get("field"))
        target = body.get("targetClass")
        result = writer.write_relations(
            request.storage,
            class_name,
            field,
            body["relations"],
            dry_run,
            target if isinstance(target, str) else None,
        )
    else:
        raise ApiError(107, "An import batch needs objects, relations or a schema.")
    return result.to_json()


def _key(request: ApiRequest) -> str:
    key = request.params.get("key")
    if not is_valid_key(key):
        raise ApiError(1, f"Unsupported file key: {key!r}.")
    return key  # type: ignore[return-value]


def file_status(request: ApiRequest) -> Dict[str, Any]:
    request.require_master()
    key = _key(request)
    exists = os.path.exists(blobs(request).content_path(key))
    return {"exists": exists, "url": file_url(request.public_url(), key)}


def store_file(request: ApiRequest) -> Dict[str, Any]:
    request.require_master()
    key = _key(request)
    staged = blobs(request).stage(io.BytesIO(request.raw_body), request.config.max_file_bytes)
    staged.commit(key, request.params.get("mime_type") or None)
    return {"url": file_url(request.public_url(), key)}


def _page_size(request: ApiRequest) -> int:
    try:
        limit = int(request.params.get("limit") or _DEFAULT_PAGE)
    except ValueError:
        raise ApiError(1, "limit must be a number.") from None
    return max(1, min(limit, _MAX_PAGE))


def export_objects(request: ApiRequest, class_name: str) -> Dict[str, Any]:
    request.require_master()
    check_class_name(class_name)
    limit = _page_size(request)
    schema = request.storage.schema(class_name).get(class_name, {})
    relations = {
        name: spec["className"] for name, spec in schema.items() if spec.get("type") == "Relation"
    }
    page = request.storage.dump(class_name, request.params.get("cursor") or None, limit)
    cursor = page[-1].object_id if len(page) == limit else None
    return {"results": [to_row(obj, relations) for obj in page], "cursor": cursor}


def _relation_cursor(text: Optional[str]) -> Optional[tuple]:
    if not text:
        return None
    try:
        owner, target = safe_json.loads(text)  # a client's text: bounded nesting
        return str(owner), str(target)
    except (ValueError, TypeError):
        raise ApiError(1, "Invalid export cursor.") from None


def export_relations(request: ApiRequest, class_name: str, field: str) -> Dict[str, Any]:
    request.require_master()
    check_class_name(class_name)
    check_field_name(field)
    limit = _page_size(request)
    after = _relation_cursor(request.params.get("cursor"))
    page = request.storage.dump_relations(class_name, field, after, limit)
    cursor = json.dumps([page[-1][0], page[-1][2]]) if len(page) == limit else None
    rows = [
        {"owningId": owner, "relatedId": target, "relatedClassName": target_class}
        for owner, target_class, target in page
    ]
    return {"results": rows, "cursor": cursor}


RULES = [
    Rule("/1.1/import", methods=["POST"], endpoint=import_batch),
    Rule("/1.1/import/files", methods=["GET"], endpoint=file_status),
    Rule("/1.1/import/files", methods=["PUT"], endpoint=store_file),
    Rule("/1.1/export/classes/<class_name>", methods=["GET"], endpoint=export_objects),
    Rule("/1.1/export/relations/<class_name>/<field>", methods=["GET"], endpoint=export_relations),
]
