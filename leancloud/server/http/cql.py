"""``GET /1.1/cloudQuery``: CQL, run as the REST requests it stands for.

A statement is parsed into REST parameters and bodies (``query/cql.py``), then each
becomes an internal request through the same routing table as HTTP requests, for the
same caller: a ``select`` is ``GET /1.1/classes/<C>``, an ``insert`` one
``POST /1.1/classes/<C>`` per row, an ``update`` ``PUT /1.1/classes/<C>/<id>`` and a
``delete`` ``DELETE /1.1/classes/<C>/<id>`` (with the extra conditions as ``where``).
So ACLs, ``_User`` rules and class-specific routes apply exactly as over REST.

Write responses (LeanCloud never documented them): ``{"results": [...], "className"}``
where ``results`` holds each REST answer (``{objectId, createdAt}`` per inserted row,
``{updatedAt, objectId}`` for an update) and is empty for a delete. A multi-row insert
is not a transaction (like ``/1.1/batch``): rows before a failing one stay inserted.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from werkzeug.routing import Rule

from leancloud.server.http.app import query_params
from leancloud.server.http.request import ApiRequest
from leancloud.server.query.cql import (
    CqlInsert,
    CqlSelect,
    CqlUpdate,
    Statement,
    decode_pvalues,
    parse_cql,
)


def cloud_query(request: ApiRequest) -> Dict[str, Any]:
    statement = parse_cql(
        request.params.get("cql", ""), decode_pvalues(request.params.get("pvalues"))
    )
    return {**_run(request, statement), "className": statement.class_name}


def _run(request: ApiRequest, statement: Statement) -> Dict[str, Any]:
    path = f"/1.1/classes/{statement.class_name}"
    if isinstance(statement, CqlSelect):
        found = _call(request, "GET", path, statement.params)
        result: Dict[str, Any] = {"results": found["results"] if statement.rows else []}
        if statement.with_count:
            result["count"] = found["count"]
        return result
    if isinstance(statement, CqlInsert):
        return {"results": [_call(request, "POST", path, {}, row) for row in statement.rows]}
    where = {"where": statement.where} if statement.where is not None else {}
    target = f"{path}/{statement.object_id}"
    if isinstance(statement, CqlUpdate):
        return {"results": [_call(request, "PUT", target, where, statement.body)]}
    _call(request, "DELETE", target, where)
    return {"results": []}


def _call(
    request: ApiRequest, method: str, path: str, params: Dict[str, Any], body: Optional[Any] = None
) -> Any:
    reply = request.app.dispatch(request.caller, method, path, query_params(params), body)
    return reply.body


RULES: List[Rule] = [Rule("/1.1/cloudQuery", methods=["GET"], endpoint=cloud_query)]
