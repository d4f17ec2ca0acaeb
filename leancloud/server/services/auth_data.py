"""Log-in with third-party accounts (``authData``), including UnionID linking.

A body with only ``authData`` logs in the user linked to one of its providers (by the
provider's ``uid``, ``openid`` or ``id``), merging the given provider data into the
user's, or signs up a new user (random username) unless ``failOnNotExist``.

UnionID: a provider entry may carry ``unionid`` and ``platform`` (e.g. the WeChat
mini-program and the WeChat app of one developer account share a unionid). When no
user is linked to the provider itself, the user holding
``authData._<platform>_unionid.uid == unionid`` is used and the provider is linked to
it. ``main_account: true`` makes the user the unionid's account: the server writes the
``_<platform>_unionid`` entry, unless another user already holds it.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

from leancloud.server.errors import ApiError
from leancloud.server.principal import Principal
from leancloud.server.services import users
from leancloud.server.storage.base import Storage, StoredObject, WriteTx


def _providers(auth: Mapping[str, Any]) -> Iterator[Tuple[str, Dict[str, Any]]]:
    for provider, data in auth.items():
        if data is not None:
            yield provider, data


def _union(data: Mapping[str, Any]) -> Optional[Tuple[str, str]]:
    """``(entry name, unionid)`` when a provider entry names its platform's unionid."""
    unionid, platform = data.get("unionid"), data.get("platform")
    if isinstance(unionid, str) and unionid and isinstance(platform, str) and platform:
        return f"_{platform}_unionid", unionid
    return None


def _linked_user(tx: WriteTx, auth: Mapping[str, Any]) -> Optional[str]:
    """The user linked to one of the providers, else to one of their unionids."""
    for provider, data in _providers(auth):
        key, value = users.auth_id(provider, data)
        ids = users.find_user_ids(tx, f"authData.{provider}.{key}", value)
        if ids:
            return ids[0]
    for _, data in _providers(auth):
        union = _union(data)
        if union is not None:
            ids = users.find_user_ids(tx, f"authData.{union[0]}.uid", union[1])
            if ids:
                return ids[0]
    return None


def _with_main_unionids(
    tx: WriteTx, auth: Mapping[str, Any], user_id: Optional[str]
) -> Dict[str, Any]:
    """``auth`` plus the ``_<platform>_unionid`` entries its main-account providers claim."""
    result = dict(auth)
    for _, data in _providers(auth):
        union = _union(data)
        if union is None or data.get("main_account") is not True:
            continue
        holders = users.find_user_ids(tx, f"authData.{union[0]}.uid", union[1])
        if all(holder == user_id for holder in holders):
            result[union[0]] = {"uid": union[1]}
    return result


def log_in(
    storage: Storage,
    principal: Principal,
    body: Mapping[str, Any],
    fail_on_not_exist: bool = False,
) -> Tuple[Dict[str, Any], bool]:
    """``(user with session token, created)`` for a body whose credentials are ``authData``."""
    auth = body.get("authData")
    if not isinstance(auth, dict) or not any(v is not None for v in auth.values()):
        raise ApiError(1, "authData must be an object with at least one provider.")
    auth = users.hooks.before_auth_data(auth)
    with storage.write() as tx:
        user_id = _linked_user(tx, auth)
        if user_id is not None:
            user: StoredObject = users.load_user(tx, user_id)
            given = _with_main_unionids(tx, auth, user_id)
            user.data["authData"] = users.merge_auth_data(user.data.get("authData"), given)
            users.save_user(tx, user)
            return users.finish_log_in(tx, user), False
        if fail_on_not_exist:
            raise users.no_user()
        changes = users.new_user_changes(body, principal)
        changes.data["authData"] = users.merge_auth_data(None, _with_main_unionids(tx, auth, None))
        changes.data["username"] = users.new_session_token()  # random, like LeanCloud's
        return users.insert_user(tx, changes, users.split_acl(body)[1]), True
