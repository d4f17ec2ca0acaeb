"""Push: installations (devices) and notifications (the record of each push).

Installations are ordinary ``_Installation`` objects written through the objects
service, with two rules of their own: the device fields are checked (``deviceType``;
``deviceToken`` for iOS, ``installationId`` otherwise; channel names, 112), and saving
a device that is already registered (same ``installationId``, or same iOS
``deviceToken``) updates that row instead of adding a twin. Listing them needs the
master key: they hold every device's token.

``send_push`` checks a ``POST /1.1/push`` body as LeanCloud documents it, stores a
``_Notification`` (master-only; readable by the user who sent it) and hands it to the
push sender. A self-hosted server has no APNs/FCM credentials, so the default sender
only records: the notification ends ``done`` with the number of targeted ``devices``
and no ``successes``. ``set_push_sender`` plugs in a real one; whatever its ``push``
returns (``status``, ``successes``, ``errors``, ...) updates the record.

Decisions: pushes whose ``push_time`` is more than a minute away are stored as
``scheduled`` and not delivered later (there is no scheduler yet); the 90-day
inactivity rule, rate limits and the per-vendor payload rules are not enforced.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import re
import time
from typing import Any, Dict, List, Mapping, Optional, Protocol, Tuple

from leancloud.codec import format_date, parse_date
from leancloud.server.errors import ApiError
from leancloud.server.names import is_valid_field_name
from leancloud.server.principal import MASTER, Principal
from leancloud.server.query import Query, parse_query, parse_where
from leancloud.server.services import objects
from leancloud.server.services.ops import schema_type
from leancloud.server.storage.base import Storage, StoredObject

__all__ = [
    "INSTALLATION_CLASS",
    "NOTIFICATION_CLASS",
    "PushSender",
    "RecordOnly",
    "set_push_sender",
    "save_installation",
    "update_installation",
    "send_push",
]

logger = logging.getLogger("leancloud.server.push")

INSTALLATION_CLASS = "_Installation"
NOTIFICATION_CLASS = "_Notification"
MAX_BODY_BYTES = 4096
IMMEDIATE_WINDOW = 60.0  # a push_time closer than this is "now"
MIN_FLOW_CONTROL = 1000
# Letters (CJK included), digits, _ - = as LeanCloud's channel rule says.
_CHANNEL = re.compile(r"[^\W][\w\-=]*\Z")
_SHORT_ID = re.compile(r"[A-Za-z0-9]{1,16}\Z")
_TEXT_OPTIONS = ("topic", "apns_team_id", "_notificationChannel")
_KNOWN = frozenset(
    {
        "data",
        "channels",
        "where",
        "cql",
        "push_time",
        "expiration_time",
        "expiration_interval",
        "flow_control",
        "prod",
        "notification_id",
        "req_id",
        *_TEXT_OPTIONS,
    }
)
REQ_ID_WINDOW = 5 * 60.0

# The clock, looked up at call time so tests can move it instead of sleeping.
now = time.time


class PushSender(Protocol):
    def push(
        self, storage: Storage, notification: Dict[str, Any], targets: Query
    ) -> Dict[str, Any]:
        """Deliver to the installations ``targets`` selects; return fields to record."""


class RecordOnly:
    """No delivery: the notification is kept, nothing leaves the server."""

    def push(
        self, storage: Storage, notification: Dict[str, Any], targets: Query
    ) -> Dict[str, Any]:
        return {"status": "done", "successes": 0}


_sender: Dict[str, Optional[PushSender]] = {"push": None}


def set_push_sender(sender: Optional[PushSender]) -> None:
    """Use ``sender`` for pushes in this process; None restores ``RecordOnly``."""
    _sender["push"] = sender


# --- installations ----------------------------------------------------------------


def _check_channels(value: Any) -> None:
    """Plain lists and the ``Add``/``AddUnique``/``Remove`` operations the SDKs send."""
    if isinstance(value, dict) and "__op" in value:
        value = value.get("objects", [])
    if not isinstance(value, list):
        raise ApiError(112, "channels must be a list of channel names.")
    for name in value:
        if not isinstance(name, str) or not _CHANNEL.match(name):
            raise ApiError(112, f"Invalid channel name: {name!r}.")


def _check_device(body: Mapping[str, Any], creating: bool) -> None:
    for field in ("deviceType", "installationId", "deviceToken"):
        if field in body and (not isinstance(body[field], str) or not body[field]):
            code = 114 if field == "deviceToken" else 1
            raise ApiError(code, f"{field} must be a non-empty string.")
    if "channels" in body:
        _check_channels(body["channels"])
    if not creating:
        return
    if "deviceType" not in body:
        raise ApiError(113, "deviceType is required.")
    if body["deviceType"] == "ios" and "deviceToken" not in body:
        raise ApiError(114, "An iOS installation needs its deviceToken.")
    if body["deviceType"] != "ios" and "installationId" not in body:
        raise ApiError(113, "installationId is required.")


def _registered(storage: Storage, body: Mapping[str, Any]) -> Optional[dict]:
    """The installation this device already has, by installationId or iOS deviceToken."""
    keys = [("installationId", body.get("installationId"))]
    if body.get("deviceType") == "ios":
        keys.append(("deviceToken", body.get("deviceToken")))
    for field, value in keys:
        if value is None:
            continue
        query = parse_query(INSTALLATION_CLASS, {"where": {field: value}, "limit": 1})
        rows = storage.find(query, MASTER)
        if rows:
            return rows[0]
    return None


def save_installation(
    storage: Storage, principal: Principal, body: Mapping[str, Any], fetch: bool = False
) -> Tuple[dict, bool]:
    """``(answer, created)``: a new installation, or the device's existing one updated."""
    _check_device(body, creating=True)
    existing = _registered(storage, body)
    if existing is None:
        return objects.create_object(storage, principal, INSTALLATION_CLASS, body, fetch), True
    answer = objects.update_object(
        storage, principal, INSTALLATION_CLASS, existing["objectId"], body, fetch=fetch
    )
    return {**answer, "createdAt": existing["createdAt"]}, False


def update_installation(
    storage: Storage,
    principal: Principal,
    object_id: str,
    body: Mapping[str, Any],
    where: Any = None,
    fetch: bool = False,
) -> dict:
    _check_device(body, creating=False)
    return objects.update_object(
        storage, principal, INSTALLATION_CLASS, object_id, body, where=where, fetch=fetch
    )


# --- pushes -------------------------------------------------------------------------


def _date(body: Mapping[str, Any], field: str) -> Optional[_dt.datetime]:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, dict) and value.get("__type") == "Date":
        value = value.get("iso")
    try:
        return parse_date(value)
    except ValueError:
        raise ApiError(107, f"{field} must be an ISO 8601 date.") from None


def _number(body: Mapping[str, Any], field: str) -> Optional[float]:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ApiError(107, f"{field} must be a number.") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ApiError(107, f"{field} must be a non-negative number.")
    return value


def _short_id(body: Mapping[str, Any], field: str) -> Optional[str]:
    value = body.get(field)
    if value is not None and (not isinstance(value, str) or not _SHORT_ID.match(value)):
        raise ApiError(107, f"{field} must be 1 to 16 letters or digits.")
    return value


def _targets(body: Mapping[str, Any]) -> Dict[str, Any]:
    """The ``where`` over ``_Installation`` that ``where``/``cql`` and ``channels`` select."""
    parts: List[Dict[str, Any]] = []
    if body.get("where") is not None and body.get("cql") is not None:
        raise ApiError(107, "Give where or cql, not both.")
    if body.get("where") is not None:
        where = objects.decode_where(body["where"])
        parse_where(INSTALLATION_CLASS, where)  # 107/1 for a bad query, as on GET
        parts.append(where)
    if body.get("cql") is not None:
        parts.append(_cql_where(body["cql"]))
    channels = body.get("channels")
    if channels is not None:
        channels = [channels] if isinstance(channels, str) else channels
        _check_channels(channels)
        if channels:
            parts.append({"channels": {"$in": channels}})
    parts.append({"valid": {"$ne": False}})
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _cql_where(cql: Any) -> Dict[str, Any]:
    from leancloud.server.query.cql import CqlSelect, parse_cql

    statement = parse_cql(cql)
    if not isinstance(statement, CqlSelect) or statement.class_name != INSTALLATION_CLASS:
        raise ApiError(107, "cql must select from _Installation.")
    return statement.params.get("where") or {}


def _check_body(body: Mapping[str, Any]) -> None:
    size = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size >= MAX_BODY_BYTES:
        raise ApiError(413, f"The push request is {size} bytes; it must be under 4096.", 413)
    unknown = sorted(set(body) - _KNOWN)
    if unknown:
        raise ApiError(107, f"Unknown push parameters: {', '.join(unknown)}.")
    if "data" not in body or body["data"] is None:
        raise ApiError(113, "data is required.")
    if not isinstance(body["data"], dict):
        raise ApiError(107, "data must be a JSON object.")
    if body.get("expiration_time") is not None and body.get("expiration_interval") is not None:
        raise ApiError(107, "Give expiration_time or expiration_interval, not both.")
    if body.get("prod") not in (None, "dev", "prod"):
        raise ApiError(107, "prod must be 'dev' or 'prod'.")
    for field in _TEXT_OPTIONS:
        if body.get(field) is not None and not isinstance(body[field], str):
            raise ApiError(107, f"{field} must be a string.")


def _record(
    body: Mapping[str, Any], where: Dict[str, Any], production: bool, at: float
) -> Dict[str, Any]:
    """The ``_Notification`` fields LeanCloud documents, plus the options as given."""
    push_at = _date(body, "push_time")
    scheduled = push_at is not None and push_at.timestamp() - at > IMMEDIATE_WINDOW
    when = push_at if scheduled else _dt.datetime.fromtimestamp(at, _dt.timezone.utc)
    expires = _date(body, "expiration_time")
    if expires is not None and expires <= when:
        raise ApiError(107, "expiration_time is already past.")
    interval = _number(body, "expiration_interval")
    flow = _number(body, "flow_control")
    record: Dict[str, Any] = {
        "notificationId": _short_id(body, "notification_id") or objects.new_object_id()[:16],
        "msg": body["data"],
        "where": where,
        "prod": body.get("prod") or ("prod" if production else "dev"),
        "status": "scheduled" if scheduled else "in-queue",
        "devices": 0,
        "successes": 0,
        "errors": [],
        "from-service": "push",
        "push-time": format_date(when),
    }
    optional = {
        "channels": body.get("channels"),
        "expiration_time": format_date(expires) if expires else None,
        "expiration_interval": interval,
        "flow_control": max(int(flow), MIN_FLOW_CONTROL) if flow is not None else None,
        "req_id": _short_id(body, "req_id"),
        **{field: body.get(field) for field in _TEXT_OPTIONS},
    }
    record.update({k: v for k, v in optional.items() if v is not None})
    return record


def _recent_duplicate(storage: Storage, req_id: Optional[str]) -> Optional[dict]:
    if req_id is None:
        return None
    since = format_date(_dt.datetime.fromtimestamp(now() - REQ_ID_WINDOW, _dt.timezone.utc))
    where = {"req_id": req_id, "createdAt": {"$gte": {"__type": "Date", "iso": since}}}
    rows = storage.find(parse_query(NOTIFICATION_CLASS, {"where": where, "limit": 1}), MASTER)
    return rows[0] if rows else None


def send_push(
    storage: Storage,
    principal: Principal,
    body: Mapping[str, Any],
    *,
    allow_clients: bool = False,
    production: bool = True,
) -> Dict[str, str]:
    """Check, record and deliver one push; ``{"objectId", "createdAt"}`` of its record."""
    if not principal.master and not allow_clients:
        raise ApiError(119, "Clients may not push: the app only allows it with the master key.")
    _check_body(body)
    where = _targets(body)
    at = now()
    record = _record(body, where, production, at)
    duplicate = _recent_duplicate(storage, record.get("req_id"))
    if duplicate is not None:  # LeanCloud drops a repeated req_id within 5 minutes
        return {"objectId": duplicate["objectId"], "createdAt": duplicate["createdAt"]}
    targets = parse_query(INSTALLATION_CLASS, {"where": where})
    record["devices"] = storage.count(targets, MASTER)
    acl = {principal.user_id: {"read": True}} if principal.user_id else {}
    created = _insert_record(storage, record, acl, at)
    if record["status"] == "in-queue":
        _deliver(storage, {**record, **created}, targets)
    return created


def _field_types(fields: Mapping[str, Any]) -> Dict[str, dict]:
    """Schema entries for the fields with ordinary names (not ``push-time`` and the like)."""
    return {
        k: schema_type(v) for k, v in fields.items() if v is not None and is_valid_field_name(k)
    }


def _insert_record(
    storage: Storage, record: Dict[str, Any], acl: dict, at: float
) -> Dict[str, str]:
    """Written directly: LeanCloud's record has field names a client may not use."""
    stamp = format_date(_dt.datetime.fromtimestamp(at, _dt.timezone.utc))
    row = StoredObject(NOTIFICATION_CLASS, objects.new_object_id(), stamp, stamp, record, acl)
    with storage.write() as tx:
        tx.ensure_fields(NOTIFICATION_CLASS, _field_types(record))
        tx.insert(row)
    return {"objectId": row.object_id, "createdAt": stamp}


def _deliver(storage: Storage, notification: Dict[str, Any], targets: Query) -> None:
    sender = _sender["push"] or RecordOnly()
    try:
        outcome = dict(sender.push(storage, notification, targets) or {})
    except Exception as exc:  # noqa: BLE001 - the push was accepted; its record says it failed
        logger.exception("push %s failed", notification["objectId"])
        outcome = {"status": "done", "errors": [str(exc) or type(exc).__name__]}
    outcome.setdefault("status", "done")
    with storage.write() as tx:
        row = tx.get(NOTIFICATION_CLASS, notification["objectId"])
        row.data, row.updated_at = {**row.data, **outcome}, objects.now()
        try:
            tx.ensure_fields(NOTIFICATION_CLASS, _field_types(outcome))
        except ApiError:  # a sender's field of another type: keep the record, skip the schema
            logger.warning("push %s: sender fields do not fit the schema", row.object_id)
        tx.update(row)
