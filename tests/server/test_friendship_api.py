"""Follow/unfollow and the follower lists: through the SDK where it has the method,
raw HTTP (against the same live server) for the rest."""

import json
import uuid

import pytest
import requests

import leancloud
from leancloud import FriendshipQuery, LeanCloudError, User
from leancloud.server import passwords


@pytest.fixture(autouse=True)
def as_client_app(leancloud_server, monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))
    leancloud.use_master_key(False)
    return leancloud_server


def signed_up(nickname="x"):
    user = User(nickname=nickname)
    user.sign_up(f"f{uuid.uuid4().hex[:12]}", "s3cret")
    return user


def raw(server, method, path, token=None, master=False, **kwargs):
    headers = {"X-LC-Id": server.app_id, "X-LC-Key": server.app_key}
    if master:
        headers["X-LC-Key"] = server.master_key + ",master"
    if token:
        headers["X-LC-Session"] = token
    return requests.request(method, server.url + "/1.1" + path, headers=headers, **kwargs)


def ids(users):
    return sorted(user.id for user in users)


def test_follow_writes_both_rows_and_the_sdk_queries_read_them(leancloud_server):
    ann, bob, cat = signed_up("ann"), signed_up("bob"), signed_up("cat")
    ann.follow(bob.id)
    cat.follow(bob.id)
    User.set_current(bob)  # the rows are shared by the two users only
    followers = User.create_follower_query(bob.id).include("follower").find()
    assert ids(followers) == sorted([ann.id, cat.id])
    assert {u.get("nickname") for u in followers} == {"ann", "cat"}
    User.set_current(ann)
    followees = User.create_followee_query(ann.id).find()
    assert [u.id for u in followees] == [bob.id]


def test_rows_have_the_documented_shape_and_the_shared_acl(leancloud_server):
    ann, bob = signed_up(), signed_up()
    response = raw(
        leancloud_server,
        "POST",
        f"/users/{ann.id}/friendship/{bob.id}",
        ann.session_token,
        json={"group": "sport"},
    )
    assert (response.status_code, response.json()) == (200, {})
    query = {
        "where": json.dumps(
            {"user": {"__type": "Pointer", "className": "_User", "objectId": bob.id}}
        ),
        "returnACL": "true",
    }
    rows = raw(leancloud_server, "GET", "/classes/_Follower", master=True, params=query).json()[
        "results"
    ]
    assert len(rows) == 1
    row = rows[0]
    assert row["follower"] == {"__type": "Pointer", "className": "_User", "objectId": ann.id}
    assert row["group"] == "sport"
    assert row["ACL"] == {
        ann.id: {"read": True, "write": True},
        bob.id: {"read": True, "write": True},
    }
    query["where"] = json.dumps(
        {"user": {"__type": "Pointer", "className": "_User", "objectId": ann.id}}
    )
    followee = raw(leancloud_server, "GET", "/classes/_Followee", master=True, params=query).json()[
        "results"
    ]
    assert [(r["followee"]["objectId"], r["group"]) for r in followee] == [(bob.id, "sport")]


def test_following_twice_keeps_one_pair_and_updates_attributes(leancloud_server):
    ann, bob = signed_up(), signed_up()
    path = f"/users/self/friendship/{bob.id}"
    raw(leancloud_server, "POST", path, ann.session_token, json={"level": 1})
    raw(leancloud_server, "POST", path, ann.session_token, json={"level": 2})
    found = raw(leancloud_server, "GET", f"/users/{bob.id}/followers", bob.session_token).json()
    assert [row["level"] for row in found["results"]] == [2]


def test_unfollow_removes_both_rows_and_is_idempotent(leancloud_server):
    ann, bob = signed_up(), signed_up()
    ann.follow(bob.id)
    ann.unfollow(bob.id)
    ann.unfollow(bob.id)
    both = raw(
        leancloud_server,
        "GET",
        f"/users/{ann.id}/followersAndFollowees",
        master=True,
        params={"count": "1"},
    ).json()
    assert both == {"followers": [], "followees": [], "followers_count": 0, "followees_count": 0}
    assert User.create_follower_query(bob.id).find() == []


def test_followers_and_followees_with_counts_and_include(leancloud_server):
    ann, bob, cat = signed_up("ann"), signed_up("bob"), signed_up("cat")
    ann.follow(bob.id)
    bob.follow(ann.id)
    bob.follow(cat.id)
    both = raw(
        leancloud_server,
        "GET",
        f"/users/{bob.id}/followersAndFollowees",
        bob.session_token,
        params={"count": "1", "include": "follower,followee"},
    ).json()
    assert (both["followers_count"], both["followees_count"]) == (1, 2)
    assert both["followers"][0]["follower"]["nickname"] == "ann"
    assert sorted(r["followee"]["nickname"] for r in both["followees"]) == ["ann", "cat"]
    only = raw(leancloud_server, "GET", f"/users/{bob.id}/followees", bob.session_token).json()
    assert "count" not in only and len(only["results"]) == 2


def test_lists_take_query_parameters(leancloud_server):
    ann, bob, cat = signed_up(), signed_up(), signed_up()
    raw(
        leancloud_server,
        "POST",
        f"/users/{ann.id}/friendship/{bob.id}",
        ann.session_token,
        json={"n": 1},
    )
    raw(
        leancloud_server,
        "POST",
        f"/users/{ann.id}/friendship/{cat.id}",
        ann.session_token,
        json={"n": 2},
    )
    found = raw(
        leancloud_server,
        "GET",
        f"/users/{ann.id}/followees",
        ann.session_token,
        params={"where": json.dumps({"n": {"$gt": 1}})},
    ).json()["results"]
    assert [r["followee"]["objectId"] for r in found] == [cat.id]


def test_other_users_do_not_see_a_friendship(leancloud_server):
    ann, bob, eve = signed_up(), signed_up(), signed_up()
    ann.follow(bob.id)
    seen = raw(leancloud_server, "GET", f"/users/{bob.id}/followers", eve.session_token).json()
    assert seen == {"results": []}
    assert (
        len(
            raw(leancloud_server, "GET", f"/users/{bob.id}/followers", bob.session_token).json()[
                "results"
            ]
        )
        == 1
    )


@pytest.mark.parametrize("who", ["other", "anonymous"])
def test_only_the_user_itself_may_follow_as_itself(leancloud_server, who):
    ann, bob, eve = signed_up(), signed_up(), signed_up()
    token = eve.session_token if who == "other" else None
    response = raw(leancloud_server, "POST", f"/users/{ann.id}/friendship/{bob.id}", token)
    assert (response.status_code, response.json()["code"]) == (403, 206)


def test_master_may_follow_for_a_user(leancloud_server):
    ann, bob = signed_up(), signed_up()
    response = raw(leancloud_server, "POST", f"/users/{ann.id}/friendship/{bob.id}", master=True)
    assert response.status_code == 200
    User.set_current(None)
    assert User.create_followee_query(ann.id).find() == []  # the shared ACL: only the two users
    User.set_current(bob)
    assert [u.id for u in User.create_follower_query(bob.id).find()] == [ann.id]


def test_self_needs_a_session(leancloud_server):
    bob = signed_up()
    response = raw(leancloud_server, "POST", f"/users/self/friendship/{bob.id}")
    assert response.json()["code"] == 211


@pytest.mark.parametrize("target", ["missing", "self"])
def test_following_a_missing_user_or_oneself_fails(leancloud_server, target):
    ann = signed_up()
    with pytest.raises(LeanCloudError) as exc:
        ann.follow("0" * 24 if target == "missing" else ann.id)
    assert exc.value.code == (211 if target == "missing" else 1)


def test_reserved_attributes_are_refused(leancloud_server):
    ann, bob = signed_up(), signed_up()
    response = raw(
        leancloud_server,
        "POST",
        f"/users/{ann.id}/friendship/{bob.id}",
        ann.session_token,
        json={"follower": "someone else"},
    )
    assert response.json()["code"] == 105


def test_clients_cannot_forge_rows(leancloud_server):
    ann, bob = signed_up(), signed_up()
    pointer = {"__type": "Pointer", "className": "_User"}
    body = {"user": {**pointer, "objectId": bob.id}, "follower": {**pointer, "objectId": ann.id}}
    forged = raw(leancloud_server, "POST", "/classes/_Follower", bob.session_token, json=body)
    assert (forged.status_code, forged.json()["code"]) == (403, 119)
    assert (
        raw(leancloud_server, "POST", "/classes/_Follower", master=True, json=body).status_code
        == 201
    )


def test_clients_cannot_repoint_their_rows(leancloud_server):
    ann, bob, carol = signed_up(), signed_up(), signed_up()
    ann.follow(bob.id)
    where = {"params": {"where": json.dumps({"followee": ptr(bob.id)})}}
    (row,) = raw(leancloud_server, "GET", "/classes/_Followee", master=True, **where).json()[
        "results"
    ]
    path = f"/classes/_Followee/{row['objectId']}"
    for body in ({"followee": ptr(carol.id)}, {"user": ptr(carol.id)}, {"followee.x": 1}):
        moved = raw(leancloud_server, "PUT", path, ann.session_token, json=body)
        assert (moved.status_code, moved.json()["code"]) == (403, 119), body
    renamed = raw(leancloud_server, "PUT", path, ann.session_token, json={"group": "close"})
    assert renamed.status_code == 200
    by_master = raw(leancloud_server, "PUT", path, master=True, json={"followee": ptr(carol.id)})
    assert by_master.status_code == 200
    User.set_current(ann)
    assert [u.id for u in User.create_followee_query(ann.id).find()] == [carol.id]


def ptr(user_id):
    return {"__type": "Pointer", "className": "_User", "objectId": user_id}


def test_friendship_query_by_class_name(leancloud_server):
    ann, bob = signed_up(), signed_up()
    ann.follow(bob.id)
    User.set_current(ann)
    query = FriendshipQuery("Followee").equal_to("user", User.create_without_data(ann.id))
    assert [u.id for u in query.find()] == [bob.id]
