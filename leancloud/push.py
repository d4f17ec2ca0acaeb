"""Push notifications: ``Installation``, ``Notification`` and ``send``.

``send`` posts to ``/push`` with the official SDK's body; the answer names a
``_Notification`` record, which is read through ``/tables/Notifications/<id>``.

Deliberate differences from the official SDK (same wire requests otherwise): arguments
of the wrong type raise ``TypeError`` (and ``prod`` other than ``"dev"``/``"prod"``
``ValueError``) before anything is sent, and the returned ``Notification`` also
carries the ``createdAt`` of the answer.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, Optional, Sequence, Union

from leancloud import client, codec
from leancloud.errors import BAD_RESPONSE, LeanCloudError
from leancloud.object_ import Object

__all__ = ["Installation", "Notification", "send"]

_PROD_VALUES = ("dev", "prod")


class Installation(Object):
    """A device that can receive pushes (class ``_Installation``)."""


class Notification(Object):
    """The record of one push (class ``_Notification``); read-only for the SDK."""

    def fetch(self, *args: Any, **kwargs: Any) -> Notification:
        """Load the record; ``select``/``include`` do not apply to notifications."""
        if not self.id:
            raise ValueError("cannot fetch a notification that has no objectId")
        self._update_data(client.get(f"/tables/Notifications/{client.segment(self.id)}").json())
        return self

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise LeanCloudError(1, "Notification does not support modify")


def _check_type(name: str, value: Any, types: Any, description: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
        raise TypeError(f"{name} must be {description}, not {value!r}")


def _check_arguments(
    data: Any,
    channels: Any,
    push_time: Any,
    expiration_time: Any,
    expiration_interval: Any,
    where: Any,
    cql: Any,
    flow_control: Any,
    prod: Any,
) -> None:
    from leancloud.query import Query  # late: query imports object_

    if expiration_interval and expiration_time:
        raise TypeError("Both expiration_time and expiration_interval can't be set")
    _check_type("data", data, dict, "a dict")
    if data is None:
        raise TypeError("data is required")
    _check_type("channels", channels, (str, list, tuple), "a list of channel names")
    if isinstance(channels, (list, tuple)) and not all(isinstance(c, str) for c in channels):
        raise TypeError(f"channels must be strings, not {channels!r}")
    _check_type("push_time", push_time, _dt.datetime, "a datetime")
    _check_type("expiration_time", expiration_time, _dt.datetime, "a datetime")
    _check_type("expiration_interval", expiration_interval, (int, float), "a number of seconds")
    _check_type("where", where, Query, "a leancloud.Query on _Installation")
    if where is not None and where._class_name != Installation._class_name:
        raise TypeError(f"where must query _Installation, not {where._class_name}")
    _check_type("cql", cql, str, "a CQL string")
    _check_type("flow_control", flow_control, int, "an int")
    if prod is not None and prod not in _PROD_VALUES:
        raise ValueError(f"prod must be 'dev' or 'prod', not {prod!r}")


def send(
    data: Dict[str, Any],
    channels: Union[str, Sequence[str], None] = None,
    push_time: Optional[_dt.datetime] = None,
    expiration_time: Optional[_dt.datetime] = None,
    expiration_interval: Optional[float] = None,
    where: Any = None,
    cql: Optional[str] = None,
    flow_control: Optional[int] = None,
    prod: Optional[str] = None,
) -> Notification:
    """Push ``data`` to the devices selected by ``channels``, ``where`` or ``cql``.

    Without ``prod`` the staging environment (``use_production(False)``) pushes to
    APNs' development environment, as the server would decide from ``X-LC-Prod``.
    ``flow_control`` is sent even when 0: any value enables smooth pushing.
    """
    _check_arguments(
        data,
        channels,
        push_time,
        expiration_time,
        expiration_interval,
        where,
        cql,
        flow_control,
        prod,
    )
    body: Dict[str, Any] = {"data": data}
    if prod is not None:
        body["prod"] = prod
    elif client.USE_PRODUCTION == "0":
        body["prod"] = "dev"
    if channels:
        # One channel may be a plain string, as the official SDK sent it and LeanCloud takes.
        body["channels"] = channels if isinstance(channels, str) else list(channels)
    if push_time:
        body["push_time"] = codec.format_date(push_time)
    if expiration_time:
        body["expiration_time"] = codec.format_date(expiration_time)
    if expiration_interval:
        body["expiration_interval"] = expiration_interval
    if where is not None:
        body["where"] = where.dump().get("where", {})
    if cql:
        body["cql"] = cql
    if flow_control is not None:
        body["flow_control"] = flow_control
    content = client.post("/push", body).json()
    if not isinstance(content, dict) or not content.get("objectId"):
        raise LeanCloudError(BAD_RESPONSE, "POST /push answered no objectId")
    notification = Notification.create_without_data(content["objectId"])
    notification._update_data({k: content[k] for k in ("createdAt",) if k in content})
    return notification
