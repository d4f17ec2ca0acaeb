"""``CookieSessionMiddleware``: keep a web app's logged-in LeanCloud user in a signed cookie.

While a request is served, ``leancloud.User.get_current()`` is the cookie's user (only
for that request, body included: the ``ContextVar`` is reset once the body is sent, so a
generator app sees the user too). When the response starts,
the cookie is written for the current user, so ``User.login()`` in a view logs the
browser in and ``user.logout()`` clears it.

The cookie is signed with ``itsdangerous`` and carries ``{"uid", "session_token"}``;
with ``max_age`` a cookie older than that is refused even if the browser still sends it.
Cookies written by the official SDK (secure-cookie format) are not read: users log in
once more after the switch. Paths under LeanEngine's own prefixes and ``excluded_paths``
are passed through untouched (the official SDK deleted the cookie on them).
"""

from __future__ import annotations

import datetime as _dt
from contextvars import Token
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.http import dump_cookie
from werkzeug.wrappers import Request

from leancloud import context
from leancloud.errors import LeanCloudError
from leancloud.user import USER_NOT_FOUND, User

__all__ = ["CookieSessionMiddleware"]

_ENGINE_PATHS = ("/__engine/", "/1/functions/", "/1.1/functions/", "/1/call/", "/1.1/call/")
_SALT = "leancloud.engine.cookie-session"


class CookieSessionMiddleware:
    """Wrap any WSGI app so that its LeanCloud user survives between browser requests."""

    def __init__(
        self,
        app: Any,
        secret: str,
        name: str = "leancloud:session",
        excluded_paths: Union[Sequence[str], str, None] = None,
        fetch_user: bool = False,
        expires: Union[_dt.datetime, float, None] = None,
        max_age: Union[_dt.timedelta, int, None] = None,
    ) -> None:
        """``fetch_user``: fetch the user's data on each request (else only id and token)."""
        if not secret:
            raise RuntimeError("secret is required")
        self.app = app
        self.name = name
        # One prefix given as a string is that prefix (the official SDK took each of its
        # characters, so "/static" excluded every path).
        if isinstance(excluded_paths, str):
            excluded_paths = [excluded_paths]
        self.excluded_paths = _ENGINE_PATHS + tuple(excluded_paths or ())
        self.fetch_user = fetch_user
        self.expires = expires
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(self.excluded_paths):
            return self.app(environ, start_response)
        had_cookie = self.name in request.cookies
        restore = _Restore(context.current_user.set(None))
        try:
            context.current_user.set(self._load(request.cookies.get(self.name)))

            def start(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
                return start_response(status, list(headers) + self._cookie(had_cookie), exc_info)

            body = self.app(environ, start)
        except BaseException:
            restore()
            raise
        return _Body(body, restore)

    def _max_age_seconds(self) -> Optional[float]:
        if isinstance(self.max_age, _dt.timedelta):
            return self.max_age.total_seconds()
        return self.max_age

    def _load(self, value: Optional[str]) -> Optional[User]:
        """The cookie's user; None for a missing, forged, expired or revoked cookie."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=self._max_age_seconds())
        except BadSignature:
            return None
        token = data.get("session_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            return None
        if not self.fetch_user:
            user = User()
            user._update_data({"objectId": data.get("uid"), "sessionToken": token})
            return user
        try:
            return User.become(token)
        except LeanCloudError as error:
            if error.code == USER_NOT_FOUND:
                return None
            raise

    def _cookie(self, had_cookie: bool) -> List[Tuple[str, str]]:
        """The Set-Cookie header for the user current now, or clearing the old cookie."""
        user = User.get_current()
        if user is not None and user.session_token:
            payload = {"uid": user.id, "session_token": user.session_token}
            value = self._serializer.dumps(payload)
            cookie = dump_cookie(
                self.name,
                value,
                max_age=self.max_age,
                expires=self.expires,
                path="/",
                httponly=True,
            )
        elif had_cookie:
            cookie = dump_cookie(self.name, "", max_age=0, expires=0, path="/", httponly=True)
        else:
            return []
        return [("Set-Cookie", cookie)]


class _Restore:
    """Put back the user that was current before the request, once."""

    def __init__(self, token: Token) -> None:
        self._token: Optional[Token] = token

    def __call__(self) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        try:
            context.current_user.reset(token)
        except ValueError:
            pass  # called from another context, where the request's user was never set


class _Body:
    """The app's response body: the cookie's user stays current until it is sent.

    A WSGI app may be a generator that runs, and calls ``start_response``, only when
    the server iterates its body; the user is restored once the body is exhausted or
    closed, whichever comes first.
    """

    def __init__(self, body: Iterable[bytes], restore: _Restore) -> None:
        self._body = body
        self._restore = restore

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        finally:
            self._restore()

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._restore()
