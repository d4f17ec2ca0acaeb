"""``/1.1/users/<id>/friendship/<target>`` and the follower lists: glue to the service.

``_Follower``/``_Followee`` rows are read like any class through ``/1.1/classes``
(what the SDKs' friendship queries do), but only the follow endpoints (or the master
key) create them, and only the master key repoints a row's users, so a client cannot
make someone follow someone else. Other attributes stay writable under the row's ACL.
"""

from __future__ import annotations

from typing import Any, Dict

from werkzeug.routing import Rule

from leancloud.server.errors import ApiError
from leancloud.server.http import objects as object_routes
from leancloud.server.http.request import ApiRequest, Reply
from leancloud.server.services import friendship


def follow(request: ApiRequest, user_id: str, target_id: str) -> Dict[str, Any]:
    friendship.follow(request.storage, request.principal, user_id, target_id, request.json_object())
    return {}


def unfollow(request: ApiRequest, user_id: str, target_id: str) -> Dict[str, Any]:
    friendship.unfollow(request.storage, request.principal, user_id, target_id)
    return {}


def followers(request: ApiRequest, user_id: str) -> Dict[str, Any]:
    return friendship.find_rows(
        request.storage, request.principal, friendship.FOLLOWER_CLASS, user_id, request.params
    )


def followees(request: ApiRequest, user_id: str) -> Dict[str, Any]:
    return friendship.find_rows(
        request.storage, request.principal, friendship.FOLLOWEE_CLASS, user_id, request.params
    )


def followers_and_followees(request: ApiRequest, user_id: str) -> Dict[str, Any]:
    return friendship.find_both(request.storage, request.principal, user_id, request.params)


def create_row(request: ApiRequest, class_name: str) -> Reply:
    if not request.principal.master:
        raise ApiError(119, "Friendships are created by following a user.", 403)
    return object_routes.create(request, class_name)


def update_row(request: ApiRequest, class_name: str, object_id: str) -> Dict[str, Any]:
    if not request.principal.master:
        pair = ("user", friendship.OTHER_FIELD[class_name])
        if any(key.split(".", 1)[0] in pair for key in request.json_object()):
            raise ApiError(119, "Friendships are changed by following a user.", 403)
    return object_routes.update(request, class_name, object_id)


_FRIENDSHIP = "/1.1/users/<user_id>/friendship/<target_id>"

RULES = [
    Rule(_FRIENDSHIP, methods=["POST", "PUT"], endpoint=follow),
    Rule(_FRIENDSHIP, methods=["DELETE"], endpoint=unfollow),
    Rule("/1.1/users/<user_id>/followers", methods=["GET"], endpoint=followers),
    Rule("/1.1/users/<user_id>/followees", methods=["GET"], endpoint=followees),
    Rule(
        "/1.1/users/<user_id>/followersAndFollowees",
        methods=["GET"],
        endpoint=followers_and_followees,
    ),
    *(
        Rule(
            f"/1.1/classes/{name}",
            methods=["POST"],
            endpoint=create_row,
            defaults={"class_name": name},
        )
        for name in (friendship.FOLLOWER_CLASS, friendship.FOLLOWEE_CLASS)
    ),
    *(
        Rule(
            f"/1.1/classes/{name}/<object_id>",
            methods=["PUT"],
            endpoint=update_row,
            defaults={"class_name": name},
        )
        for name in (friendship.FOLLOWER_CLASS, friendship.FOLLOWEE_CLASS)
    ),
]
