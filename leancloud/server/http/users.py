"""``/1.1/users``, ``/1.1/login`` and ``/1.1/classes/_User``: thin glue to the users service.

The Python SDK signs up and saves users through ``/1.1/classes/_User``, so those paths
are routed here too (werkzeug prefers these static rules over ``/classes/<class_name>``):
a user is never written by the generic object rules.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

from werkzeug.routing import Rule

from leancloud.server.errors import ApiError
from leancloud.server.hooks.classes import class_hooks
from leancloud.server.http.objects import fetch_when_save, write_body
from leancloud.server.http.request import ApiRequest, Reply
from leancloud.server.services import auth_data, objects, users, verification


def _mail_verification(request: ApiRequest, user_id: str) -> None:
    """LeanCloud's "send a verification mail to new email addresses" app option. The
    user is already saved: a mail that cannot go out (logged by the sender) does not undo
    that, and ``requestEmailVerify`` can send another."""
    if request.config.verify_email_on_sign_up:
        try:
            verification.send_verification_mail(
                request.storage, request.config, user_id, request.mail_url()
            )
        except ApiError:
            pass


def _sign_up_with_hooks(request: ApiRequest, body: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
    """A username sign-up between the Engine's ``_User`` beforeSave and afterSave hooks."""
    hooks = class_hooks(request)
    if hooks is not None and hooks.wants(users.USER_CLASS, "beforeSave"):
        body = hooks.before_save(users.USER_CLASS, body)
    user, created = users.sign_up(request.storage, request.principal, body)
    if hooks is not None and hooks.wants(users.USER_CLASS, "afterSave"):
        hooks.after(users.USER_CLASS, "afterSave", user)
    return user, created


def sign_up(request: ApiRequest) -> Reply:
    body = write_body(request)
    if "authData" in body and "username" not in body and "password" not in body:
        user, created = auth_data.log_in(
            request.storage, request.principal, body, request.flag("failOnNotExist")
        )
    else:
        user, created = _sign_up_with_hooks(request, body)
    if not created:
        return Reply(user)
    if user.get("email"):
        _mail_verification(request, user["objectId"])
    return Reply(user, 201, {"Location": f"/1.1/users/{user['objectId']}"})


def log_in(request: ApiRequest) -> Dict[str, Any]:
    body = request.params if request.method == "GET" else request.json_object()
    if "smsCode" in body and "password" not in body:
        return verification.log_in_with_sms_code(request.storage, body)
    return users.log_in(request.storage, body, request.config.log_in_requires_verified_email)


def me(request: ApiRequest) -> Dict[str, Any]:
    token = request.params.get("session_token") or request.caller.session_token
    return users.current_user(request.storage, token)


def find(request: ApiRequest) -> Dict[str, Any]:
    return users.find_users(request.storage, request.principal, request.params)


def get(request: ApiRequest, user_id: str) -> Dict[str, Any]:
    return users.get_user(request.storage, request.principal, user_id, request.params)


def update(request: ApiRequest, user_id: str) -> Dict[str, Any]:
    storage, principal, hooks = request.storage, request.principal, class_hooks(request)
    body = write_body(request)
    body = objects.run_before_update(storage, principal, hooks, users.USER_CLASS, user_id, body)
    result, changed_contacts = users.update_user(
        storage,
        principal,
        user_id,
        body,
        where=request.params.get("where"),
        fetch=fetch_when_save(request),
    )
    updated = {"_updatedKeys": [key for key in body if key != "ACL"]}
    objects.run_after_hook(storage, hooks, users.USER_CLASS, "afterUpdate", user_id, updated)
    if "email" in changed_contacts:
        _mail_verification(request, user_id)
    return result


def delete(request: ApiRequest, user_id: str) -> Dict[str, Any]:
    write_body(request)  # only flags, checked as on any delete
    storage, principal, hooks = request.storage, request.principal, class_hooks(request)
    objects.run_before_delete(storage, principal, hooks, users.USER_CLASS, [user_id])
    gone = objects.snapshot_for_hook(storage, hooks, users.USER_CLASS, "afterDelete", user_id)
    users.delete_user(storage, principal, user_id)
    if gone:
        hooks.after(users.USER_CLASS, "afterDelete", gone)  # type: ignore[union-attr]
    return {}


def refresh_session_token(request: ApiRequest, user_id: str) -> Dict[str, Any]:
    return users.refresh_session_token(request.storage, request.principal, user_id)


def update_password(request: ApiRequest, user_id: str) -> Dict[str, Any]:
    return users.update_password(request.storage, request.principal, user_id, request.json_object())


def _both(path: str, methods: list, endpoint: Any) -> list:
    """The same endpoint under ``/1.1/users`` and ``/1.1/classes/_User``."""
    return [
        Rule(f"/1.1/users{path}", methods=methods, endpoint=endpoint),
        Rule(f"/1.1/classes/_User{path}", methods=methods, endpoint=endpoint),
    ]


RULES = [
    *_both("", ["POST"], sign_up),
    *_both("", ["GET"], find),
    *_both("/<user_id>", ["GET"], get),
    *_both("/<user_id>", ["PUT"], update),
    *_both("/<user_id>", ["DELETE"], delete),
    Rule("/1.1/login", methods=["GET", "POST"], endpoint=log_in),
    Rule("/1.1/users/me", methods=["GET"], endpoint=me),
    Rule(
        "/1.1/users/<user_id>/refreshSessionToken", methods=["PUT"], endpoint=refresh_session_token
    ),
    Rule("/1.1/users/<user_id>/updatePassword", methods=["PUT"], endpoint=update_password),
]
