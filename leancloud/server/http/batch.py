"""``POST /1.1/batch``: items run in order through the same routing table as requests.

Not transactional (as on LeanCloud): earlier successes stick when a later item fails.
The outer request's credentials apply to every item.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple
from urllib.parse import parse_qsl, urlsplit

from werkzeug.routing import Rule

from leancloud.server.errors import ApiError
from leancloud.server.http.app import error_reply, query_params
from leancloud.server.http.request import NOT_OBJECT, ApiRequest

_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})


def _parse_item(item: Any) -> Tuple[str, str, Dict[str, str], Any]:
    if not isinstance(item, dict):
        raise ApiError(107, NOT_OBJECT)
    method, path = item.get("method"), item.get("path")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise ApiError(107, f"Invalid batch method: {method!r}.")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ApiError(107, f"Invalid batch path: {path!r}.")
    params = item.get("params") or {}
    if not isinstance(params, dict):
        raise ApiError(107, "Batch params must be a JSON object.")
    url = urlsplit(path)
    merged = {**dict(parse_qsl(url.query)), **query_params(params)}
    return method.upper(), url.path, merged, item.get("body")


def _run_item(request: ApiRequest, item: Any) -> Dict[str, Any]:
    method, path = "?", "?"
    try:
        method, path, params, body = _parse_item(item)
        if path.rstrip("/").startswith("/1.1/batch"):
            raise ApiError(107, "Batch requests cannot be nested.")
        reply = request.app.dispatch(request.caller, method, path, params, body)
        if isinstance(reply.body, bytes):  # raw content (files, images) has no JSON form
            raise ApiError(107, f"{method} {path} cannot be part of a batch.")
    except Exception as exc:  # noqa: BLE001 - one failing item must not sink the others
        return {"error": error_reply(exc, method, path).body}
    # A GET of a missing object answers {} on its own, null inside a batch.
    if method == "GET" and reply.body == {}:
        return {"success": None}
    return {"success": reply.body}


def run_batch(request: ApiRequest) -> List[Dict[str, Any]]:
    requests = request.json_object().get("requests")
    if not isinstance(requests, list):
        raise ApiError(107, "Batch needs 'requests' to be an array.")
    return [_run_item(request, item) for item in requests]


RULES = [Rule("/1.1/batch", methods=["POST"], endpoint=run_batch)]
