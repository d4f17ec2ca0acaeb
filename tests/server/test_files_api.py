"""Files over HTTP: tokens, uploads, callbacks, serving, external files, deletes, and the SDK."""

import dataclasses
import hashlib
import io
import json
import os
import threading

import pytest
import requests
from werkzeug.test import Client

import leancloud
from leancloud import ACL, File, LeanCloudError, Object, Query
from leancloud.server import create_app
from leancloud.server.blobs import BlobStore
from leancloud.server.services import files
from leancloud.server.storage.base import StoredObject

APP_ID, APP_KEY, MASTER_KEY = "files-app", "files-key", "files-master"
HOST = "files.test:8080"
BASE = f"http://{HOST}"


class Api:
    def __init__(self, app):
        self.app = app
        self.client = Client(app)

    def open(
        self, method, path, data=None, headers=None, auth=True, master=False, params=None, **kwargs
    ):
        all_headers = {"Host": HOST}
        if auth:
            all_headers["X-LC-Id"] = APP_ID
            all_headers["X-LC-Key"] = MASTER_KEY + ",master" if master else APP_KEY
        all_headers.update(headers or {})
        return self.client.open(
            path, method=method, data=data, headers=all_headers, query_string=params, **kwargs
        )

    def json(self, method, path, body=None, status=200, **kwargs):
        data = None if body is None else json.dumps(body)
        response = self.open(method, "/1.1" + path, data, content_type="application/json", **kwargs)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def error(self, method, path, body=None, status=400, **kwargs):
        result = self.json(method, path, body, status=status, **kwargs)
        assert set(result) == {"code", "error"}, result
        return result["code"]

    def token(self, name="hello.txt", data=b"", **body):
        """A fileTokens answer; ``metaData`` describes ``data`` as the SDK does."""
        meta = {"owner": "unknown", "size": len(data), "_checksum": hashlib.md5(data).hexdigest()}
        return self.json("POST", "/fileTokens", {"name": name, "metaData": meta, **body})

    def put(self, upload_url, data, **headers):
        assert upload_url.startswith(BASE)
        return self.open("PUT", upload_url[len(BASE) :], data, headers, auth=False)

    def fetch(self, url):
        assert url.startswith(BASE)
        return self.open("GET", url[len(BASE) :], auth=False)

    def uploaded(self, name="hello.txt", data=b"hello", **body):
        info = self.token(name, data, **body)
        assert self.put(info["upload_url"], data).status_code == 200
        self.json("POST", "/fileCallback", {"token": info["token"], "result": True})
        return info


@pytest.fixture
def api(tmp_path, monkeypatch):
    monkeypatch.delenv("LEANCLOUD_PUBLIC_URL", raising=False)
    app = create_app(str(tmp_path), app_id=APP_ID, app_key=APP_KEY, master_key=MASTER_KEY)
    yield Api(app)
    app.storage.close()


def configure(api, **settings):
    api.app.config = dataclasses.replace(api.app.config, **settings)


# ------------------------------------------------------------------ fileTokens


def test_file_tokens_answer_what_the_sdks_read(api):
    acl = {"*": {"read": True}}
    info = api.token("Photo.PNG", b"png", mime_type="image/png", ACL=acl)
    assert info["provider"] == "s3" and info["bucket"]
    assert info["mime_type"] == "image/png" and info["name"] == "Photo.PNG"
    assert info["key"].endswith(".png") and len(info["key"]) == 36
    assert info["url"] == f"{BASE}/files/{info['key']}"
    assert info["upload_url"] == f"{BASE}/1.1/fileUploads/{info['token']}"
    assert len(info["token"]) >= 40 and info["createdAt"] and info["objectId"]
    record = api.json("GET", f"/files/{info['objectId']}", params={"returnACL": "true"})
    assert record["metaData"] == {
        "owner": "unknown",
        "size": 3,
        "_checksum": hashlib.md5(b"png").hexdigest(),
    }
    assert record["ACL"] == acl and record["url"] == info["url"] and record["key"] == info["key"]


def test_tokens_are_unguessable_and_not_stored_in_clear(api):
    tokens = {api.token()["token"] for _ in range(5)}
    assert len(tokens) == 5
    data_dir = api.app.config.data_dir
    database = b""
    for name in os.listdir(data_dir):
        if name.startswith("data.sqlite3"):  # the database and its WAL
            with open(os.path.join(data_dir, name), "rb") as handle:
                database += handle.read()
    hashed = [hashlib.sha256(token.encode()).hexdigest().encode() for token in tokens]
    assert all(digest in database for digest in hashed)  # the test can see the rows
    assert not any(token.encode() in database for token in tokens)


def test_mime_type_is_guessed_from_the_name(api):
    assert api.token("a.json")["mime_type"] == "application/json"
    assert api.token("noext")["mime_type"] == "application/octet-stream"


def test_configured_public_url_builds_the_urls(api):
    configure(api, public_url="https://cdn.example.com/lc")
    info = api.token()
    assert info["url"] == f"https://cdn.example.com/lc/files/{info['key']}"
    assert info["upload_url"].startswith("https://cdn.example.com/lc/1.1/fileUploads/")


def test_forwarded_https_and_bad_hosts(api):
    info = api.json("POST", "/fileTokens", {"name": "a"}, headers={"X-Forwarded-Proto": "https"})
    assert info["url"].startswith(f"https://{HOST}/files/")
    code = api.error("POST", "/fileTokens", {"name": "a"}, headers={"Host": "evil.com/x?"})
    assert code == 1


@pytest.mark.parametrize(
    "body,code",
    [
        ({"name": 5}, 122),
        ({"name": "a", "metaData": "x"}, 107),
        ({"name": "a", "mime_type": 3}, 107),
        ({"name": "a", "ACL": "public"}, 123),
        ({"name": "a", "key": "mine/a.txt"}, 1),
    ],
)
def test_bad_file_token_requests(api, body, code):
    assert api.error("POST", "/fileTokens", body) == code


def test_master_chooses_keys_that_are_checked_and_unique(api):
    info = api.json("POST", "/fileTokens", {"name": "a.txt", "key": "avatars/a.txt"}, master=True)
    assert info["key"] == "avatars/a.txt" and info["url"] == f"{BASE}/files/avatars/a.txt"
    again = {"name": "b.txt", "key": "avatars/a.txt"}
    assert api.error("POST", "/fileTokens", again, master=True) == 137
    for key in ["../a", "/a", "a//b", "a/./b", "a/../b", "..", "a\\b", "a b", "", "x" * 600]:
        assert api.error("POST", "/fileTokens", {"name": "c", "key": key}, master=True) == 1


# ------------------------------------------------------------------ upload and serve


def test_upload_then_serve_without_credentials(api):
    data = os.urandom(200_000)
    info = api.uploaded("blob.bin", data, mime_type="application/x-thing")
    response = api.fetch(info["url"])
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Type"] == "application/x-thing"
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    head = api.open("HEAD", info["url"][len(BASE) :], auth=False)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data))


def test_byte_ranges(api):
    data = bytes(range(256)) * 4
    url = api.uploaded("v.mp4", data, mime_type="video/mp4")["url"]
    whole = api.fetch(url)
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.data == data
    for header, start, stop in [
        ("bytes=0-9", 0, 10),
        ("bytes=1000-", 1000, 1024),
        ("bytes=-4", 1020, 1024),
    ]:
        part = api.open("GET", url[len(BASE) :], headers={"Range": header}, auth=False)
        assert part.status_code == 206 and part.data == data[start:stop]
        assert part.headers["Content-Range"] == f"bytes {start}-{stop - 1}/1024"
        assert part.headers["Content-Type"] == "video/mp4"
    beyond = api.open("GET", url[len(BASE) :], headers={"Range": "bytes=5000-"}, auth=False)
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == "bytes */1024"
    assert beyond.get_json()["code"] == 416
    ignored = api.open("GET", url[len(BASE) :], headers={"Range": "bytes=0-1,5-6"}, auth=False)
    assert ignored.status_code == 200 and ignored.data == data


def test_upload_completes_missing_size_and_checksum(api):
    info = api.json("POST", "/fileTokens", {"name": "x.txt"})
    assert api.put(info["upload_url"], b"12345").status_code == 200
    record = api.json("GET", f"/files/{info['objectId']}")
    assert record["metaData"] == {"size": 5, "_checksum": hashlib.md5(b"12345").hexdigest()}
    assert record["createdAt"] == record["updatedAt"]


def test_upload_url_works_once(api):
    info = api.token("a.txt", b"one")
    assert api.put(info["upload_url"], b"one").status_code == 200
    second = api.put(info["upload_url"], b"one")
    assert second.status_code == 409 and second.get_json()["code"] == 1
    assert api.fetch(info["url"]).data == b"one"


def test_concurrent_uploads_to_one_url_store_one(api):
    info = api.json("POST", "/fileTokens", {"name": "race.bin"})
    statuses = []

    def put(n):
        statuses.append(api.put(info["upload_url"], bytes([n]) * 1000).status_code)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 5
    served = api.fetch(info["url"]).data
    assert len(served) == 1000 and len(set(served)) == 1


@pytest.mark.parametrize(
    "path", ["/1.1/fileUploads/", "/1.1/fileUploads/nope", "/1.1/fileUploads/" + "a" * 43]
)
def test_upload_with_a_missing_or_unknown_token(api, path):
    response = api.open("PUT", path, b"data", auth=False)
    assert response.status_code == 404 and set(response.get_json()) == {"code", "error"}


def test_expired_upload_url(api, monkeypatch):
    info = api.token("a.txt", b"late")
    start = files.now()
    monkeypatch.setattr(files, "now", lambda: start + 3601)  # an upload URL lasts an hour
    response = api.put(info["upload_url"], b"late")
    assert response.status_code == 403 and response.get_json()["code"] == 1
    assert api.fetch(info["url"]).status_code == 404


def test_oversize_upload_is_413_and_stores_nothing(api):
    configure(api, max_file_bytes=1000)
    info = api.json("POST", "/fileTokens", {"name": "big.bin"})
    response = api.put(info["upload_url"], b"x" * 1001)
    assert response.status_code == 413
    assert response.get_json() == {"code": 413, "error": "The file is larger than 1000 bytes."}
    assert api.fetch(info["url"]).status_code == 404
    assert os.listdir(os.path.join(api.app.config.data_dir, "files", "tmp")) == []
    assert api.put(info["upload_url"], b"x" * 1000).status_code == 200  # still usable


def test_request_body_cap_applies_to_uploads_too(api):
    configure(api, max_body_bytes=100, max_file_bytes=10_000)
    info = api.json("POST", "/fileTokens", {"name": "big.bin"})
    response = api.put(info["upload_url"], b"x" * 101)
    assert response.status_code == 413 and response.get_json()["code"] == 413


@pytest.mark.parametrize("sent", [b"hellO", b"hello!"])
def test_content_must_match_announced_size_and_checksum(api, sent):
    info = api.token("a.txt", b"hello")
    response = api.put(info["upload_url"], sent)
    assert response.status_code == 400 and response.get_json()["code"] == 1
    assert api.fetch(info["url"]).status_code == 404
    assert api.put(info["upload_url"], b"hello").status_code == 200


def test_expired_uploads_are_forgotten_by_later_ones(api, monkeypatch):
    never = api.token("never.txt", b"")
    unreported = api.token("unreported.txt", b"done")
    assert api.put(unreported["upload_url"], b"done").status_code == 200
    start = files.now()
    monkeypatch.setattr(files, "now", lambda: start + files.UPLOAD_TTL + 1)
    api.token("later.txt")
    assert api.json("GET", f"/files/{never['objectId']}") == {}
    assert api.json("GET", f"/files/{unreported['objectId']}")["name"] == "unreported.txt"
    assert api.fetch(unreported["url"]).data == b"done"
    callback = {"token": unreported["token"], "result": False}
    assert api.error("POST", "/fileCallback", callback) == 1  # the upload is closed


def test_forged_upload_rows_cannot_delete_files(api, monkeypatch):
    victim = api.uploaded("v.txt", b"victim")
    forged = {"file": victim["objectId"], "expiresAt": 0, "uploaded": False}
    api.json("POST", "/classes/_FileUpload", forged, status=403)  # an internal class
    api.token("later.txt")
    assert api.json("GET", f"/files/{victim['objectId']}")["name"] == "v.txt"
    assert api.fetch(victim["url"]).data == b"victim"


# ------------------------------------------------------------------ fileCallback


def test_failed_callback_discards_record_and_content(api):
    info = api.token("a.txt", b"gone")
    assert api.put(info["upload_url"], b"gone").status_code == 200
    api.json("POST", "/fileCallback", {"token": info["token"], "result": False})
    assert api.json("GET", f"/files/{info['objectId']}") == {}
    assert api.fetch(info["url"]).status_code == 404
    assert api.put(info["upload_url"], b"gone").status_code == 404


def test_successful_callback_closes_the_upload(api):
    info = api.uploaded("a.txt", b"kept")
    assert api.put(info["upload_url"], b"kept").status_code == 404
    assert api.error("POST", "/fileCallback", {"token": info["token"], "result": True}) == 1
    assert api.fetch(info["url"]).data == b"kept"


@pytest.mark.parametrize(
    "body",
    [{}, {"token": ""}, {"token": 5, "result": True}, {"token": "nope", "result": True}],
)
def test_bad_callbacks(api, body):
    assert api.error("POST", "/fileCallback", body) == 1


def test_callback_needs_a_boolean_result_and_an_upload(api):
    info = api.token("a.txt", b"x")
    assert api.error("POST", "/fileCallback", {"token": info["token"], "result": "yes"}) == 1
    assert api.error("POST", "/fileCallback", {"token": info["token"], "result": True}) == 1
    assert api.json("GET", f"/files/{info['objectId']}")["objectId"] == info["objectId"]


def test_callback_needs_app_credentials(api):
    info = api.token("a.txt", b"x")
    body = json.dumps({"token": info["token"], "result": False})
    response = api.open("POST", "/1.1/fileCallback", body, auth=False)
    assert response.status_code == 401


# ------------------------------------------------------------------ serving is safe


@pytest.mark.parametrize(
    "path",
    [
        "/files/../config.json",
        "/files/..%2fconfig.json",
        "/files/%2e%2e/config.json",
        "/files/a/../../config.json",
        "/files/tmp",
        "/files/",
        "/files//etc/passwd",
        "/files/%00",
    ],
)
def test_traversal_and_odd_keys_are_404(api, path):
    api.uploaded()
    response = api.open("GET", path, auth=False)
    assert response.status_code == 404
    assert set(response.get_json()) == {"code", "error"}
    assert b"master_key" not in response.data


def test_blob_store_shares_prefix_folders_and_leaves_no_temporary_files(tmp_path):
    store = BlobStore(str(tmp_path))
    by_prefix = {}
    for n in range(1000):  # 256 prefixes: two keys soon share one
        key = f"k{n}"
        pair = by_prefix.setdefault(hashlib.sha256(key.encode()).hexdigest()[:2], [])
        pair.append(key)
        if len(pair) == 2:
            break
    for key in pair:
        staged = store.stage(io.BytesIO(key.encode()), 100)
        staged.commit(key, "text/plain")
        staged.discard()  # after a commit: nothing to drop
    assert [store.read(key).content for key in pair] == [key.encode() for key in pair]
    store.stage(io.BytesIO(b"dropped"), 100).discard()
    assert os.listdir(os.path.join(str(tmp_path), "files", "tmp")) == []


def test_content_is_stored_under_hashed_names(api):
    info = api.uploaded("a.txt", b"on disk")
    path = BlobStore(api.app.config.data_dir).content_path(info["key"])
    with open(path, "rb") as handle:
        assert handle.read() == b"on disk"
    assert info["key"] not in path


def test_batch_cannot_fetch_content(api):
    info = api.uploaded("a.txt", b"x")
    items = [{"method": "GET", "path": "/files/" + info["key"]}]
    result = api.json("POST", "/batch", {"requests": items})
    assert result[0]["error"]["code"] == 107


# ------------------------------------------------------------------ external and legacy


def test_external_file(api):
    body = {
        "name": "logo.png",
        "url": "https://example.com/logo.png",
        "ACL": None,
        "mime_type": None,
        "metaData": {"owner": "unknown", "__source": "external"},
    }
    created = api.json("POST", "/files", body, status=201)
    assert set(created) == {"objectId", "createdAt"}
    record = api.json("GET", f"/files/{created['objectId']}")
    assert record["url"] == "https://example.com/logo.png" and record["mime_type"] == "image/png"
    assert record["metaData"]["__source"] == "external"
    api.json("DELETE", f"/files/{created['objectId']}")
    assert api.json("GET", f"/files/{created['objectId']}") == {}


@pytest.mark.parametrize(
    "body,code",
    [
        ({"name": "a"}, 1),
        ({"name": "a", "url": 5}, 1),
        ({"name": "a", "url": "http://x/a", "key": "k"}, 1),
        ({"name": "a", "url": "http://x/a", "provider": "s3"}, 1),
        ({"name": 1, "url": "http://x/a"}, 122),
    ],
)
def test_bad_external_files(api, body, code):
    assert api.error("POST", "/files", body) == code
    assert api.error("POST", "/classes/_File", body) == code


def test_external_file_through_classes_path_is_marked_external(api):
    created = api.json("POST", "/classes/_File", {"name": "a", "url": "http://x/a"}, status=201)
    record = api.json("GET", f"/classes/_File/{created['objectId']}")
    assert record["metaData"] == {"__source": "external"}


def test_legacy_raw_upload(api):
    data = os.urandom(5000)
    response = api.open("POST", "/1.1/files/pic.png", data, headers={"Content-Type": "image/png"})
    assert response.status_code == 201
    result = response.get_json()
    assert set(result) == {"size", "bucket", "url", "name", "createdAt", "objectId"}
    assert result["size"] == 5000 and result["name"] == "pic.png"
    served = api.fetch(result["url"])
    assert served.data == data and served.headers["Content-Type"] == "image/png"
    record = api.json("GET", f"/files/{result['objectId']}")
    assert record["metaData"]["_checksum"] == hashlib.md5(data).hexdigest()


def test_legacy_raw_upload_oversize(api):
    configure(api, max_file_bytes=10)
    response = api.open("POST", "/1.1/files/a.bin", b"x" * 11, headers={"Content-Type": "a/b"})
    assert response.status_code == 413
    assert api.json("GET", "/files")["results"] == []


# ------------------------------------------------------------------ reads, writes, deletes


def test_queries_and_pointers_show_internal_urls(api):
    info = api.uploaded("a.txt", b"q")
    results = api.json("GET", "/classes/_File")["results"]
    assert [r["url"] for r in results] == [info["url"]]
    assert api.json("GET", "/files")["results"] == results
    file_value = {"__type": "File", "id": info["objectId"]}
    post = api.json("POST", "/classes/Post", {"file": file_value}, status=201)["objectId"]
    got = api.json("GET", f"/classes/Post/{post}")["file"]
    assert got["__type"] == "File" and got["url"] == info["url"] and got["name"] == "a.txt"


def test_file_acl_guards_reads_writes_and_deletes(api):
    info = api.uploaded("a.txt", b"private", ACL={})
    assert api.json("GET", f"/files/{info['objectId']}") == {}
    assert api.error("DELETE", f"/files/{info['objectId']}", status=403) == 403
    assert api.error("PUT", f"/classes/_File/{info['objectId']}", {"n": 1}, status=403) == 403
    assert api.fetch(info["url"]).data == b"private"  # content URLs are public, as on a CDN
    api.json("DELETE", f"/files/{info['objectId']}", master=True)
    assert api.fetch(info["url"]).status_code == 404


@pytest.mark.parametrize("path", ["/files", "/classes/_File"])
def test_delete_removes_the_content(api, path):
    first, second = api.uploaded("a.txt", b"1"), api.uploaded("b.txt", b"2")
    api.json("DELETE", f"{path}/{first['objectId']},{second['objectId']}")
    assert api.fetch(first["url"]).status_code == 404
    assert api.fetch(second["url"]).status_code == 404
    assert api.json("DELETE", f"{path}/{first['objectId']}") == {}  # already gone


def test_conditional_delete_keeps_content_when_it_fails(api):
    info = api.uploaded("a.txt", b"stay")
    where = json.dumps({"name": "other.txt"})
    code = api.error("DELETE", f"/files/{info['objectId']}", params={"where": where})
    assert code == 305
    assert api.fetch(info["url"]).data == b"stay"


def test_server_fields_are_read_only_for_clients(api):
    victim, mine = api.uploaded("v.txt", b"victim"), api.uploaded("m.txt", b"mine")
    for field in files.SERVER_FIELDS:
        body = {field: victim[field] if field in victim else "x"}
        assert api.error("PUT", f"/classes/_File/{mine['objectId']}", body) == 1
        assert api.error("PUT", f"/files/{mine['objectId']}", body) == 1
    assert api.error("PUT", f"/files/{mine['objectId']}", {"url.x": "y"}) == 1
    api.json("PUT", f"/classes/_File/{mine['objectId']}", {"metaData": {"tag": "x"}})
    api.json("DELETE", f"/files/{mine['objectId']}")
    assert api.fetch(victim["url"]).data == b"victim"
    assert api.json("PUT", f"/files/{victim['objectId']}", {"bucket": "b"}, master=True)


def test_deleting_a_file_kept_elsewhere_leaves_content_alone(api):
    """Imported LeanCloud records have keys too, but their content is not on this server."""
    ours = api.uploaded("a.txt", b"ours")
    stamp = "2024-01-01T00:00:00.000Z"
    imported = {"name": "a.txt", "url": "https://lc.example/a", "key": ours["key"], "bucket": "lc"}
    with api.app.storage.write() as tx:
        tx.insert(StoredObject("_File", "imported", stamp, stamp, imported))
    external = {"name": "a.txt", "url": "https://x.example/a", "key": ours["key"]}
    created = api.json("POST", "/classes/_File", external, status=201, master=True)
    for file_id in ["imported", created["objectId"]]:
        api.json("DELETE", f"/files/{file_id}", master=True)
        assert api.json("GET", f"/files/{file_id}") == {}
    assert api.fetch(ours["url"]).data == b"ours"


def test_unknown_file_routes_are_json_errors(api):
    assert api.json("GET", "/files/" + "0" * 24) == {}  # as for any class
    assert api.error("PUT", "/files/" + "0" * 24, {"a": 1}, status=404) == 1


# ------------------------------------------------------------------ through the SDK


@pytest.fixture
def sdk(leancloud_server, monkeypatch):
    leancloud.use_master_key(False)
    return leancloud_server


def test_sdk_file_of_several_megabytes_round_trips(sdk, tmp_path):
    data = os.urandom(6 * 1024 * 1024 + 7)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    f = File("big.bin", path)
    f.save()
    assert f.id and f.url.startswith(sdk.url + "/files/") and f.size == len(data)
    response = requests.get(f.url)
    assert response.status_code == 200 and response.content == data
    assert response.headers["Content-Length"] == str(len(data))
    fetched = File.create_without_data(f.id).fetch()
    assert fetched.url == f.url and fetched.metadata["size"] == len(data)
    queried = File.query.get(f.id)
    assert queried.url == f.url and queried.created_at == queried.updated_at
    f.destroy()
    assert requests.get(f.url).status_code == 404
    assert Query("_File").equal_to("objectId", f.id).find() == []


def test_sdk_file_in_an_object(sdk):
    Album = Object.extend("FileAlbum")
    cover = File("cover.png", b"\x89PNG fake", mime_type="image/png")
    album = Album(cover=cover)
    album.save()
    got = Query(Album).get(album.id).get("cover")
    assert isinstance(got, File) and got.url == cover.url and got.mime_type == "image/png"
    assert requests.get(got.url).content == b"\x89PNG fake"


def test_sdk_file_acl_and_destroy_permission(sdk):
    f = File("private.txt", b"p")
    acl = ACL()
    acl.set_public_read_access(True)
    f.set_acl(acl)
    f.save()
    with pytest.raises(LeanCloudError) as error:
        f.destroy()
    assert error.value.code == 403
    leancloud.use_master_key(True)
    f.destroy()
    assert requests.get(f.url).status_code == 404


def test_sdk_external_file(sdk):
    f = File.create_with_url("remote.txt", "https://example.com/remote.txt", {"k": "v"})
    f.save()
    fetched = File.create_without_data(f.id).fetch()
    assert fetched.url == "https://example.com/remote.txt"
    assert fetched.metadata["__source"] == "external" and fetched.metadata["k"] == "v"
    f.destroy()
    assert File.query.equal_to("objectId", f.id).find() == []


def test_sdk_failed_upload_discards_the_record(sdk):
    f = File("lies.txt", b"four")
    f._metadata["size"] = 5  # the server checks the content against what was announced
    with pytest.raises(LeanCloudError):
        f.save()
    assert f.id is None
    assert File.query.equal_to("name", "lies.txt").find() == []


def test_file_size_limit_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LEANCLOUD_MAX_FILE_SIZE", "1234")
    assert create_app(str(tmp_path)).config.max_file_bytes == 1234
    monkeypatch.setenv("LEANCLOUD_MAX_FILE_SIZE", "1MB")
    with pytest.raises(ValueError, match="LEANCLOUD_MAX_FILE_SIZE"):
        create_app(str(tmp_path))
