"""Endpoints that belong to no data area: the server clock."""

from __future__ import annotations

import datetime as _dt

from werkzeug.routing import Rule

from leancloud.codec import date_to_wire
from leancloud.server.http.request import ApiRequest, public


@public
def server_date(request: ApiRequest) -> dict:
    """The official SDK asks for the time without any credentials."""
    return date_to_wire(_dt.datetime.now(_dt.timezone.utc))


RULES = [Rule("/1.1/date", methods=["GET"], endpoint=server_date)]
