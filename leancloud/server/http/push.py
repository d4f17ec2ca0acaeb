"""``/1.1/installations``, ``/1.1/push`` and the notification records: glue to the push service.

The SDKs save installations through ``/1.1/classes/_Installation``, so those paths are
routed here too (werkzeug prefers these static rules over ``/classes/<class_name>``)
and both spellings share the device checks and de-duplication.
"""

from __future__ import annotations

from typing import Any, Dict, List

from werkzeug.routing import Rule

from leancloud.server.http.objects import create, fetch_when_save, write_body
from leancloud.server.http.request import ApiRequest, Reply
from leancloud.server.services import objects, push

INSTALLATION = push.INSTALLATION_CLASS
NOTIFICATION = push.NOTIFICATION_CLASS


def create_installation(request: ApiRequest) -> Reply:
    answer, created = push.save_installation(
        request.storage, request.principal, write_body(request), fetch_when_save(request)
    )
    if not created:  # the device was registered already: its row was updated
        return Reply(answer)
    location = f"/1.1/installations/{answer['objectId']}"
    return Reply(answer, 201, {"Location": location})


def find_installations(request: ApiRequest) -> Dict[str, Any]:
    request.require_master()  # every device's token
    return objects.find_objects(request.storage, request.principal, INSTALLATION, request.params)


def get_installation(request: ApiRequest, object_id: str) -> Dict[str, Any]:
    return objects.get_object(
        request.storage, request.principal, INSTALLATION, object_id, request.params
    )


def update_installation(request: ApiRequest, object_id: str) -> Dict[str, Any]:
    return push.update_installation(
        request.storage,
        request.principal,
        object_id,
        write_body(request),
        where=request.params.get("where"),
        fetch=fetch_when_save(request),
    )


def delete_installation(request: ApiRequest, object_id: str) -> Dict[str, Any]:
    write_body(request)  # only flags, checked as on any delete
    objects.delete_objects(
        request.storage, request.principal, INSTALLATION, [object_id], request.params.get("where")
    )
    return {}


def send(request: ApiRequest) -> Dict[str, str]:
    return push.send_push(
        request.storage,
        request.principal,
        request.json_object(),
        allow_clients=request.config.client_push,
        production=request.caller.production,
    )


def get_notification(request: ApiRequest, object_id: str) -> Dict[str, Any]:
    """By objectId; the record's ACL lets only master and its sender read it."""
    return objects.get_object(
        request.storage, request.principal, NOTIFICATION, object_id, request.params
    )


def find_notifications(request: ApiRequest) -> Dict[str, Any]:
    request.require_master()
    return objects.find_objects(request.storage, request.principal, NOTIFICATION, request.params)


def get_notification_as_master(request: ApiRequest, object_id: str) -> Dict[str, Any]:
    request.require_master()
    return get_notification(request, object_id)


def create_notification(request: ApiRequest) -> Reply:
    """Notification records come from ``/push``; a client's own row would pass for a push
    that never went through the client-push switch."""
    request.require_master()
    return create(request, NOTIFICATION)


def delete_notification(request: ApiRequest, object_id: str) -> Dict[str, Any]:
    request.require_master()
    objects.delete_objects(request.storage, request.principal, NOTIFICATION, [object_id])
    return {}


def _both(path: str, methods: List[str], endpoint: Any) -> List[Rule]:
    """The same endpoint under ``/1.1/installations`` and ``/1.1/classes/_Installation``."""
    return [
        Rule(f"/1.1/installations{path}", methods=methods, endpoint=endpoint),
        Rule(f"/1.1/classes/{INSTALLATION}{path}", methods=methods, endpoint=endpoint),
    ]


RULES = [
    *_both("", ["POST"], create_installation),
    *_both("", ["GET"], find_installations),
    *_both("/<object_id>", ["GET"], get_installation),
    *_both("/<object_id>", ["PUT"], update_installation),
    *_both("/<object_id>", ["DELETE"], delete_installation),
    Rule("/1.1/push", methods=["POST"], endpoint=send),
    Rule(f"/1.1/classes/{NOTIFICATION}", methods=["POST"], endpoint=create_notification),
    Rule("/1.1/tables/Notifications/<object_id>", methods=["GET"], endpoint=get_notification),
    Rule("/1.1/notifications", methods=["GET"], endpoint=find_notifications),
    Rule("/1.1/notifications/<object_id>", methods=["GET"], endpoint=get_notification_as_master),
    Rule("/1.1/notifications/<object_id>", methods=["DELETE"], endpoint=delete_notification),
]
