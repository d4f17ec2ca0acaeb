"""Push: Installation and Notification classes, and the body ``send`` posts."""

import datetime as dt
import json

import pytest
import responses

import leancloud
from leancloud import LeanCloudError, Object, Query, client, push
from leancloud.push import Installation, Notification
from tests.conftest import API

CREATED = "2024-01-12T03:04:05.678Z"
UTC = dt.timezone.utc


def body(call):
    return json.loads(call.request.body)


def add_push(api, answer=None):
    api.add(
        responses.POST,
        f"{API}/push",
        json=answer if answer is not None else {"objectId": "n1", "createdAt": CREATED},
    )


def test_classes():
    assert Installation._class_name == "_Installation"
    assert Notification._class_name == "_Notification"
    assert Object.as_class("_Installation") is Installation
    assert leancloud.Installation is Installation
    assert leancloud.push is push


def test_installation_saves_like_an_object(api):
    api.add(
        responses.POST,
        f"{API}/classes/_Installation",
        json={"objectId": "i1", "createdAt": CREATED},
    )
    installation = Installation(deviceType="ios", deviceToken="t", channels=["a"])
    installation.save()
    assert body(api.calls[0]) == {"deviceType": "ios", "deviceToken": "t", "channels": ["a"]}
    assert installation.id == "i1"


def test_send_minimal(api):
    add_push(api)
    notification = push.send({"alert": "hi"})
    assert body(api.calls[0]) == {"data": {"alert": "hi"}}
    assert isinstance(notification, Notification)
    assert notification.id == "n1"
    assert notification.created_at == dt.datetime(2024, 1, 12, 3, 4, 5, 678000, tzinfo=UTC)


def test_one_channel_may_be_a_string_sent_as_is(api):
    """The official SDK sent it unchanged and LeanCloud takes it: apps that pass one
    channel name keep working."""
    add_push(api)
    push.send({"alert": "hi"}, channels="news")
    assert body(api.calls[0])["channels"] == "news"


def test_send_everything(api):
    add_push(api)
    where = Query(Installation).equal_to("deviceType", "ios")
    push.send(
        {"alert": "hi"},
        channels=["a", "b"],
        push_time=dt.datetime(2030, 1, 1, tzinfo=UTC),
        expiration_interval=60,
        where=where,
        cql="select * from _Installation",
        flow_control=0,
        prod="prod",
    )
    assert body(api.calls[0]) == {
        "data": {"alert": "hi"},
        "prod": "prod",
        "channels": ["a", "b"],
        "push_time": "2030-01-01T00:00:00.000Z",
        "expiration_interval": 60,
        "where": {"deviceType": "ios"},
        "cql": "select * from _Installation",
        "flow_control": 0,
    }


def test_expiration_time_is_sent_in_utc(api):
    add_push(api)
    eight = dt.timezone(dt.timedelta(hours=8))
    push.send({"alert": "hi"}, expiration_time=dt.datetime(2030, 1, 1, 8, 0, 0, 5000, tzinfo=eight))
    assert body(api.calls[0])["expiration_time"] == "2030-01-01T00:00:00.005Z"


def test_staging_defaults_prod_to_dev(api, monkeypatch):
    monkeypatch.setattr(client, "USE_PRODUCTION", "0")
    add_push(api)
    add_push(api)
    push.send({"alert": "hi"})
    push.send({"alert": "hi"}, prod="prod")
    assert body(api.calls[0])["prod"] == "dev"
    assert body(api.calls[1])["prod"] == "prod"
    assert api.calls[0].request.headers["X-LC-Prod"] == "0"


def test_falsy_options_are_left_out_but_flow_control_zero_is_sent(api):
    add_push(api)
    push.send({"alert": "hi"}, channels=[], expiration_interval=0, flow_control=0)
    assert body(api.calls[0]) == {"data": {"alert": "hi"}, "flow_control": 0}


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"expiration_time": dt.datetime(2030, 1, 1), "expiration_interval": 10}, TypeError),
        ({"data": "hi"}, TypeError),
        ({"data": None}, TypeError),
        ({"channels": b"news"}, TypeError),
        ({"channels": ["news", 1]}, TypeError),
        ({"push_time": "2030-01-01"}, TypeError),
        ({"expiration_time": 1893456000}, TypeError),
        ({"expiration_interval": "60"}, TypeError),
        ({"where": {"deviceType": "ios"}}, TypeError),
        ({"where": Query("PushOther")}, TypeError),
        ({"cql": 3}, TypeError),
        ({"flow_control": "1000"}, TypeError),
        ({"flow_control": True}, TypeError),
        ({"prod": "production"}, ValueError),
    ],
)
def test_bad_arguments_raise_before_any_request(api, kwargs, error):
    arguments = {"data": {"alert": "hi"}, **kwargs}
    with pytest.raises(error):
        push.send(**arguments)
    assert len(api.calls) == 0


def test_a_push_error_raises(api):
    api.add(responses.POST, f"{API}/push", json={"code": 107, "error": "Malformed"}, status=400)
    with pytest.raises(LeanCloudError) as info:
        push.send({"alert": "hi"})
    assert info.value.code == 107


def test_an_answer_without_object_id_raises(api):
    add_push(api, answer={})
    with pytest.raises(LeanCloudError):
        push.send({"alert": "hi"})


def test_notification_fetch(api):
    api.add(
        responses.GET,
        f"{API}/tables/Notifications/n1",
        json={"objectId": "n1", "status": "done", "devices": 3, "createdAt": CREATED},
    )
    notification = Notification.create_without_data("n1")
    assert notification.fetch() is notification
    assert notification.get("status") == "done"
    assert notification.get("devices") == 3


def test_notification_fetch_needs_an_id(api):
    with pytest.raises(ValueError):
        Notification().fetch()


def test_notification_save_raises(api):
    notification = Notification.create_without_data("n1")
    notification.set("status", "x")
    with pytest.raises(LeanCloudError) as info:
        notification.save()
    assert info.value.code == 1


def test_live_installation_round_trip(leancloud_server):
    installation = Installation(deviceType="android", installationId="live-1", channels=["news"])
    installation.save()
    found = Query(Installation).equal_to("installationId", "live-1").first()
    assert isinstance(found, Installation)
    assert (found.id, found.get("channels")) == (installation.id, ["news"])


def test_live_push_by_cql_with_an_expiry_to_the_staging_environment(
    leancloud_clean_server, monkeypatch
):
    """The options ``send`` builds are the ones the server acts on: the CQL picks the
    devices, the expiry is kept in UTC, and a staging app pushes to APNs' dev side."""
    Installation(deviceType="ios", deviceToken="cql-token-1", channels=["news"]).save()
    Installation(deviceType="android", installationId="cql-1", channels=["news"]).save()
    monkeypatch.setattr(client, "USE_PRODUCTION", "0")
    expires = dt.datetime(2099, 1, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    sent = push.send(
        {"alert": "ios only"},
        cql="select * from _Installation where deviceType = 'ios'",
        expiration_time=expires,
    )
    record = Notification.create_without_data(sent.id).fetch()
    assert record.get("devices") == 1
    assert record.get("msg") == {"alert": "ios only"}
    assert record.get("expiration_time") == "2099-01-01T00:00:00.000Z"
    assert record.get("prod") == "dev"
    assert sent.created_at is not None


def test_live_push_argument_conflicts_the_server_would_refuse_are_caught_first(
    leancloud_clean_server,
):
    later = dt.datetime.now(UTC) + dt.timedelta(days=1)
    with pytest.raises(TypeError):
        push.send({"alert": "x"}, expiration_time=later, expiration_interval=60)
    with pytest.raises(ValueError):
        push.send({"alert": "x"}, prod="staging")
    assert Query(Notification).count() == 0


def test_live_one_channel_as_a_string(leancloud_clean_server):
    Installation(deviceType="android", installationId="str-1", channels=["news"]).save()
    Installation(deviceType="android", installationId="str-2", channels=["sport"]).save()
    sent = push.send({"alert": "news only"}, channels="news")
    assert Notification.create_without_data(sent.id).fetch().get("devices") == 1
