"""Account flows that prove an email address or a phone number: verification, password
resets, SMS log-in, sign-up by phone and phone-number changes.

Phone flows use ``sms.send_code``/``sms.check_code``, one purpose per flow, so a code
sent to log in never resets a password. A password reset by SMS requires a verified
number (215), and so does asking for an SMS log-in code: an unverified number may be a
typo that belongs to somebody else.

Mail links carry a signed token instead of a stored one: ``<payload>.<HMAC>`` keyed by
the master key, holding the user id, the purpose, an expiry and a fingerprint of what
the link acts on (the email address; for resets also the password hash). A link is
therefore void once the address changes, and a reset link is spent once the password
changes. Nothing has to be stored or cleaned up for them.

A phone change is bound to the user who asked for the code: ``_PhoneChange`` (master
only) keeps one row per number naming that user, so the code moves that user's
number, with or without a session on the second request (the official SDK's test
sends none), and never another user's.

Mail and SMS are sent outside write transactions (the outbox writes in its own).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any, Dict, Mapping, Optional, Tuple

from leancloud.server import passwords
from leancloud.server.errors import ApiError
from leancloud.server.principal import Principal
from leancloud.server.services import messaging, sms, users
from leancloud.server.services.objects import now as timestamp
from leancloud.server.storage.base import Storage, StoredObject, WriteTx

VERIFY_LINK_TTL = 7 * 24 * 3600
RESET_LINK_TTL = 24 * 3600
CHANGE_PHONE_TTL_MINUTES = 6  # LeanCloud's default for requestChangePhoneNumber
PHONE_CHANGE_CLASS = "_PhoneChange"  # master-only: who asked to move to a number
VERIFY_PATH = "/1.1/verifyEmail/"
RESET_PATH = "/1.1/resetPassword/"

# The clock, looked up at call time so tests can move it instead of sleeping.
now = time.time


# --- request bodies ---------------------------------------------------------------


def _email(body: Mapping[str, Any]) -> str:
    email = body.get("email")
    if not isinstance(email, str) or not email:
        raise ApiError(204, "The email is missing, and must be specified.")
    return email


def _phone(body: Mapping[str, Any]) -> str:
    phone = body.get("mobilePhoneNumber")
    if not isinstance(phone, str) or not phone:
        raise ApiError(212, "The mobile phone number is missing, and must be specified.")
    return phone


def _code(body: Mapping[str, Any], field: str) -> str:
    code = body.get(field)
    if not isinstance(code, str) or not code:
        raise ApiError(603, sms.INVALID_CODE)
    return code


def _new_password_hash(body: Mapping[str, Any]) -> str:
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise ApiError(201, "Password is missing or empty.")
    return passwords.hash_password(password)


# --- finding users ----------------------------------------------------------------


def _by_email(tx: WriteTx, email: str) -> StoredObject:
    ids = users.find_user_ids(tx, "email", email)
    if not ids:
        raise ApiError(205, f"Could not find user with email {email!r}.")
    return tx.get(users.USER_CLASS, ids[0])


def _phone_forms(phone: str) -> Tuple[str, ...]:
    """How a number may be stored: as given, in E.164, and without ``+86`` for the
    mainland numbers LeanCloud accepted without a prefix."""
    number = messaging.normalize_phone(phone)
    forms = [phone, number]
    if number.startswith(messaging.DEFAULT_IDD):
        forms.append(number[len(messaging.DEFAULT_IDD) :])
    return tuple(dict.fromkeys(forms))


def _phone_user(tx: WriteTx, phone: str) -> Optional[StoredObject]:
    for form in _phone_forms(phone):
        ids = users.find_user_ids(tx, "mobilePhoneNumber", form)
        if ids:
            return tx.get(users.USER_CLASS, ids[0])
    return None


def _by_phone(tx: WriteTx, phone: str) -> StoredObject:
    user = _phone_user(tx, phone)
    if user is None:
        raise ApiError(213, "Could not find user with this mobile phone number.")
    return user


def _read(storage: Storage, find: Any, value: str) -> StoredObject:
    """``find(tx, value)`` in a short transaction of its own (no read-only tx exists)."""
    with storage.write() as tx:
        return find(tx, value)


def _touch(tx: WriteTx, user: StoredObject) -> Dict[str, str]:
    user.updated_at = timestamp()
    tx.update(user)
    return {"updatedAt": user.updated_at, "objectId": user.object_id}


# --- signed mail links ------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(config: Any, payload: str) -> str:
    key = hmac.new(config.master_key.encode(), b"leancloud account links", hashlib.sha256)
    return _b64(hmac.new(key.digest(), payload.encode("utf-8"), hashlib.sha256).digest())


def _fingerprint(user: StoredObject, purpose: str) -> str:
    parts = [str(user.data.get("email"))]
    if purpose == "reset":
        parts.append(str(user.data.get("password")))
    return _b64(hashlib.sha256("\0".join(parts).encode("utf-8")).digest()[:12])


def link_token(config: Any, user: StoredObject, purpose: str, ttl: float) -> str:
    """A token for a mail link that acts on ``user`` for ``purpose`` until ``ttl`` s from now."""
    claims = {"u": user.object_id, "p": purpose, "e": int(now() + ttl)}
    claims["f"] = _fingerprint(user, purpose)
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_signature(config, payload)}"


def _open_link(tx: WriteTx, config: Any, token: str, purpose: str) -> StoredObject:
    """The user a link token acts on, or ApiError(1) when it is forged, expired or spent."""
    invalid = ApiError(1, "This link is invalid or has expired.")
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(config, payload).encode()):
        raise invalid
    try:
        claims = json.loads(_unb64(payload))
    except (ValueError, binascii.Error):
        raise invalid from None
    if claims.get("p") != purpose or not now() < claims.get("e", 0):
        raise invalid
    user = tx.get(users.USER_CLASS, str(claims.get("u")))
    if user is None or claims.get("f") != _fingerprint(user, purpose):
        raise invalid
    return user


# --- email ------------------------------------------------------------------------


def send_verification_mail(storage: Storage, config: Any, user_id: str, base_url: str) -> None:
    """Mail the user a link that verifies its current email address."""
    with storage.write() as tx:
        user = users.load_user(tx, user_id)
    email = user.data.get("email")
    if not isinstance(email, str) or not email:
        return
    link = base_url + VERIFY_PATH + link_token(config, user, "verify", VERIFY_LINK_TTL)
    text = (
        f"Please verify the email address {email} of your {config.app_id} account "
        f"by opening this link:\n\n{link}\n"
    )
    messaging.send_mail(storage, config, email, "Verify your email address", text, kind="verify")


def request_email_verify(
    storage: Storage, config: Any, body: Mapping[str, Any], base_url: str
) -> None:
    """``requestEmailVerify``: 204 without an email, 205 when no user has it."""
    user = _read(storage, _by_email, _email(body))
    send_verification_mail(storage, config, user.object_id, base_url)


def verify_email(storage: Storage, config: Any, token: str) -> str:
    """Open a verification link: sets ``emailVerified``; answers the address."""
    with storage.write() as tx:
        user = _open_link(tx, config, token, "verify")
        if user.data.get("emailVerified") is not True:
            user.data["emailVerified"] = True
            _touch(tx, user)
            users.hooks.after_verified(tx, user.object_id, "email")
        return user.data["email"]


def request_password_reset(
    storage: Storage, config: Any, body: Mapping[str, Any], base_url: str
) -> None:
    """``requestPasswordReset``: mail a link to a page that sets a new password."""
    user = _read(storage, _by_email, _email(body))
    email = user.data["email"]
    link = base_url + RESET_PATH + link_token(config, user, "reset", RESET_LINK_TTL)
    text = (
        f"Somebody asked to reset the password of the {config.app_id} account {email}. "
        f"To choose a new password, open this link:\n\n{link}\n\n"
        "If it was not you, ignore this mail: your password stays as it is."
    )
    messaging.send_mail(storage, config, email, "Reset your password", text, kind="reset")


def check_reset_link(storage: Storage, config: Any, token: str) -> str:
    """The email address a reset link is for (so the page can show it), or ApiError(1)."""
    with storage.write() as tx:
        return str(_open_link(tx, config, token, "reset").data.get("email"))


def reset_password_by_link(storage: Storage, config: Any, token: str, password: Any) -> None:
    """Set the new password from a reset link; every session of the user ends."""
    new_hash = _new_password_hash({"password": password})
    with storage.write() as tx:
        user = _open_link(tx, config, token, "reset")
        users.set_password_hash(tx, user, new_hash)


# --- phone: verification ----------------------------------------------------------


def _send_code(
    storage: Storage,
    config: Any,
    phone: str,
    purpose: str,
    body: Mapping[str, Any],
    ttl: Optional[int] = None,
) -> None:
    sms.send_code(
        storage,
        config,
        phone,
        purpose=purpose,
        ttl_minutes=10 if ttl is None else ttl,
        validate_token=body.get("validate_token"),
        sms_type=body.get("smsType") or "sms",
    )


def request_mobile_phone_verify(storage: Storage, config: Any, body: Mapping[str, Any]) -> None:
    """Text a verification code to a user's number (nothing is sent once it is verified)."""
    phone = _phone(body)
    user = _read(storage, _by_phone, phone)
    if user.data.get("mobilePhoneVerified") is not True:
        _send_code(storage, config, phone, "verify", body)


def verify_mobile_phone(
    storage: Storage, principal: Principal, code: str, body: Mapping[str, Any]
) -> Dict[str, str]:
    """``verifyMobilePhone/<code>``: sets ``mobilePhoneVerified``; ``{updatedAt, objectId}``.

    Older SDKs send no number: the logged-in user's is used then."""
    if "mobilePhoneNumber" not in body and principal.user_id is not None:
        with storage.write() as tx:
            body = {
                "mobilePhoneNumber": users.load_user(tx, principal.user_id).data.get(
                    "mobilePhoneNumber"
                )
            }
    phone = _phone(body)
    sms.check_code(storage, phone, code, purpose="verify")
    with storage.write() as tx:
        user = _by_phone(tx, phone)
        user.data["mobilePhoneVerified"] = True
        result = _touch(tx, user)
        users.hooks.after_verified(tx, user.object_id, "sms")
        return result


def _verified_phone_user(storage: Storage, phone: str) -> StoredObject:
    user = _read(storage, _by_phone, phone)
    if user.data.get("mobilePhoneVerified") is not True:
        raise ApiError(215, "The mobile phone number was not verified.")
    return user


# --- phone: log-in and sign-up ----------------------------------------------------


def request_login_sms_code(storage: Storage, config: Any, body: Mapping[str, Any]) -> None:
    phone = _phone(body)
    _verified_phone_user(storage, phone)
    _send_code(storage, config, phone, "login", body)


def log_in_with_sms_code(storage: Storage, body: Mapping[str, Any]) -> Dict[str, Any]:
    """``POST /login`` with ``{mobilePhoneNumber, smsCode}`` (from ``requestLoginSmsCode``)."""
    phone = _phone(body)
    sms.check_code(storage, phone, _code(body, "smsCode"), purpose="login")
    with storage.write() as tx:
        user = _phone_user(tx, phone)
        if user is None:
            raise users.no_user()
        return users.finish_log_in(tx, user)


def _check_any_code(storage: Storage, phone: str, code: str, purposes: Tuple[str, ...]) -> None:
    """Accept a code sent for any of ``purposes`` (the first that matches is used up)."""
    for purpose in purposes[:-1]:
        try:
            sms.check_code(storage, phone, code, purpose=purpose)
            return
        except ApiError as exc:
            if exc.code != 603:
                raise
    sms.check_code(storage, phone, code, purpose=purposes[-1])


def sign_up_or_log_in_by_phone(
    storage: Storage, principal: Principal, body: Mapping[str, Any]
) -> Tuple[Dict[str, Any], bool]:
    """``usersByMobilePhone``: ``(user with token, created)``. The code may come from
    ``requestSmsCode`` or ``requestLoginSmsCode``; it proves the number, so the user's
    ``mobilePhoneVerified`` becomes true. A new user's username defaults to the number."""
    phone = _phone(body)
    code = _code(body, "smsCode")
    users.check_contact_fields({"mobilePhoneNumber": phone})
    fields = {k: v for k, v in body.items() if k != "smsCode"}
    password_hash = _new_password_hash(body) if "password" in body else None
    _check_any_code(storage, phone, code, ("sms", "login"))
    with storage.write() as tx:
        user = _phone_user(tx, phone)
        if user is not None:
            user.data["mobilePhoneVerified"] = True
            return users.finish_log_in(tx, user, touched=True), False
        fields.setdefault("username", phone)
        verified = {"mobilePhoneVerified": True}
        return users.insert_new_user(tx, principal, fields, password_hash, verified), True


# --- phone: password reset --------------------------------------------------------


def request_password_reset_by_sms_code(
    storage: Storage, config: Any, body: Mapping[str, Any]
) -> None:
    phone = _phone(body)
    _verified_phone_user(storage, phone)
    _send_code(storage, config, phone, "reset", body)


def reset_password_by_sms_code(storage: Storage, code: str, body: Mapping[str, Any]) -> None:
    """``resetPasswordBySmsCode/<code>``: a new password; every session of the user ends."""
    phone = _phone(body)
    new_hash = _new_password_hash(body)
    sms.check_code(storage, phone, code, purpose="reset")
    with storage.write() as tx:
        users.set_password_hash(tx, _by_phone(tx, phone), new_hash)


# --- phone: changing the number ---------------------------------------------------


def _check_phone_free(tx: WriteTx, phone: str, user_id: str) -> None:
    other = _phone_user(tx, phone)
    if other is not None and other.object_id != user_id:
        raise ApiError(214, "Mobile phone number has already been taken.")


def _change_row_id(phone: str) -> str:
    """The ``PHONE_CHANGE_CLASS`` row of a number (one pending change per number)."""
    return hashlib.sha256(messaging.normalize_phone(phone).encode("utf-8")).hexdigest()[:24]


def request_change_phone_number(
    storage: Storage, config: Any, principal: Principal, body: Mapping[str, Any]
) -> None:
    """Text a code to the logged-in user's new number (214 if another user has it) and
    remember who asked, so the code moves that user's number and nobody else's."""
    if principal.user_id is None:
        raise ApiError(206, "The user must be logged in (X-LC-Session).", 403)
    phone = _phone(body)
    users.check_contact_fields({"mobilePhoneNumber": phone})
    row_id = _change_row_id(phone)
    with storage.write() as tx:
        users.load_user(tx, principal.user_id)
        _check_phone_free(tx, phone, principal.user_id)
        stamp = timestamp()
        data = {"userId": principal.user_id}
        row = tx.get(PHONE_CHANGE_CLASS, row_id)
        if row is None:
            tx.insert(StoredObject(PHONE_CHANGE_CLASS, row_id, stamp, stamp, data, {}))
        else:
            row.data, row.updated_at = data, stamp
            tx.update(row)
    ttl = body.get("ttl")
    ttl = CHANGE_PHONE_TTL_MINUTES if ttl is None else ttl
    _send_code(storage, config, phone, "change_phone", body, ttl)


def change_phone_number(
    storage: Storage, principal: Principal, body: Mapping[str, Any]
) -> Dict[str, str]:
    """Move the requesting user to the number the code was sent to, verified. A session,
    when given, must be that user's (the official SDK's test sends none)."""
    phone = _phone(body)
    code = _code(body, "code")
    row_id = _change_row_id(phone)
    with storage.write() as tx:
        row = tx.get(PHONE_CHANGE_CLASS, row_id)
    user_id = row.data.get("userId") if row is not None else None
    if user_id is None or principal.user_id not in (None, user_id):
        raise ApiError(603, sms.INVALID_CODE)
    sms.check_code(storage, phone, code, purpose="change_phone")
    with storage.write() as tx:
        user = users.load_user(tx, user_id)
        _check_phone_free(tx, phone, user_id)
        tx.delete(PHONE_CHANGE_CLASS, row_id)
        user.data.update(mobilePhoneNumber=phone, mobilePhoneVerified=True)
        return _touch(tx, user)
