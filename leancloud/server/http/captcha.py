"""``/1.1/requestCaptcha``, ``/1.1/verifyCaptcha`` and the captcha image they point at."""

from __future__ import annotations

from urllib.parse import urlencode

from werkzeug.routing import Rule

from leancloud.server.http.request import ApiRequest, Reply, public
from leancloud.server.services import captcha

IMAGE_PATH = "/1.1/captchaImage"


def image_url(request: ApiRequest, token: str) -> str:
    """Absolute (a browser needs that): under ``public_url`` when the server has one,
    else on the host the request reached."""
    query = urlencode({"appId": request.config.app_id, "token": token})
    return f"{request.public_url()}{IMAGE_PATH}?{query}"


def request_captcha(request: ApiRequest) -> dict:
    options = captcha.CaptchaOptions.parse(request.params, request.principal.master)
    token = captcha.request_captcha(request.storage, options)
    return {"captcha_token": token, "captcha_url": image_url(request, token)}


@public
def captcha_image(request: ApiRequest) -> Reply:
    """Public: an ``<img src>`` cannot send LeanCloud's headers; the token is the secret."""
    png = captcha.render_png(request.storage, request.params.get("token", ""))
    return Reply(png, 200, {"Content-Type": "image/png"})


def verify_captcha(request: ApiRequest) -> dict:
    body = request.json_object()
    token = captcha.verify_captcha(
        request.storage, body.get("captcha_token"), body.get("captcha_code")
    )
    return {"validate_token": token}


RULES = [
    Rule("/1.1/requestCaptcha", methods=["GET"], endpoint=request_captcha),
    Rule(IMAGE_PATH, methods=["GET"], endpoint=captcha_image),
    Rule("/1.1/verifyCaptcha", methods=["POST"], endpoint=verify_captcha),
]
