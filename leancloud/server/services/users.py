"""Users and sessions: sign-up, log-in, the current user, and the rules only ``_User`` has.

Everything that reads then writes a user (uniqueness of username/email/phone, the
failed-login record, hash upgrades, token changes) runs inside one
``storage.write()`` transaction, which holds the database's write lock, so two
requests can never both take a username or both miss a failed login.

Session tokens: 25 characters ``[a-z0-9]``, one per user, stable (log-in returns the
same token) until ``refreshSessionToken`` or ``updatePassword`` replaces it. The
token lives in the user's hidden ``sessionToken`` field and in the storage's session
index (``WriteTx.set_session``), which is what ``Storage.session_user`` reads.

Lockout: after ``LOCKOUT_FAILURES`` failed log-ins within ``LOCKOUT_WINDOW`` seconds,
every log-in to that account answers 219 until ``LOCKOUT_WINDOW`` seconds after the
last failure. The record is a row of ``FAILURES_CLASS`` keyed by the user's id with
an empty ACL (master only), so it holds across threads, processes and restarts.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from typing import Any, Dict, List, Mapping, Optional, Tuple

from leancloud.server import passwords
from leancloud.server.errors import ApiError
from leancloud.server.principal import MASTER, Principal
from leancloud.server.query import parse_query, parse_where
from leancloud.server.services import objects
from leancloud.server.services.objects import new_object_id
from leancloud.server.services.objects import now as timestamp
from leancloud.server.services.ops import Changes, apply_changes, check_acl, schema_type
from leancloud.server.storage.base import Storage, StoredObject, WriteTx
from leancloud.server.storage.output import HIDDEN_FIELDS as OUTPUT_HIDDEN_FIELDS

USER_CLASS = "_User"
HIDDEN_FIELDS = frozenset(OUTPUT_HIDDEN_FIELDS[USER_CLASS])
# Fields a client may not filter or sort users on: matching would leak them bit by bit.
_SECRET_FIELDS = HIDDEN_FIELDS | {"authData"}
FAILURES_CLASS = "_LoginFailure"
LOGIN_FIELDS = ("username", "email", "mobilePhoneNumber")
# Fields only the server writes; a client's values for them are dropped.
SERVER_FIELDS = ("sessionToken", "salt", "emailVerified", "mobilePhoneVerified")
_VERIFIED_FLAGS = {"email": "emailVerified", "mobilePhoneNumber": "mobilePhoneVerified"}
_UNTYPED = ("sessionToken", "salt")  # hidden bookkeeping, kept out of the schema
LOCKOUT_FAILURES = 6
LOCKOUT_WINDOW = 15 * 60
TOKEN_LENGTH = 25
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+\Z")
# Mainland numbers without a prefix, or E.164 with one.
_PHONE = re.compile(r"(?:1[0-9]{10}|\+[1-9][0-9]{4,14})\Z")
_NO_USER = "Could not find user."
_MISMATCH = "The username and password mismatch."
_TAKEN = {
    "username": (202, "Username has already been taken."),
    "email": (203, "This email address has already been taken."),
    "mobilePhoneNumber": (214, "Mobile phone number has already been taken."),
}

# The clock, looked up at call time so tests can move it instead of sleeping.
now = time.time


class UserHooks:
    """The seam for LeanEngine's user hooks; these defaults do nothing.

    The Engine replaces ``users.hooks`` with an object that runs the app's ``onLogin``
    and ``onVerified`` functions. ``reader`` is the open write transaction (``find``
    works on it), so a hook sees the user exactly as the flow is about to commit it.
    """

    def before_log_in(self, reader: Any, user_id: str) -> None:
        """Every successful log-in (password, SMS code, authData); raise ApiError to refuse."""

    def after_verified(self, reader: Any, user_id: str, kind: str) -> None:
        """The user's email (``kind="email"``) or phone (``kind="sms"``) was just verified."""

    def before_auth_data(self, auth_data: Dict[str, Any]) -> Dict[str, Any]:
        """authData about to log in or be linked (before any transaction); answers the
        authData to use instead, or raises ApiError to refuse."""
        return auth_data


hooks = UserHooks()


def new_session_token() -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def no_user() -> ApiError:
    return ApiError(211, _NO_USER)


# --- validation -------------------------------------------------------------------


def _require_text(body: Mapping[str, Any], field: str, code: int, what: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise ApiError(code, f"{what} is missing or empty.")
    return value


def _require_password(body: Mapping[str, Any], field: str = "password") -> str:
    return _require_text(body, field, 201, "Password")


def check_contact_fields(body: Mapping[str, Any]) -> None:
    """Email and phone number formats (125, 127) for any write that sets them."""
    email = body.get("email")
    if email is not None and not (isinstance(email, str) and _EMAIL.match(email)):
        raise ApiError(125, "The email address was invalid.")
    phone = body.get("mobilePhoneNumber")
    if phone is not None and not (isinstance(phone, str) and _PHONE.match(phone)):
        raise ApiError(127, "The mobile phone number was invalid.")


def find_user_ids(tx: WriteTx, field: str, value: Any) -> List[str]:
    query = parse_query(USER_CLASS, {"where": {field: value}, "limit": 2, "keys": "objectId"})
    return [row["objectId"] for row in tx.find(query, MASTER)]


def check_unique(tx: WriteTx, data: Mapping[str, Any], user_id: Optional[str] = None) -> None:
    """202/203/214 when another user already has this username, email or phone number;
    208 when one of its ``authData`` accounts is linked to another user."""
    for field, (code, message) in _TAKEN.items():
        value = data.get(field)
        taken = isinstance(value, str) and value and find_user_ids(tx, field, value)
        if taken and any(other != user_id for other in taken):
            raise ApiError(code, message)
    if isinstance(data.get("authData"), dict):
        check_auth_data_free(tx, data["authData"], user_id)


def _client_fields(body: Mapping[str, Any], principal: Principal) -> Dict[str, Any]:
    """The body without ``ACL`` and the fields only the server (or master) may set."""
    fields = {k: v for k, v in body.items() if k != "ACL" and k != "password"}
    for name in SERVER_FIELDS:
        if not (principal.master and name in ("emailVerified", "mobilePhoneVerified")):
            fields.pop(name, None)
    return fields


# --- reading users ----------------------------------------------------------------


def render_user(reader: Any, user_id: str, token: Optional[str] = None) -> Dict[str, Any]:
    """The user as the owner sees it (storage's output rules), plus the session token."""
    rows = reader.find(
        parse_query(USER_CLASS, {"where": {"objectId": user_id}, "limit": 1}), MASTER
    )
    if not rows:
        raise no_user()
    user = rows[0]
    if token:
        user["sessionToken"] = token
    return user


def load_user(tx: WriteTx, user_id: str) -> StoredObject:
    user = tx.get(USER_CLASS, user_id)
    if user is None:
        raise no_user()
    return user


def _token_of(user: StoredObject, fresh: bool = False) -> str:
    """The user's session token, minted into its data if ``fresh`` or it has none yet."""
    token = user.data.get("sessionToken")
    if fresh or not isinstance(token, str) or not token:
        token = new_session_token()
        user.data["sessionToken"] = token
    return token


def save_user(
    tx: WriteTx, user: StoredObject, changes: Optional[Changes] = None, new: bool = False
) -> None:
    """Write the user row with its schema types and relation edits."""
    types = {k: schema_type(v) for k, v in user.data.items() if v is not None and k not in _UNTYPED}
    relations = changes.relations if changes is not None else []
    types.update({c.field: {"type": "Relation", "className": c.target_class} for c in relations})
    tx.ensure_fields(USER_CLASS, types)
    if new:
        tx.insert(user)
    else:
        tx.update(user)
    for change in relations:
        if change.adds:
            tx.relation_add(
                USER_CLASS, change.field, user.object_id, change.target_class, change.adds
            )
        if change.removes:
            tx.relation_remove(USER_CLASS, change.field, user.object_id, change.removes)


# --- sign-up ----------------------------------------------------------------------


def split_acl(body: Mapping[str, Any]) -> Tuple[bool, Optional[Dict[str, Dict[str, bool]]]]:
    if "ACL" not in body:
        return False, None
    value = body["ACL"]
    if isinstance(value, dict) and value.get("__op") == "Delete":
        return True, None
    return True, check_acl(value)


def sign_up(
    storage: Storage, principal: Principal, body: Mapping[str, Any]
) -> Tuple[Dict[str, Any], bool]:
    """``(user with session token, True)``: a new user from a username and password
    (bodies with only ``authData`` go to ``auth_data.log_in``)."""
    _require_text(body, "username", 200, "Username")
    password = _require_password(body)
    check_contact_fields(body)
    password_hash = passwords.hash_password(password)
    with storage.write() as tx:
        return insert_new_user(tx, principal, body, password_hash, {}), True


def insert_new_user(
    tx: WriteTx,
    principal: Principal,
    body: Mapping[str, Any],
    password_hash: Optional[str],
    server_fields: Mapping[str, Any],
) -> Dict[str, Any]:
    """Sign up inside ``tx``: uniqueness checks, then the new user with its session token.
    ``server_fields`` (e.g. ``mobilePhoneVerified`` for sign-up by phone) are set as given."""
    changes = new_user_changes(body, principal)
    changes.data.update(server_fields)
    if password_hash is not None:
        changes.data["password"] = password_hash
    check_unique(tx, changes.data)
    return insert_user(tx, changes, split_acl(body)[1])


def new_user_changes(body: Mapping[str, Any], principal: Principal) -> Changes:
    check_contact_fields(body)
    fields = _client_fields(body, principal)
    fields.setdefault("emailVerified", False)
    fields.setdefault("mobilePhoneVerified", False)
    return apply_changes({}, fields, creating=True)


def insert_user(
    tx: WriteTx, changes: Changes, acl: Optional[Dict[str, Dict[str, bool]]]
) -> Dict[str, Any]:
    stamp = timestamp()
    user_id = new_object_id()
    if acl is None:  # LeanCloud's default: everyone reads, only the user writes
        acl = {"*": {"read": True}, user_id: {"read": True, "write": True}}
    user = StoredObject(USER_CLASS, user_id, stamp, stamp, changes.data, acl)
    token = _token_of(user, fresh=True)
    save_user(tx, user, changes, new=True)
    tx.set_session(user_id, token)
    return render_user(tx, user_id, token)


# --- authData ---------------------------------------------------------------------


def auth_id(provider: str, data: Any) -> Tuple[str, Any]:
    """The key and value naming the account at ``provider``: ``uid``, ``openid`` or ``id``."""
    if isinstance(data, dict):
        for key in ("uid", "openid", "id"):
            if data.get(key) not in (None, ""):
                return key, data[key]
    raise ApiError(250, f"Linked id missing from authData.{provider}.")


def check_auth_data_free(tx: WriteTx, auth: Mapping[str, Any], user_id: Optional[str]) -> None:
    """208 when an account given in ``auth`` is already linked to another user."""
    for provider, data in auth.items():
        if data is not None:
            key, value = auth_id(provider, data)
            if any(
                other != user_id for other in find_user_ids(tx, f"authData.{provider}.{key}", value)
            ):
                raise ApiError(208, f"The {provider} account is already linked to another user.")


def merge_auth_data(current: Any, given: Mapping[str, Any]) -> Dict[str, Any]:
    """authData updates merge per provider; ``null`` for a provider unlinks it."""
    merged = dict(current) if isinstance(current, dict) else {}
    for provider, data in given.items():
        if data is None:
            merged.pop(provider, None)
        else:
            merged[provider] = data
    return merged


# --- log-in -----------------------------------------------------------------------


def _login_field(body: Mapping[str, Any]) -> Tuple[str, str]:
    """Which identifier a log-in uses: username wins over email, email over phone."""
    for field in LOGIN_FIELDS:
        value = body.get(field)
        if isinstance(value, str) and value:
            return field, value
    raise ApiError(200, "Username is missing or empty.")


def log_in(
    storage: Storage, body: Mapping[str, Any], require_verified_email: bool = False
) -> Dict[str, Any]:
    """Check the password (with the lockout) and answer the user with its session token.

    ``require_verified_email`` (an app option): a user with an unverified email address
    is refused with 216 once the password is right.

    The slow hash check runs between two short transactions, never holding the write
    lock. The first one counts the attempt as a failure before checking, so parallel
    guesses cannot slip past the lockout; a success then clears the record.
    """
    field, value = _login_field(body)
    password = _require_password(body)
    with storage.write() as tx:
        ids = find_user_ids(tx, field, value)
        if not ids:
            raise no_user()
        user = load_user(tx, ids[0])
        failures = _Failures.load(tx, user.object_id)
        if failures.locked(now()):
            raise ApiError(219, "Too many failed login attempts; try again later.")
        failures.record(tx, now())
    stored = user.data.get("password")
    if not passwords.verify_password(password, stored, user.data.get("salt")):
        raise ApiError(210, _MISMATCH)
    if (
        require_verified_email
        and user.data.get("email")
        and user.data.get("emailVerified") is not True
    ):
        raise ApiError(216, "The email address was not verified.")
    upgrade = passwords.hash_password(password) if passwords.needs_upgrade(stored) else None
    with storage.write() as tx:
        user = load_user(tx, user.object_id)
        if upgrade is not None and user.data.get("password") == stored:
            user.data["password"] = upgrade
            user.data.pop("salt", None)
            tx.update(user)  # bookkeeping only: updatedAt stays
        return finish_log_in(tx, user)


def finish_log_in(tx: WriteTx, user: StoredObject, touched: bool = False) -> Dict[str, Any]:
    """After the credentials were proven: clear failed log-ins, make sure the user has a
    session token, and answer the user with it. ``touched``: the row changed (save it)."""
    hooks.before_log_in(tx, user.object_id)
    _Failures.load(tx, user.object_id).clear(tx)
    had_token = user.data.get("sessionToken")
    token = _token_of(user)
    if touched or token != had_token:
        tx.update(user)
    tx.set_session(user.object_id, token)  # also indexes imported users' tokens
    return render_user(tx, user.object_id, token)


class _Failures:
    """Recent failed log-ins of one user, stored as a master-only row keyed by its id."""

    def __init__(self, user_id: str, row: Optional[StoredObject]) -> None:
        self.user_id = user_id
        self.row = row
        data = row.data if row is not None else {}
        self.times: List[float] = [t for t in data.get("times", ()) if isinstance(t, (int, float))]
        self.locked_until: float = data.get("lockedUntil") or 0.0

    @classmethod
    def load(cls, tx: WriteTx, user_id: str) -> "_Failures":
        return cls(user_id, tx.get(FAILURES_CLASS, user_id))

    def locked(self, at: float) -> bool:
        return at < self.locked_until

    def record(self, tx: WriteTx, at: float) -> None:
        self.times = [t for t in self.times if t > at - LOCKOUT_WINDOW] + [at]
        if len(self.times) >= LOCKOUT_FAILURES:
            self.locked_until = at + LOCKOUT_WINDOW
        data = {"times": self.times, "lockedUntil": self.locked_until}
        stamp = timestamp()
        if self.row is None:
            tx.insert(StoredObject(FAILURES_CLASS, self.user_id, stamp, stamp, data, {}))
        else:
            self.row.data, self.row.updated_at = data, stamp
            tx.update(self.row)

    def clear(self, tx: WriteTx) -> None:
        if self.row is not None:
            tx.delete(FAILURES_CLASS, self.user_id)


# --- the current user and reads ---------------------------------------------------


def current_user(storage: Storage, token: Optional[str]) -> Dict[str, Any]:
    """``/users/me``: the session's user with its token; 211 for an unknown token."""
    user_id = storage.session_user(token) if token else None
    if user_id is None:
        raise no_user()
    return render_user(storage, user_id, token)


def get_user(
    storage: Storage, principal: Principal, user_id: str, params: Mapping[str, Any]
) -> Dict[str, Any]:
    """One user as the caller may see it; unlike other classes a missing one is 211."""
    try:
        user = objects.get_object(storage, principal, USER_CLASS, user_id, params)
    except ApiError as exc:
        if exc.code != 101:
            raise
        user = {}
    if not user:
        raise no_user()
    return user


def _mentions_hidden(value: Any) -> bool:
    """Whether any key of a where names a hidden field; a loop, not recursion, because
    the where is not depth-checked yet and may nest hundreds of levels."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if any(k.split(".")[0] in _SECRET_FIELDS for k in item):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def find_users(storage: Storage, principal: Principal, params: Mapping[str, Any]) -> Dict[str, Any]:
    """A ``_User`` query; only master may filter or sort on hidden fields or authData,
    which would otherwise leak hashes and tokens one comparison at a time."""
    if not principal.master:
        where = objects.decode_where(params.get("where") or {})
        order = str(params.get("order") or "").split(",")
        if _mentions_hidden(where) or any(
            part.strip().lstrip("-").split(".")[0] in _SECRET_FIELDS for part in order
        ):
            raise ApiError(105, "Hidden user fields cannot be queried.")
    return objects.find_objects(storage, principal, USER_CLASS, params)


# --- writes by the user itself (or master) ----------------------------------------


def _load_writable(tx: WriteTx, principal: Principal, user_id: str) -> StoredObject:
    user = load_user(tx, user_id)
    objects.check_write(principal, user)
    return user


def update_user(
    storage: Storage,
    principal: Principal,
    user_id: str,
    body: Mapping[str, Any],
    where: Any = None,
    fetch: bool = False,
) -> Tuple[Dict[str, Any], List[str]]:
    """A PUT on a user: the generic field rules plus uniqueness, password hashing and
    per-provider authData merging, in one transaction.

    Answers ``(result, changed contacts)``: ``email``/``mobilePhoneNumber`` when they
    got a new value (now unverified), so the caller can send a verification."""
    check_contact_fields(body)
    if "username" in body:
        _require_text(body, "username", 200, "Username")
    new_hash = passwords.hash_password(_require_password(body)) if "password" in body else None
    acl_given, acl = split_acl(body)
    condition = parse_where(USER_CLASS, objects.decode_where(where)) if where else None
    fields = _client_fields(body, principal)
    if isinstance(fields.get("authData"), dict) and "__op" not in fields["authData"]:
        fields["authData"] = hooks.before_auth_data(fields["authData"])  # a link
    with storage.write() as tx:
        user = _load_writable(tx, principal, user_id)
        if condition is not None and not tx.matches(USER_CLASS, user_id, condition):
            raise ApiError(305, "No effect on updating/deleting a document.")
        if isinstance(fields.get("authData"), dict) and "__op" not in fields["authData"]:
            check_auth_data_free(tx, fields["authData"], user_id)
            fields["authData"] = merge_auth_data(user.data.get("authData"), fields["authData"])
        changes = apply_changes(user.data, fields, creating=False)
        contacts = _unverify_changed_contacts(user.data, changes, fields)
        check_unique(
            tx, {k: changes.data.get(k) for k in LOGIN_FIELDS if k in changes.touched}, user_id
        )
        if new_hash is not None:
            changes.data["password"] = new_hash
            changes.data.pop("salt", None)
        user.data, user.updated_at = changes.data, timestamp()
        if acl_given:
            user.acl = acl
        save_user(tx, user, changes)
        result = {"updatedAt": user.updated_at, "objectId": user_id}
        if fetch and changes.touched:
            written = render_user(tx, user_id)
            result = {**{k: written[k] for k in changes.touched if k in written}, **result}
    return result, contacts


def _unverify_changed_contacts(
    old: Mapping[str, Any], changes: Changes, fields: Mapping[str, Any]
) -> List[str]:
    """A new email address or phone number is not verified yet (unless master says so);
    answers the contact fields that changed."""
    changed = []
    for field, flag in _VERIFIED_FLAGS.items():
        if field in changes.touched and changes.data.get(field) != old.get(field):
            changed.append(field)
            if flag not in fields:
                changes.data[flag] = False
    return changed


def delete_user(storage: Storage, principal: Principal, user_id: str) -> None:
    """Delete a user with its session and failed-login record (a missing user is fine)."""
    with storage.write() as tx:
        if tx.get(USER_CLASS, user_id) is None:
            return
        _load_writable(tx, principal, user_id)
        tx.delete(USER_CLASS, user_id)
        tx.delete(FAILURES_CLASS, user_id)


def _replace_token(tx: WriteTx, user: StoredObject) -> Dict[str, Any]:
    token = _token_of(user, fresh=True)
    user.updated_at = timestamp()
    tx.update(user)
    tx.set_session(user.object_id, token)
    return {"updatedAt": user.updated_at, "objectId": user.object_id, "sessionToken": token}


def set_password_hash(tx: WriteTx, user: StoredObject, new_hash: str) -> None:
    """A password reset: the new hash, a new session token (every old session ends)
    and a clean failed-login record."""
    user.data["password"] = new_hash
    user.data.pop("salt", None)
    _Failures.load(tx, user.object_id).clear(tx)
    _replace_token(tx, user)


def refresh_session_token(storage: Storage, principal: Principal, user_id: str) -> Dict[str, Any]:
    """A new token for the user; the old one stops working at once."""
    with storage.write() as tx:
        user = _load_writable(tx, principal, user_id)
        return {**render_user(tx, user_id), **_replace_token(tx, user)}


def update_password(
    storage: Storage, principal: Principal, user_id: str, body: Mapping[str, Any]
) -> Dict[str, Any]:
    """Change the password given the old one; answers a new session token.

    Hashing and checking happen outside the write transactions, as in ``log_in``.
    """
    old = _require_password(body, "old_password")
    new_hash = passwords.hash_password(_require_password(body, "new_password"))
    with storage.write() as tx:
        stored = _load_writable(tx, principal, user_id).data
    wrong = ApiError(210, "The old password is wrong.")
    if not passwords.verify_password(old, stored.get("password"), stored.get("salt")):
        raise wrong
    with storage.write() as tx:
        user = _load_writable(tx, principal, user_id)
        if user.data.get("password") != stored.get("password"):
            raise wrong  # changed meanwhile: the old password checked is no longer current
        user.data["password"] = new_hash
        user.data.pop("salt", None)
        return _replace_token(tx, user)
