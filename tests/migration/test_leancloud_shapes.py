"""``import --from`` against LeanCloud itself: the requests it sends, pinned with ``responses``
(the copy between two of our servers is tested for real in ``test_live_copy``)."""

from __future__ import annotations

import json

import responses
from responses import matchers

from leancloud.migration import ImportOptions, run_import
from leancloud.migration.remote import Endpoint
from leancloud.migration.sources import ApiSource
from leancloud.migration.targets import LocalTarget
from tests.migration import samples

OLD = "https://old.lc.test"
FILES = "https://files.lc.test"
MASTER = {"X-LC-Id": "old-app", "X-LC-Key": "old-master,master"}
SCHEMA = {
    "Post": {
        "objectId": {"type": "String"},
        "title": {"type": "String"},
        "fans": {"type": "Relation", "className": "_User"},
    },
    "_File": {"name": {"type": "String"}, "key": {"type": "String"}},
}
ACL = {"*": {"read": True}, "u1": {"write": True}}


def post(object_id, title):
    return {
        "objectId": object_id,
        "createdAt": samples.C1,
        "updatedAt": samples.U1,
        "title": title,
        "fans": {"__type": "Relation", "className": "_User"},
        "ACL": ACL,
    }


def scan(api, class_name, params, page):
    api.add(
        responses.GET,
        f"{OLD}/1.1/scan/classes/{class_name}",
        json=page,
        match=[matchers.query_param_matcher(params), matchers.header_matcher(MASTER)],
    )


def related_to(owner):
    where = {
        "$relatedTo": {"object": samples.pointer("Post", owner), "key": "fans"},
    }
    return json.dumps(where, separators=(",", ":"))


def test_a_leancloud_app_is_read_through_schemas_scan_and_related_to(api, tmp_path):
    api.add(responses.GET, f"{OLD}/1.1/export/classes/_User", status=404, json={"code": 1})
    api.add(
        responses.GET, f"{OLD}/1.1/schemas", json=SCHEMA, match=[matchers.header_matcher(MASTER)]
    )
    full = {"returnACL": "true", "limit": "1000"}
    scan(api, "Post", full, {"results": [post("p1", "one")], "cursor": "c1"})
    scan(api, "Post", {**full, "cursor": "c1"}, {"results": [post("p2", "two")], "cursor": None})
    internal_file = {  # LeanCloud's scan gives uploaded files a key but no url
        "objectId": "f1",
        "createdAt": samples.C1,
        "updatedAt": samples.C1,
        "name": "a.txt",
        "key": "abc/a.txt",
    }
    scan(api, "_File", full, {"results": [internal_file], "cursor": None})
    api.add(responses.GET, f"{FILES}/abc/a.txt", body=b"hello")
    ids = {"keys": "objectId", "limit": "1000"}
    scan(api, "Post", ids, {"results": [{"objectId": "p1"}, {"objectId": "p2"}], "cursor": None})
    scan(api, "_User", {**ids, "where": related_to("p1")}, {"results": [{"objectId": "u1"}]})
    scan(api, "_User", {**ids, "where": related_to("p2")}, {"results": []})

    data = tmp_path / "data"
    target = LocalTarget(str(data), "http://new.test")
    source = ApiSource(Endpoint(OLD, "old-app", "old-master"))
    try:
        report = run_import(source, target, str(data), ImportOptions(files_domain=FILES + "/"))
    finally:
        target.close()

    assert report.failed == 0 and report.warnings == [], report.format()
    download = next(c.request for c in api.calls if c.request.url.startswith(FILES))
    assert "X-LC-Key" not in download.headers  # the CDN gets no keys
    state = samples.snapshot(str(data))
    assert [(o.object_id, o.data["title"], o.acl) for o in state["Post"]] == [
        ("p1", "one", ACL),
        ("p2", "two", ACL),
    ]
    assert state["Post.fans"] == [("p1", "_User", "u1")]
    (stored,) = state["_File"]
    assert stored.data["url"] == "http://new.test/files/abc/a.txt"
    assert samples.blob(str(data), "abc/a.txt") == b"hello"
