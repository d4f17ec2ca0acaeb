"""``GET /1.1/cloudQuery`` against the live server: through the SDK's
``Query.do_cloud_query`` and with raw HTTP (the official SDK's ``pvalues`` forms, errors)."""

import json

import pytest
import requests

import leancloud
from leancloud import ACL, LeanCloudError, Object, Query, User
from leancloud.server import passwords

GameScore = Object.extend("GameScore")
Post = Object.extend("Post")
Comment = Object.extend("Comment")


def saved(obj):
    obj.save()
    return obj


@pytest.fixture
def server(leancloud_clean_server, monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))
    return leancloud_clean_server


@pytest.fixture
def scores(server):
    """Five scores 0..40, saved with the master key."""
    return [saved(GameScore(name=f"p{i}", score=i * 10, tags=["t", str(i)])) for i in range(5)]


def raw(server, params, master=False):
    key = server.master_key + ",master" if master else server.app_key
    return requests.get(
        server.url + "/1.1/cloudQuery",
        params=params,
        headers={"X-LC-Id": server.app_id, "X-LC-Key": key},
        timeout=10,
    )


def names(result):
    return [obj.get("name") for obj in result.results]


# --- through the SDK ------------------------------------------------------------------


def test_select_builds_objects_of_the_named_class(scores):
    result = Query.do_cloud_query("select * from GameScore where score >= 20 order by -score")
    assert result.class_name == "GameScore" and result.count is None
    assert names(result) == ["p4", "p3", "p2"]
    assert all(isinstance(obj, GameScore) for obj in result.results)
    assert result.results[0].id == scores[4].id and result.results[0].created_at is not None


def test_placeholders_as_arguments_or_as_one_list(scores):
    cql = "select * from GameScore where score > ? limit ?, ? order by score"
    assert names(Query.do_cloud_query(cql, 0, 1, 2)) == ["p2", "p3"]
    assert names(Query.do_cloud_query(cql, [0, 1, 2])) == ["p2", "p3"]


def test_count_with_and_without_rows(scores):
    both = Query.do_cloud_query("select count(*), * from GameScore where score > 10 limit 1")
    assert both.count == 3 and len(both.results) == 1
    alone = Query.do_cloud_query("select count(objectId) from GameScore where name like 'p%'")
    assert (alone.count, alone.results) == (5, [])


def test_columns_are_selected_like_rest_keys(scores):
    result = Query.do_cloud_query("select name from GameScore where score = 10")
    (obj,) = result.results
    assert obj.get("name") == "p1" and obj.get("score") is None and obj.id == scores[1].id


def test_conditions_run_with_their_rest_meaning(scores):
    def found(where, *pvalues):
        return sorted(
            names(Query.do_cloud_query(f"select * from GameScore where {where}", *pvalues))
        )

    assert found("name in ('p1', 'p3') or score = 0") == ["p0", "p1", "p3"]
    assert found("name not like 'p%' or tags = '2'") == ["p2"]
    assert found("name regexp '[34]$' and score != 30") == ["p4"]
    assert found("tags all ('t', '1')") == ["p1"]
    assert found("size(tags) = 2 and (score < 10 or score > 30)") == ["p0", "p4"]
    assert found("missing is not exists and score >= ?", 40) == ["p4"]


def test_include_and_pointer_conditions(server):
    post = saved(Post(title="hello", image="x.png"))
    other = saved(Post(title="bye"))
    saved(Comment(text="c1", post=post))
    saved(Comment(text="c2", post=other))
    result = Query.do_cloud_query("select include post, * from Comment where post = ?", post)
    (comment,) = result.results
    assert comment.get("post").get("title") == "hello"
    with_image = Query.do_cloud_query(
        "select * from Comment where post in (select * from Post where image is exists)"
    )
    assert [c.get("text") for c in with_image.results] == ["c1"]
    by_title = Query.do_cloud_query(
        "select * from Comment where post = pointer('Post', ?)", other.id
    )
    assert [c.get("text") for c in by_title.results] == ["c2"]


def test_subquery_select_on_another_class(scores):
    for name in ("p1", "p4", "nobody"):
        saved(Object.extend("Player")(name=name))
    players = Query.do_cloud_query(
        "select * from Player where name in (select name from GameScore where score > 20)"
    )
    assert names(players) == ["p4"]


def test_geo_queries(server):
    Place = Object.extend("Place")
    saved(Place(name="tiananmen", loc=leancloud.GeoPoint(39.9087, 116.3975)))
    saved(Place(name="shanghai", loc=leancloud.GeoPoint(31.2304, 121.4737)))
    near = Query.do_cloud_query("select * from Place where loc near [116.4, 39.9] max 10 km")
    assert names(near) == ["tiananmen"]
    ordered = Query.do_cloud_query("select * from Place where loc near geopoint(121.4, 31.2)")
    assert names(ordered) == ["shanghai", "tiananmen"]
    boxed = Query.do_cloud_query("select * from Place where loc within [116, 39] and [117, 40]")
    assert names(boxed) == ["tiananmen"]


def test_related(server):
    post = saved(Post(title="liked"))
    fans = [saved(Object.extend("Fan")(name=n)) for n in ("a", "b", "c")]
    post.relation("likes").add(fans[0])
    post.relation("likes").add(fans[2])
    post.save()
    result = Query.do_cloud_query("select * from Fan where related likes to ?", post)
    assert sorted(names(result)) == ["a", "c"]


def test_insert_update_delete(server):
    inserted = Query.do_cloud_query(
        "insert into GameScore(name, score) values ('a', 1), (?, ?)", "b", 2
    )
    assert [obj.id is not None for obj in inserted.results] == [True, True]
    first = inserted.results[0].id
    assert GameScore.create_without_data(first).fetch().get("score") == 1
    Query.do_cloud_query(
        "update GameScore set score = op('Increment', {amount: 5}) where objectId = ?", first
    )
    assert GameScore.create_without_data(first).fetch().get("score") == 6
    with pytest.raises(LeanCloudError) as unmet:
        Query.do_cloud_query(
            "update GameScore set score = 0 where objectId = ? and score > 100", first
        )
    assert unmet.value.code == 305
    Query.do_cloud_query("delete from GameScore where objectId = ?", first)
    left = Query.do_cloud_query("select * from GameScore")
    assert names(left) == ["b"]


def test_acls_apply_as_in_rest_queries(server):
    owner = User()
    owner.sign_up("cql-owner", "pw")
    private = ACL()
    private.set_read_access(owner.id, True)
    private.set_write_access(owner.id, True)
    secret = saved(GameScore(name="secret", score=1, ACL=private))
    saved(GameScore(name="public", score=2))
    leancloud.use_master_key(False)
    assert sorted(names(Query.do_cloud_query("select * from GameScore"))) == ["public", "secret"]
    assert Query.do_cloud_query("select count(*) from GameScore").count == 2
    User.set_current(None)
    assert names(Query.do_cloud_query("select * from GameScore")) == ["public"]
    assert Query.do_cloud_query("select count(*) from GameScore").count == 1
    for write in (
        "update GameScore set score = 0 where objectId = ?",
        "delete from GameScore where objectId = ?",
    ):
        with pytest.raises(LeanCloudError) as info:
            Query.do_cloud_query(write, secret.id)
        assert info.value.code == 403
    leancloud.use_master_key(True)
    assert GameScore.create_without_data(secret.id).fetch().get("score") == 1


def test_users_hidden_fields_stay_hidden(server):
    User().sign_up("cql-user", "pw")
    leancloud.use_master_key(False)
    User.set_current(None)
    with pytest.raises(LeanCloudError) as info:
        Query.do_cloud_query("select * from _User where password = 'x'")
    assert info.value.code == 105
    leancloud.use_master_key(True)
    (user,) = Query.do_cloud_query("select * from _User where username = 'cql-user'").results
    assert isinstance(user, User) and user.get("password") is None


# --- raw HTTP ------------------------------------------------------------------------


def test_raw_response_shape_and_the_double_encoded_pvalues(server, scores):
    response = raw(
        server,
        {
            "cql": "select count(*), name from GameScore where score < ?",
            "pvalues": json.dumps(json.dumps([20])),
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["className"] == "GameScore" and body["count"] == 2
    assert sorted(row["name"] for row in body["results"]) == ["p0", "p1"]
    assert set(body["results"][0]) == {"name", "objectId", "createdAt", "updatedAt"}
    plain = raw(
        server, {"cql": "select * from GameScore where score = ?", "pvalues": "[40]"}
    ).json()
    assert [row["name"] for row in plain["results"]] == ["p4"] and "count" not in plain


def test_default_limit_is_100(server):
    requests.post(
        server.url + "/1.1/batch",
        json={
            "requests": [
                {"method": "POST", "path": "/1.1/classes/Many", "body": {"n": i}}
                for i in range(120)
            ]
        },
        headers={"X-LC-Id": server.app_id, "X-LC-Key": server.master_key + ",master"},
        timeout=10,
    ).raise_for_status()
    body = raw(server, {"cql": "select count(*), * from Many"}).json()
    assert (len(body["results"]), body["count"]) == (100, 120)


def test_unknown_class_has_no_rows(server):
    body = raw(server, {"cql": "select * from NoSuchClass where a = 1"}).json()
    assert body == {"results": [], "className": "NoSuchClass"}


@pytest.mark.parametrize(
    "params, code",
    [
        ({"cql": "select * form GameScore"}, 300),
        ({}, 300),
        ({"cql": "select * from GameScore where a = ?", "pvalues": "[1, 2]"}, 300),
        ({"cql": "select * from GameScore where a = ?", "pvalues": "{oops"}, 107),
        ({"cql": "select * from GameScore where a = ?", "pvalues": '{"a": 1}'}, 300),
        ({"cql": "select * from GameScore where " + " or ".join(["a = 1"] * 600)}, 300),
        ({"cql": "select * from `bad-name`"}, 103),
        ({"cql": "delete from GameScore where score = 1"}, 300),
    ],
)
def test_errors(server, params, code):
    response = raw(server, params)
    assert response.status_code == 400
    assert response.json()["code"] == code and "error" in response.json()


def test_syntax_errors_name_the_position(server):
    body = raw(server, {"cql": "select * from GameScore where score >"}).json()
    assert body == {
        "code": 300,
        "error": "CQL syntax error at position 37: expected a value, found the end.",
    }


def test_cloud_query_inside_a_batch(server, scores):
    response = requests.post(
        server.url + "/1.1/batch",
        json={
            "requests": [
                {
                    "method": "GET",
                    "path": "/1.1/cloudQuery",
                    "params": {"cql": "select count(*) from GameScore"},
                }
            ]
        },
        headers={"X-LC-Id": server.app_id, "X-LC-Key": server.app_key},
        timeout=10,
    )
    assert response.json() == [{"success": {"results": [], "count": 5, "className": "GameScore"}}]
