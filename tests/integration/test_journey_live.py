"""Issue 5's acceptance journey, all through the SDK against a live server.

A user signs up, verifies their phone with the SMS code read from the outbox, logs in,
uploads a file, shares an object with a role, and the operator pushes to an
installation channel.
"""
import pytest
import requests

import leancloud
from leancloud import ACL, File, LeanCloudError, Object, Role, User, client, push

PHONE = "+8613800000001"


def _as_operator(call):
    """Run ``call`` signed with the master key (what an operator does), then go back."""
    leancloud.use_master_key(True)
    try:
        return call()
    finally:
        leancloud.use_master_key(False)


def _sms_code(phone: str) -> str:
    rows = _as_operator(lambda: client.get("/outbox", {"to": phone}).json()["results"])
    return rows[0]["details"]["code"]


def test_sign_up_verify_log_in_upload_share_and_push(leancloud_clean_server):
    leancloud.use_master_key(False)

    ann = User(mobilePhoneNumber=PHONE)
    ann.sign_up("ann", "s3cret-pass")
    User.request_mobile_phone_verify(PHONE)
    User.verify_mobile_phone_number(_sms_code(PHONE), PHONE)
    ann.logout()

    ann = User()
    ann.login("ann", "s3cret-pass")
    assert ann.get("mobilePhoneVerified") is True
    assert User.get_current() is ann

    note = File("note.txt", b"hello from ann")
    note.save()
    assert requests.get(note.url, timeout=10).content == b"hello from ann"

    editors = Role("Editors", ACL())
    editors.get_acl().set_write_access(ann.id, True)
    editors.get_acl().set_public_read_access(True)
    editors.users.add(ann)
    editors.save()

    acl = ACL()
    acl.set_role_read_access("Editors", True)
    acl.set_role_write_access("Editors", True)
    draft = Object.extend("Draft")(title="Plans", attachment=note)
    draft.set_acl(acl)
    draft.save()

    bob = User()
    bob.sign_up("bob", "other-pass")  # bob is now the current user, not an editor
    assert Object.extend("Draft").query.find() == []
    with pytest.raises(LeanCloudError) as denied:
        Object.extend("Draft").create_without_data(draft.id).set("title", "mine").save()
    assert denied.value.code == 403

    User.become(ann.session_token)
    (shared,) = Object.extend("Draft").query.find()
    assert shared.get("title") == "Plans"
    assert shared.get("attachment").url == note.url

    device = push.Installation(deviceType="android", installationId="ann-phone", channels=["news"])
    device.save()
    push.Installation(deviceType="android", installationId="other", channels=["sport"]).save()
    sent = _as_operator(lambda: push.send({"alert": "Plans are ready"}, channels=["news"]))
    _as_operator(sent.fetch)
    assert sent.get("devices") == 1
    assert sent.get("status") == "done"
