"""``/1.1/functions/<name>`` and ``/1.1/call/<name>``: cloud functions, run by the Engine.

The call goes to the app's Engine with the caller's session (so the function's current
user is the caller), master key and ``X-LC-Prod``; the params and the Engine's answer
(result or ``{code, error}`` with its status) pass through untouched, so ``/call``
keeps its RPC encoding. A function the Engine does not define gets LeanCloud's own
answer (code 1, status 404), whichever Engine runs. Hooks (``/1.1/functions/<Class>/<hook>``, ``_ops/metadatas``)
are the server's to call: those paths are not routed here.
"""

from __future__ import annotations

from urllib.parse import quote

from werkzeug.routing import Rule

from leancloud.server.errors import ApiError
from leancloud.server.http.request import ApiRequest, Reply


def not_found(request: ApiRequest, name: str) -> ApiError:
    """LeanCloud's answer for a function no Engine defines."""
    environment = "production" if request.caller.production else "staging"
    return ApiError(
        1,
        f"LeanEngine not found function named '{name}' for app "
        f"'{request.config.app_id}' on {environment}.",
        404,
    )


def _forward(request: ApiRequest, kind: str, name: str) -> Reply:
    client = getattr(request.app, "engine", None)
    if client is None:
        raise not_found(request, name)
    caller = request.caller
    reply = client.post(
        f"/1.1/{kind}/{quote(name, safe='')}",
        request.json_object(),
        master=caller.principal.master,
        session_token=caller.session_token,
        production=caller.production,
    )
    if reply.status == 404 and not client.defines(name):  # the registry was just re-read
        raise not_found(request, name)
    if not isinstance(reply.body, dict):
        raise ApiError(1, f"LeanEngine answered HTTP {reply.status} without JSON.", 502)
    return Reply(reply.body, reply.status)


def run_function(request: ApiRequest, name: str) -> Reply:
    return _forward(request, "functions", name)


def call_function(request: ApiRequest, name: str) -> Reply:
    return _forward(request, "call", name)


RULES = [
    Rule("/1.1/functions/<name>", methods=["POST"], endpoint=run_function),
    Rule("/1.1/call/<name>", methods=["POST"], endpoint=call_function),
]
