"""The live-server fixture: a real server over real HTTP, with the SDK pointed at it."""

import os

import pytest
import requests

from leancloud import client


def test_fixture_describes_the_server(leancloud_server):
    assert leancloud_server.url.startswith("http://127.0.0.1:")
    assert os.path.isdir(leancloud_server.data_dir)
    assert all(
        [
            leancloud_server.app_id,
            leancloud_server.app_key,
            leancloud_server.master_key,
            leancloud_server.hook_key,
        ]
    )


def test_sdk_is_pointed_at_the_server(leancloud_server):
    assert os.environ["LEANCLOUD_API_SERVER"] == leancloud_server.url
    info = client.get_app_info()
    assert info == {
        "app_id": leancloud_server.app_id,
        "app_key": leancloud_server.app_key,
        "master_key": leancloud_server.master_key,
        "hook_key": leancloud_server.hook_key,
    }
    created = client.post("/classes/LiveThing", {"n": 1}).json()
    fetched = client.get(f"/classes/LiveThing/{created['objectId']}").json()
    assert fetched["n"] == 1
    assert client.get_server_time().year >= 2024


def test_sdk_errors_come_back_as_leancloud_errors(leancloud_server):

    from leancloud import LeanCloudError

    with pytest.raises(LeanCloudError) as exc:
        client.post("/classes/bad-name", {"n": 1})
    assert exc.value.code == 103


def test_real_http_headers(leancloud_server):
    response = requests.get(leancloud_server.url + "/1.1/date")
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache,no-store"
    bad = requests.get(
        leancloud_server.url + "/1.1/classes/X", headers={"X-LC-Id": "nope", "X-LC-Key": "nope"}
    )
    assert (bad.status_code, bad.json()) == (401, {"code": 401, "error": "Unauthorized."})


def test_clean_server_starts_empty(leancloud_clean_server):
    client.post("/classes/Scratch", {"n": 1})
    assert len(client.get("/classes/Scratch").json()["results"]) == 1


def test_clean_server_forgets_the_previous_test(leancloud_clean_server):
    assert client.get("/classes/Scratch").json() == {"results": []}


def test_sdk_objects_end_to_end(leancloud_clean_server):
    import leancloud

    Post = leancloud.Object.extend("Post")
    post = Post(title="hi", views=1, tags=["a"])
    post.save()
    assert len(post.id) == 24 and post.created_at is not None
    post.increment("views", 2)
    post.add_unique("tags", "b")
    post.save()
    fetched = Post.create_without_data(post.id)
    fetched.fetch()
    assert fetched.get("views") == 3 and sorted(fetched.get("tags")) == ["a", "b"]

    posts = [Post(title=str(i), views=i) for i in range(3)]
    Post.save_all(posts)
    query = leancloud.Query(Post).greater_than_or_equal_to("views", 1).ascending("views")
    assert [p.get("views") for p in query.find()] == [1, 2, 3]
    assert query.count() == 3

    post.set("views", 100)
    with pytest.raises(leancloud.LeanCloudError) as exc:
        post.save(where=leancloud.Query(Post).equal_to("views", 999))
    assert exc.value.code == 305

    Post.destroy_all(posts)
    assert leancloud.Query(Post).count() == 1
    post.destroy()
    assert leancloud.Query(Post).count() == 0


def test_concurrent_increments_over_real_http(leancloud_server):
    import threading

    headers = {"X-LC-Id": leancloud_server.app_id, "X-LC-Key": leancloud_server.app_key}
    base = leancloud_server.url + "/1.1/classes/LiveCounter"
    object_id = requests.post(base, json={"n": 0}, headers=headers).json()["objectId"]
    failures = []

    def bump():
        with requests.Session() as session:
            for _ in range(10):
                body = {"n": {"__op": "Increment", "amount": 1}}
                response = session.put(f"{base}/{object_id}", json=body, headers=headers)
                if response.status_code != 200:
                    failures.append(response.text)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert requests.get(f"{base}/{object_id}", headers=headers).json()["n"] == 80
