"""Email and phone account flows (glue to ``services/verification.py``), and the two
small pages the mailed links open in a browser: the email verification result and the
password reset form. Those pages are public: the signed token in the link is the
credential, and a browser cannot send LeanCloud's headers.
"""

from __future__ import annotations

import html
from typing import Any, Dict, Mapping
from urllib.parse import parse_qs

from werkzeug.routing import Rule

from leancloud.server.errors import ApiError
from leancloud.server.http.request import ApiRequest, Reply, public
from leancloud.server.services import verification

HTML_TYPE = "text/html; charset=utf-8"
_FORM_TYPE = "application/x-www-form-urlencoded"


def _page(title: str, body: str, status: int = 200) -> Reply:
    document = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        f'<body style="font-family: sans-serif; max-width: 30em; margin: 3em auto">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Reply(document.encode("utf-8"), status, {"Content-Type": HTML_TYPE})


def _paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


# --- email ------------------------------------------------------------------------


def request_email_verify(request: ApiRequest) -> Dict[str, Any]:
    verification.request_email_verify(
        request.storage, request.config, request.json_object(), request.mail_url()
    )
    return {}


@public
def verify_email(request: ApiRequest, token: str) -> Reply:
    try:
        email = verification.verify_email(request.storage, request.config, token)
    except ApiError as exc:
        return _page("Email not verified", _paragraph(exc.message), exc.status)
    return _page("Email verified", _paragraph(f"Thank you: {email} is verified."))


def request_password_reset(request: ApiRequest) -> Dict[str, Any]:
    verification.request_password_reset(
        request.storage, request.config, request.json_object(), request.mail_url()
    )
    return {}


def _reset_form(email: str, error: str = "") -> Reply:
    form = (
        (f'<p style="color: #b00">{html.escape(error)}</p>' if error else "")
        + _paragraph(f"Choose a new password for {email}.")
        + '<form method="post"><p><label>New password '
        '<input type="password" name="password" required autofocus></label></p>'
        '<p><button type="submit">Set the password</button></p></form>'
    )
    return _page("Reset your password", form, 400 if error else 200)


def _not_reset(exc: ApiError) -> Reply:
    return _page("Password not reset", _paragraph(exc.message), exc.status)


@public
def reset_password_page(request: ApiRequest, token: str) -> Reply:
    try:
        email = verification.check_reset_link(request.storage, request.config, token)
    except ApiError as exc:
        return _not_reset(exc)
    return _reset_form(email)


def _submitted(request: ApiRequest) -> Mapping[str, Any]:
    """The form's fields, or a JSON body for clients that are not browsers."""
    if request.headers.get("Content-Type", "").split(";")[0].strip() == _FORM_TYPE:
        fields = parse_qs(request.raw_body.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[0] for name, values in fields.items()}
    return request.json_object()


@public
def reset_password(request: ApiRequest, token: str) -> Reply:
    try:
        email = verification.check_reset_link(request.storage, request.config, token)
        password = _submitted(request).get("password")
        verification.reset_password_by_link(request.storage, request.config, token, password)
    except ApiError as exc:
        return _reset_form(email, exc.message) if exc.code == 201 else _not_reset(exc)
    return _page("Password changed", _paragraph("Your new password is set: log in with it."))


# --- phone ------------------------------------------------------------------------


def request_mobile_phone_verify(request: ApiRequest) -> Dict[str, Any]:
    verification.request_mobile_phone_verify(request.storage, request.config, request.json_object())
    return {}


def verify_mobile_phone(request: ApiRequest, code: str) -> Dict[str, Any]:
    return verification.verify_mobile_phone(
        request.storage, request.principal, code, request.json_object()
    )


def request_login_sms_code(request: ApiRequest) -> Dict[str, Any]:
    verification.request_login_sms_code(request.storage, request.config, request.json_object())
    return {}


def users_by_mobile_phone(request: ApiRequest) -> Reply:
    user, created = verification.sign_up_or_log_in_by_phone(
        request.storage, request.principal, request.json_object()
    )
    if not created:
        return Reply(user)
    return Reply(user, 201, {"Location": f"/1.1/users/{user['objectId']}"})


def request_password_reset_by_sms_code(request: ApiRequest) -> Dict[str, Any]:
    verification.request_password_reset_by_sms_code(
        request.storage, request.config, request.json_object()
    )
    return {}


def reset_password_by_sms_code(request: ApiRequest, code: str) -> Dict[str, Any]:
    verification.reset_password_by_sms_code(request.storage, code, request.json_object())
    return {}


def request_change_phone_number(request: ApiRequest) -> Dict[str, Any]:
    verification.request_change_phone_number(
        request.storage, request.config, request.principal, request.json_object()
    )
    return {}


def change_phone_number(request: ApiRequest) -> Dict[str, Any]:
    verification.change_phone_number(request.storage, request.principal, request.json_object())
    return {}


RULES = [
    Rule("/1.1/requestEmailVerify", methods=["POST"], endpoint=request_email_verify),
    Rule(verification.VERIFY_PATH + "<token>", methods=["GET"], endpoint=verify_email),
    Rule("/1.1/requestPasswordReset", methods=["POST"], endpoint=request_password_reset),
    Rule(verification.RESET_PATH + "<token>", methods=["GET"], endpoint=reset_password_page),
    Rule(verification.RESET_PATH + "<token>", methods=["POST"], endpoint=reset_password),
    Rule("/1.1/requestMobilePhoneVerify", methods=["POST"], endpoint=request_mobile_phone_verify),
    Rule("/1.1/verifyMobilePhone/<code>", methods=["POST"], endpoint=verify_mobile_phone),
    Rule("/1.1/requestLoginSmsCode", methods=["POST"], endpoint=request_login_sms_code),
    Rule("/1.1/usersByMobilePhone", methods=["POST"], endpoint=users_by_mobile_phone),
    Rule(
        "/1.1/requestPasswordResetBySmsCode",
        methods=["POST"],
        endpoint=request_password_reset_by_sms_code,
    ),
    Rule(
        "/1.1/resetPasswordBySmsCode/<code>", methods=["PUT"], endpoint=reset_password_by_sms_code
    ),
    Rule("/1.1/requestChangePhoneNumber", methods=["POST"], endpoint=request_change_phone_number),
    Rule("/1.1/changePhoneNumber", methods=["POST"], endpoint=change_phone_number),
]
