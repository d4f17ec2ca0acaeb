"""Installations and pushes: through the SDK (``Installation``, ``push.send``,
``Notification.fetch``) against the live server, and the rules over raw HTTP."""

import dataclasses
import datetime as dt

import pytest
from werkzeug.test import Client

import leancloud
from leancloud import Query, push
from leancloud.push import Installation, Notification
from leancloud.server import create_app
from leancloud.server.services import push as push_service

APP_ID, APP_KEY, MASTER_KEY = "push-app", "push-key", "push-master"
APP = {"X-LC-Id": APP_ID, "X-LC-Key": APP_KEY}
MASTER = {"X-LC-Id": APP_ID, "X-LC-Key": MASTER_KEY + ",master"}
UTC = dt.timezone.utc


@pytest.fixture
def app(tmp_path):
    app = create_app(str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY)
    yield app
    app.storage.close()


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def sender():
    """A push sender that records what it was given and reports one success per device."""

    class Recording:
        def __init__(self):
            self.calls = []

        def push(self, storage, notification, targets):
            devices = storage.find(targets, push_service.MASTER)
            self.calls.append((notification, devices))
            return {"successes": len(devices), "iosSuccesses": 0}

    recording = Recording()
    push_service.set_push_sender(recording)
    yield recording
    push_service.set_push_sender(None)


def error_of(response, status=400):
    assert response.status_code == status, response.json
    assert set(response.json) == {"code", "error"}
    return response.json["code"]


def install(client, path="/1.1/installations", headers=APP, **fields):
    return client.post(path, json=fields, headers=headers)


def send(client, headers=MASTER, **body):
    return client.post("/1.1/push", json=body, headers=headers)


def notification(client, object_id, headers=MASTER):
    return client.get(f"/1.1/tables/Notifications/{object_id}", headers=headers).json


# --- through the SDK, against the live server ---------------------------------------


def test_sdk_installation_and_push(leancloud_clean_server, sender):
    ios = Installation(deviceType="ios", deviceToken="token-1", channels=["news"])
    ios.save()
    android = Installation(deviceType="android", installationId="sdk-1", channels=["sport"])
    android.save()
    again = Installation(deviceType="android", installationId="sdk-1", channels=["news"])
    again.save()
    assert again.id == android.id  # the same device: updated, not duplicated
    assert Query(Installation).count() == 2

    where = Query(Installation).equal_to("deviceType", "android")
    sent = push.send({"alert": "hi"}, channels=["news"], where=where, flow_control=0)
    assert isinstance(sent, Notification) and sent.id
    record = Notification.create_without_data(sent.id).fetch()
    assert record.get("status") == "done"
    assert record.get("devices") == 1
    assert record.get("successes") == 1
    assert record.get("msg") == {"alert": "hi"}
    assert record.get("flow_control") == 1000
    assert [d["objectId"] for d in sender.calls[0][1]] == [android.id]


def test_sdk_scheduled_push_and_client_rules(leancloud_clean_server, sender):
    later = dt.datetime.now(UTC) + dt.timedelta(days=1)
    sent = push.send({"alert": "later"}, push_time=later, expiration_interval=60)
    record = Notification.create_without_data(sent.id).fetch()
    assert record.get("status") == "scheduled"
    assert record.get("expiration_interval") == 60
    assert sender.calls == []
    leancloud.use_master_key(False)
    with pytest.raises(leancloud.LeanCloudError) as info:
        push.send({"alert": "hi"})
    assert info.value.code == 119


def test_sdk_installation_update_and_destroy(leancloud_clean_server):
    device = Installation(deviceType="android", installationId="sdk-2", channels=["news"])
    device.save()
    device.add_unique("channels", "sport")
    device.set("badge", 3)
    device.save()
    stored = Query(Installation).get(device.id)
    assert (stored.get("channels"), stored.get("badge")) == (["news", "sport"], 3)
    device.add_unique("channels", "no spaces")
    with pytest.raises(leancloud.LeanCloudError) as bad:
        device.save()
    assert bad.value.code == 112
    device.destroy()
    assert Query(Installation).count() == 0


# --- installations --------------------------------------------------------------------


def test_create_answers_201_with_location(client):
    response = install(client, deviceType="android", installationId="a1")
    assert response.status_code == 201
    assert response.headers["Location"] == f"/1.1/installations/{response.json['objectId']}"
    assert set(response.json) == {"objectId", "createdAt"}


def test_same_installation_id_updates_the_row(client):
    first = install(client, deviceType="android", installationId="a1", channels=["a"]).json
    second = install(
        client, "/1.1/classes/_Installation", deviceType="android", installationId="a1", badge=2
    )
    assert second.status_code == 200
    assert second.json["objectId"] == first["objectId"]
    assert second.json["createdAt"] == first["createdAt"]
    row = client.get(f"/1.1/installations/{first['objectId']}", headers=APP).json
    assert (row["channels"], row["badge"]) == (["a"], 2)
    listed = client.get("/1.1/installations", headers=MASTER).json["results"]
    assert len(listed) == 1


def test_same_ios_token_updates_the_row(client):
    first = install(client, deviceType="ios", deviceToken="t1").json
    second = install(client, deviceType="ios", deviceToken="t1", channels=["x"]).json
    assert second["objectId"] == first["objectId"]
    other = install(client, deviceType="ios", deviceToken="t2").json
    assert other["objectId"] != first["objectId"]


def test_listing_needs_the_master_key(client):
    install(client, deviceType="android", installationId="a1")
    assert error_of(client.get("/1.1/installations", headers=APP), 401) == 401
    assert error_of(client.get("/1.1/classes/_Installation", headers=APP), 401) == 401
    assert len(client.get("/1.1/classes/_Installation", headers=MASTER).json["results"]) == 1


def test_get_update_delete(client):
    object_id = install(client, deviceType="android", installationId="a1").json["objectId"]
    body = {"channels": {"__op": "AddUnique", "objects": ["news"]}}
    assert client.put(f"/1.1/installations/{object_id}", json=body, headers=APP).status_code == 200
    row = client.get(f"/1.1/classes/_Installation/{object_id}", headers=APP).json
    assert row["channels"] == ["news"]
    bad = {"channels": {"__op": "AddUnique", "objects": ["no spaces"]}}
    assert error_of(client.put(f"/1.1/installations/{object_id}", json=bad, headers=APP)) == 112
    assert client.delete(f"/1.1/installations/{object_id}", headers=APP).json == {}
    assert client.get(f"/1.1/installations/{object_id}", headers=APP).json == {}


@pytest.mark.parametrize(
    "fields, code",
    [
        ({}, 113),
        ({"installationId": "a1"}, 113),
        ({"deviceType": "android"}, 113),
        ({"deviceType": "ios"}, 114),
        ({"deviceType": "ios", "deviceToken": ""}, 114),
        ({"deviceType": "ios", "deviceToken": 5}, 114),
        ({"deviceType": 1, "installationId": "a1"}, 1),
        ({"deviceType": "android", "installationId": "a1", "channels": "news"}, 112),
        ({"deviceType": "android", "installationId": "a1", "channels": ["a b"]}, 112),
        ({"deviceType": "android", "installationId": "a1", "channels": [3]}, 112),
    ],
)
def test_bad_installations(client, fields, code):
    assert error_of(install(client, **fields)) == code


def test_channel_names_may_be_cjk_with_dash_and_equals(client):
    channels = ["新闻", "a-b", "k=v", "x_1"]
    response = install(client, deviceType="android", installationId="a1", channels=channels)
    assert response.status_code == 201


# --- pushes -----------------------------------------------------------------------------


def test_push_targets_channels_where_and_skips_invalid_devices(client, sender):
    install(client, deviceType="android", installationId="a1", channels=["news"])
    install(client, deviceType="ios", deviceToken="t1", channels=["news"])
    install(client, deviceType="android", installationId="a2", channels=["sport"])
    install(client, deviceType="android", installationId="a3", channels=["news"], valid=False)
    created = send(client, data={"alert": "hi"}, channels=["news"], where={"deviceType": "android"})
    assert created.status_code == 200
    assert set(created.json) == {"objectId", "createdAt"}
    record = notification(client, created.json["objectId"])
    assert record["devices"] == 1 and record["successes"] == 1
    assert record["iosSuccesses"] == 0
    assert [d["installationId"] for d in sender.calls[0][1]] == ["a1"]


def test_channels_may_be_one_string(client, sender):
    install(client, deviceType="android", installationId="a1", channels=["news"])
    install(client, deviceType="android", installationId="a2", channels=["sport"])
    record = notification(client, send(client, data={}, channels="news").json["objectId"])
    assert record["devices"] == 1


def test_push_by_cql(client, sender):
    install(client, deviceType="android", installationId="a1")
    install(client, deviceType="ios", deviceToken="t1")
    cql = "select * from _Installation where deviceType = 'ios'"
    record = notification(client, send(client, data={"alert": "x"}, cql=cql).json["objectId"])
    assert record["devices"] == 1
    assert error_of(send(client, data={}, cql="select * from Other")) == 107
    assert error_of(send(client, data={}, cql="select from")) == 300


def test_record_fields(client, sender):
    response = send(
        client,
        data={"alert": "hi", "badge": "Increment"},
        notification_id="campaign1",
        expiration_time="2099-01-01T00:00:00.000Z",
        prod="dev",
        topic="com.example",
    )
    record = notification(client, response.json["objectId"])
    assert record["notificationId"] == "campaign1"
    assert record["msg"] == {"alert": "hi", "badge": "Increment"}
    assert record["prod"] == "dev"
    assert record["status"] == "done"
    assert record["from-service"] == "push"
    assert record["expiration_time"] == "2099-01-01T00:00:00.000Z"
    assert record["topic"] == "com.example"
    assert record["push-time"] == response.json["createdAt"]
    assert record["errors"] == []


def test_prod_follows_the_x_lc_prod_header(client, sender):
    staging = send(client, headers={**MASTER, "X-LC-Prod": "0"}, data={}).json
    assert notification(client, staging["objectId"])["prod"] == "dev"
    production = send(client, data={}).json
    assert notification(client, production["objectId"])["prod"] == "prod"


def test_default_sender_records_only(client):
    install(client, deviceType="android", installationId="a1")
    record = notification(client, send(client, data={"alert": "hi"}).json["objectId"])
    assert (record["status"], record["devices"], record["successes"]) == ("done", 1, 0)


def test_a_failing_sender_is_recorded_not_a_500(client):
    class Broken:
        def push(self, storage, notification, targets):
            raise RuntimeError("APNs unreachable")

    push_service.set_push_sender(Broken())
    try:
        response = send(client, data={})
    finally:
        push_service.set_push_sender(None)
    assert response.status_code == 200
    record = notification(client, response.json["objectId"])
    assert record["status"] == "done" and record["errors"] == ["APNs unreachable"]


def test_near_push_time_is_immediate(client, sender):
    soon = (dt.datetime.now(UTC) + dt.timedelta(seconds=30)).isoformat()
    record = notification(client, send(client, data={}, push_time=soon).json["objectId"])
    assert record["status"] == "done"
    assert len(sender.calls) == 1


def test_documented_windows_a_minute_for_push_time_five_minutes_for_req_id(
    client, sender, monkeypatch
):
    start = push_service.now()
    later = dt.datetime.fromtimestamp(start + 90, UTC).isoformat()
    record = notification(client, send(client, data={}, push_time=later).json["objectId"])
    assert record["status"] == "scheduled" and sender.calls == []
    first = send(client, data={}, req_id="r2").json
    monkeypatch.setattr(push_service, "now", lambda: start + 290)
    assert send(client, data={}, req_id="r2").json == first
    monkeypatch.setattr(push_service, "now", lambda: start + 310)
    assert send(client, data={}, req_id="r2").json["objectId"] != first["objectId"]


def test_repeated_req_id_is_dropped(client, sender, monkeypatch):
    first = send(client, data={}, req_id="r1").json
    assert send(client, data={}, req_id="r1").json == first
    assert len(sender.calls) == 1
    clock = push_service.now() + push_service.REQ_ID_WINDOW + 1
    monkeypatch.setattr(push_service, "now", lambda: clock)
    assert send(client, data={}, req_id="r1").json["objectId"] != first["objectId"]


def test_clients_push_when_the_app_allows_it(app, client, sender):
    assert error_of(send(client, headers=APP, data={})) == 119
    app.config = dataclasses.replace(app.config, client_push=True)
    created = send(client, headers=APP, data={}).json
    assert "objectId" in created
    # the record is master-only: an anonymous client cannot read it back
    assert notification(client, created["objectId"], headers=APP) == {}


def test_a_client_pushing_user_reads_its_own_notification_only(app, client, sender):
    app.config = dataclasses.replace(app.config, client_push=True)
    tokens = []
    for name in ("ann", "bob"):
        body = {"username": name, "password": "pw"}
        tokens.append(client.post("/1.1/users", json=body, headers=APP).json["sessionToken"])
    ann, bob = ({**APP, "X-LC-Session": token} for token in tokens)
    created = send(client, headers=ann, data={"alert": "hi"}).json
    assert notification(client, created["objectId"], headers=ann)["msg"] == {"alert": "hi"}
    assert notification(client, created["objectId"], headers=bob) == {}


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, 113),
        ({"data": None}, 113),
        ({"data": "hi"}, 107),
        ({"data": {}, "where": "{bad json"}, 107),
        ({"data": {}, "where": {"a": {"$nope": 1}}}, 1),
        ({"data": {}, "where": {}, "cql": "select * from _Installation"}, 107),
        ({"data": {}, "channels": ["bad name"]}, 112),
        ({"data": {}, "channels": 5}, 112),
        ({"data": {}, "push_time": "tomorrow"}, 107),
        ({"data": {}, "expiration_time": "2000-01-01T00:00:00Z"}, 107),
        ({"data": {}, "expiration_time": "2099-01-01T00:00:00Z", "expiration_interval": 5}, 107),
        ({"data": {}, "expiration_interval": -1}, 107),
        ({"data": {}, "flow_control": "fast"}, 107),
        ({"data": {}, "prod": "staging"}, 107),
        ({"data": {}, "notification_id": "x" * 17}, 107),
        ({"data": {}, "req_id": "no spaces"}, 107),
        ({"data": {}, "topic": 5}, 107),
        ({"data": {}, "unknown": 1}, 107),
    ],
)
def test_bad_pushes(client, body, code):
    assert error_of(send(client, **body)) == code


def test_body_must_be_under_4096_bytes(client):
    assert send(client, data={"alert": "x" * 3900}).status_code == 200
    assert error_of(send(client, data={"alert": "x" * 4096}), 413) == 413


def test_notifications_listing_and_delete_are_master_only(client, sender):
    object_id = send(client, data={}).json["objectId"]
    assert error_of(client.get("/1.1/notifications", headers=APP), 401) == 401
    listed = client.get("/1.1/notifications", headers=MASTER).json["results"]
    assert [n["objectId"] for n in listed] == [object_id]
    path = f"/1.1/notifications/{object_id}"
    assert error_of(client.get(path, headers=APP), 401) == 401
    assert client.get(path, headers=MASTER).json["objectId"] == object_id
    assert error_of(client.delete(path, headers=APP), 401) == 401
    assert client.delete(path, headers=MASTER).json == {}
    assert client.get("/1.1/notifications", headers=MASTER).json["results"] == []
