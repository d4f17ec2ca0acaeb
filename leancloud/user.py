"""``User``: sign-up, log-in, sessions, third-party accounts, phone/email flows, friendship.

The current user is kept in ``leancloud.context.current_user``, a ``ContextVar``: every
thread, asyncio task and copied context has its own, so requests served at the same time
never see each other's user (the official SDK keeps it per thread only). A pooled worker
thread keeps its context from one job to the next, so a server that reuses threads must
reset it per request, as ``leancloud.Engine`` does. The client sends the current user's
``session_token`` as ``X-LC-Session``.

The session token is kept beside the fields, never among them, so ``dump()`` and saves
never send it. The password only travels when it is set: it is a pending change until a
save sends it, and any answer the server gives about the user drops the local copy.

Deliberate differences from the official SDK (same wire requests otherwise):

* ``login(password=...)`` sends the password without storing it in the object.
* Every server answer merged into a user drops the local password (official: only the
  answers to ``save()``/``login()``), and unlinked providers leave ``authData`` even
  when the user is not the current one.
* ``is_linked`` is False without ``authData`` (official: ``TypeError``) and for an
  unlinked provider still present as ``None``.
* ``refresh_session_token``, ``update_password``, ``follow`` and ``unfollow`` send the
  user's own session token (official: the current user's), so they also work on a
  logged-in user that is not the current one.
* ``become("")``/``become(None)`` raise the server's "no such user" (211) without a
  request; ``unlink_from`` on an unsaved user raises ``ValueError``.
* ``reset_password_by_sms_code`` and ``verify_mobile_phone_number`` also accept the
  older releases' calls without the phone number (which is then not sent).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from leancloud import client, context
from leancloud.errors import LeanCloudError
from leancloud.object_ import Object
from leancloud.query import FriendshipQuery
from leancloud.relation import Relation

__all__ = ["User"]

USER_NOT_FOUND = 211


def _text(name: str, value: Any) -> str:
    """``value`` if it is a non-empty string; a clear error before any request otherwise."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"invalid {name}: {value!r}")
    return value


def _optional_text(name: str, value: Any) -> Optional[str]:
    """None or empty means "not given" (the official SDK's ``if value:``); else a string."""
    if value is None or value == "":
        return None
    return _text(name, value)


def _code_path(prefix: str, sms_code: Any) -> str:
    return f"{prefix}/{client.segment(_text('sms_code', sms_code))}"


def _phone_body(phone_number: Any, **extra: Any) -> Dict[str, Any]:
    """``{"mobilePhoneNumber": ...}`` plus the extras that were given."""
    body = {"mobilePhoneNumber": _text("phone_number", phone_number)}
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def _check_validate_token(validate_token: Any) -> Any:
    if validate_token is not None:
        _text("validate_token", validate_token)
    return validate_token


def _request_code(path: str, phone_number: Any, validate_token: Any) -> None:
    """Ask the server to text a code: the one body every such request shares."""
    body = _phone_body(phone_number, validate_token=_check_validate_token(validate_token))
    client.post(path, body)


class User(Object):
    """A LeanCloud user (class ``_User``)."""

    def __init__(self, **attrs: Any) -> None:
        self._session_token: Optional[str] = None
        super().__init__(**attrs)

    # -- session -----------------------------------------------------------------

    @property
    def session_token(self) -> Optional[str]:
        """The token the server gave at sign-up, log-in or ``become``; None before."""
        return self._session_token

    def get_session_token(self) -> Optional[str]:
        return self._session_token

    def _update_data(self, server_data: Dict[str, Any]) -> None:
        """Take ``sessionToken`` out of the fields; the server never returns the password,
        so a local copy is stale once the server has spoken."""
        data = dict(server_data)
        if "sessionToken" in data:
            self._session_token = data.pop("sessionToken")
        super()._update_data(data)
        self._attributes.pop("password", None)

    def _own_session(self) -> Optional[Dict[str, str]]:
        """Headers that act as this user, whoever the current user is."""
        if not self._session_token:
            return None
        return {"X-LC-Session": self._session_token}

    def _set_given(self, **values: Any) -> None:
        """Set the values that were given, after checking that all of them are strings."""
        checked = {key: _optional_text(key, value) for key, value in values.items()}
        for key, value in checked.items():
            if value is not None:
                self.set(key, value)

    def _require_id(self, action: str) -> str:
        if not self.id:
            raise ValueError(f"the user must be signed up or logged in to {action}")
        return self.id

    def _after_save(self, make_current: bool) -> None:
        if make_current:
            User.set_current(self)
        self._drop_unlinked_providers()

    def _logged_in(self, content: Dict[str, Any]) -> None:
        """Merge a log-in answer and become the current user; a code sent to log in is spent."""
        self._update_data(content)
        if "smsCode" not in content:
            self._attributes.pop("smsCode", None)
        self._after_save(make_current=True)

    # -- the current user --------------------------------------------------------

    @classmethod
    def get_current(cls) -> Optional[User]:
        """The user logged in in this context (thread, task or request), or None."""
        return context.current_user.get()

    @classmethod
    def set_current(cls, user: Optional[User]) -> None:
        """Make ``user`` (or nobody) the current user of this context only."""
        if user is not None and not isinstance(user, User):
            raise TypeError(f"the current user must be a leancloud.User or None, not {user!r}")
        context.current_user.set(user)

    @property
    def is_current(self) -> bool:
        """Whether this user (the object or its objectId) is this context's current user."""
        current = context.current_user.get()
        if current is None:
            return False
        return current is self or (self.id is not None and current.id == self.id)

    def logout(self) -> None:
        """Forget the current user if it is this one (nothing is sent to the server)."""
        if self.is_current:
            context.current_user.set(None)

    # -- signing up and logging in -----------------------------------------------

    def save(
        self, make_current: bool = False, where: Any = None, fetch_when_save: Optional[bool] = None
    ) -> None:
        """Save the pending changes; ``make_current`` also makes the user current."""
        super().save(where=where, fetch_when_save=fetch_when_save)
        self._after_save(make_current)

    def sign_up(self, username: Optional[str] = None, password: Optional[str] = None) -> None:
        """Create the user on the server (it needs a username and a password) and log in."""
        self._set_given(username=username, password=password)
        _text("username", self.get("username"))
        if not self.get("password"):
            raise TypeError("invalid password")
        self.save(make_current=True)

    def login(
        self,
        username: Optional[str] = None,
        password: Optional[str] = None,
        email: Optional[str] = None,
    ) -> None:
        """Log in with the username or email (the server prefers the username) and password.

        The request carries the user's fields, so a phone number or an ``smsCode`` set
        beforehand log in too.
        """
        password = _optional_text("password", password)
        self._set_given(username=username, email=email)
        body = self.dump()
        if password is not None:
            body["password"] = password
        self._logged_in(client.post("/login", body).json())

    @classmethod
    def login_with_mobile_phone(cls, phone_number: str, password: str) -> User:
        """Log in with a phone number and password; the user becomes current."""
        user = cls()
        user.set("mobilePhoneNumber", _text("phone_number", phone_number))
        user.login(password=_text("password", password))
        return user

    @classmethod
    def signup_or_login_with_mobile_phone(cls, phone_number: str, sms_code: str) -> User:
        """Log in with a code from ``request_login_sms_code``/SMS, creating the user if new."""
        body = _phone_body(phone_number, smsCode=_text("sms_code", sms_code))
        user = cls()
        user._logged_in(client.post("/usersByMobilePhone", body).json())
        return user

    @classmethod
    def become(cls, session_token: str) -> User:
        """The user a session token belongs to, made the current user."""
        if session_token is None or session_token == "":
            raise LeanCloudError(USER_NOT_FOUND, "Could not find user.")
        token = _text("session_token", session_token)
        user = cls()
        user._session_token = token  # kept if the answer does not repeat it
        user._logged_in(_me(token))
        return user

    def is_authenticated(self) -> bool:
        """Whether the user has a session token the server still accepts."""
        if not self._session_token:
            return False
        try:
            _me(self._session_token)
        except LeanCloudError as error:
            if error.code == USER_NOT_FOUND:
                return False
            raise
        return True

    def refresh_session_token(self) -> None:
        """Replace the session token; every other login of this user is ended."""
        path = f"/users/{client.segment(self._require_id('refresh its session token'))}/refreshSessionToken"
        self._update_data(client.put(path, None, headers=self._own_session()).json())
        self._after_save(make_current=False)

    def update_password(self, old_password: str, new_password: str) -> None:
        """Change the password; the server answers with a new token; the user becomes current."""
        path = f"/users/{client.segment(self._require_id('change its password'))}/updatePassword"
        body = {
            "old_password": _text("old_password", old_password),
            "new_password": _text("new_password", new_password),
        }
        self._update_data(client.put(path, body, headers=self._own_session()).json())
        self._after_save(make_current=True)

    # -- third-party accounts (authData) -----------------------------------------

    @classmethod
    def login_with(cls, platform: str, third_party_auth_data: Dict[str, Any]) -> User:
        """Log in with a third-party account, signing up on first use."""
        return cls().link_with(platform, third_party_auth_data)

    def link_with(self, provider: str, third_party_auth_data: Dict[str, Any]) -> User:
        """Attach a third-party account (saved at once), so ``login_with`` finds this user."""
        if not isinstance(third_party_auth_data, dict):
            raise TypeError(f"auth data must be a dict, not {third_party_auth_data!r}")
        return self._save_auth_data(provider, third_party_auth_data)

    def unlink_from(self, provider: str) -> User:
        """Detach a third-party account (the server drops a provider sent as null)."""
        self._require_id("unlink a provider")
        return self._save_auth_data(provider, None)

    def _save_auth_data(self, provider: str, data: Optional[Dict[str, Any]]) -> User:
        if not isinstance(provider, str) or not provider:
            raise TypeError(f"provider must be a non-empty string, not {provider!r}")
        auth_data = dict(self.get("authData") or {})
        auth_data[provider] = data
        self.set("authData", auth_data)
        self.save(make_current=True)
        return self

    def _drop_unlinked_providers(self) -> None:
        auth_data = self.get("authData")
        if isinstance(auth_data, dict):
            for provider in [key for key, value in auth_data.items() if not value]:
                del auth_data[provider]

    def is_linked(self, provider: str) -> bool:
        """Whether ``authData`` holds an account of ``provider`` (not an unlinked one)."""
        return bool((self.get("authData") or {}).get(provider))

    # -- fields ------------------------------------------------------------------

    def get_username(self) -> Optional[str]:
        return self.get("username")

    def set_username(self, username: str) -> User:
        return self.set("username", username)

    def set_password(self, password: str) -> User:
        """Set a new password, sent by the next save (then dropped from the object)."""
        return self.set("password", password)

    def get_email(self) -> Optional[str]:
        return self.get("email")

    def set_email(self, email: str) -> User:
        return self.set("email", email)

    def get_mobile_phone_number(self) -> Optional[str]:
        return self.get("mobilePhoneNumber")

    def set_mobile_phone_number(self, phone_number: str) -> User:
        return self.set("mobilePhoneNumber", phone_number)

    def get_roles(self) -> List[Object]:
        """The roles whose ``users`` relation holds this user."""
        return Relation.reverse_query("_Role", "users", self).find()

    # -- friendship --------------------------------------------------------------

    def follow(self, target_id: str) -> None:
        """Follow the user ``target_id`` as this user."""
        client.post(self._friendship_path(target_id), None, headers=self._own_session())

    def unfollow(self, target_id: str) -> None:
        """Stop following the user ``target_id``, as this user."""
        client.delete(self._friendship_path(target_id), None, headers=self._own_session())

    def _friendship_path(self, target_id: Any) -> str:
        if self.id is None:
            raise ValueError("Please sign in")
        return f"/users/{client.segment(self.id)}/friendship/{client.segment(_text('target_id', target_id))}"

    @classmethod
    def create_follower_query(cls, user_id: str) -> FriendshipQuery:
        """Who follows ``user_id``: the results are users."""
        return _friendship_query("_Follower", user_id)

    @classmethod
    def create_followee_query(cls, user_id: str) -> FriendshipQuery:
        """Whom ``user_id`` follows: the results are users."""
        return _friendship_query("_Followee", user_id)

    # -- password, email and phone flows -----------------------------------------

    @classmethod
    def request_password_reset(cls, email: str) -> None:
        """Email a password-reset link to the user with this address."""
        client.post("/requestPasswordReset", {"email": _text("email", email)})

    @classmethod
    def request_email_verify(cls, email: str) -> None:
        """Email (again) the verification link for this address."""
        client.post("/requestEmailVerify", {"email": _text("email", email)})

    @classmethod
    def request_mobile_phone_verify(
        cls, phone_number: str, validate_token: Optional[str] = None
    ) -> None:
        """Text a code that proves the user owns the number (``verify_mobile_phone_number``).

        ``validate_token`` comes from a captcha, for apps that require one before any SMS.
        """
        _request_code("/requestMobilePhoneVerify", phone_number, validate_token)

    @classmethod
    def verify_mobile_phone_number(cls, sms_code: str, phone_number: Optional[str] = None) -> None:
        """Mark the number verified with the code ``request_mobile_phone_verify`` sent."""
        body = {} if phone_number is None else _phone_body(phone_number)
        client.post(_code_path("/verifyMobilePhone", sms_code), body)

    @classmethod
    def request_login_sms_code(
        cls, phone_number: str, validate_token: Optional[str] = None
    ) -> None:
        """Text a code to log in with (``signup_or_login_with_mobile_phone``)."""
        _request_code("/requestLoginSmsCode", phone_number, validate_token)

    @classmethod
    def request_password_reset_by_sms_code(
        cls, phone_number: str, validate_token: Optional[str] = None
    ) -> None:
        """Text a code that lets ``reset_password_by_sms_code`` set a new password."""
        _request_code("/requestPasswordResetBySmsCode", phone_number, validate_token)

    @classmethod
    def reset_password_by_sms_code(
        cls, sms_code: str, new_password: str, phone_number: Optional[str] = None
    ) -> None:
        """Set a new password with a code from ``request_password_reset_by_sms_code``."""
        body: Dict[str, Any] = {"password": _text("new_password", new_password)}
        if phone_number is not None:
            body["mobilePhoneNumber"] = _text("phone_number", phone_number)
        client.put(_code_path("/resetPasswordBySmsCode", sms_code), body)

    @classmethod
    def request_change_phone_number(
        cls, phone_number: str, ttl: Optional[int] = None, validate_token: Optional[str] = None
    ) -> None:
        """Text a code to a new number for the current user (``ttl``: minutes it stays valid)."""
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0):
            raise TypeError(f"ttl must be a positive number of minutes, not {ttl!r}")
        body = _phone_body(
            phone_number, ttl=ttl, validate_token=_check_validate_token(validate_token)
        )
        client.post("/requestChangePhoneNumber", body)

    @classmethod
    def change_phone_number(cls, sms_code: str, phone_number: str) -> None:
        """Give the current user the number ``request_change_phone_number`` texted a code to."""
        body = _phone_body(phone_number, code=_text("sms_code", sms_code))
        client.post("/changePhoneNumber", body)


def _me(session_token: str) -> Dict[str, Any]:
    """The user of a session token, asked as the official SDK asks (a query parameter)."""
    return client.get("/users/me", params={"session_token": session_token}).json()


def _friendship_query(class_name: str, user_id: Any) -> FriendshipQuery:
    user = User.create_without_data(_text("user_id", user_id))
    return FriendshipQuery(class_name).equal_to("user", user)
