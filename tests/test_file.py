"""File: data sources, metadata, the upload flow per provider, and every wire request."""

import hashlib
import io
import json
import logging
import os
import pathlib
from types import SimpleNamespace

import pytest
import requests
import responses
from werkzeug.wrappers import Request

import leancloud
from leancloud import ACL, File, LeanCloudError, Object, Query, User, codec, context
from leancloud.file_ import QINIU_UPLOAD_URL
from leancloud.server import passwords
from tests.conftest import API

CREATED = "2024-01-12T03:04:05.678Z"
S3_URL = "https://s3.test/bucket/abc"
QCLOUD_URL = "https://cos.test/files/abc"
FILE_URL = "https://files.test/abc.txt"


def body(call):
    return json.loads(call.request.body)


def token_answer(provider="s3", **extra):
    answer = {
        "objectId": "f1",
        "url": FILE_URL,
        "key": "abc.txt",
        "mime_type": "text/plain",
        "provider": provider,
        "token": "tok",
        "bucket": "bkt",
        "createdAt": CREATED,
    }
    if provider in ("s3", "qcloud"):
        answer["upload_url"] = S3_URL if provider == "s3" else QCLOUD_URL
    answer.update(extra)
    return answer


def add_token(api, provider="s3", **extra):
    api.add(responses.POST, f"{API}/fileTokens", json=token_answer(provider, **extra))


def add_callback(api, status=200):
    api.add(responses.POST, f"{API}/fileCallback", json={}, status=status)


def stream_bytes(request_body):
    """The bytes of a request body that ``requests`` may have kept as a stream."""
    if hasattr(request_body, "read"):
        return request_body.read()
    return request_body if isinstance(request_body, bytes) else request_body.encode()


def multipart(request):
    """(form fields, {field: (filename, content type, bytes)}) of a multipart request."""
    content = stream_bytes(request.body)
    parsed = Request(
        {
            "REQUEST_METHOD": "POST",
            "CONTENT_TYPE": request.headers["Content-Type"],
            "CONTENT_LENGTH": str(len(content)),
            "wsgi.input": io.BytesIO(content),
        }
    )
    files = {name: (f.filename, f.content_type, f.read()) for name, f in parsed.files.items()}
    return dict(parsed.form), files


# -- data and metadata -------------------------------------------------------------


def md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.mark.parametrize(
    "make_data",
    [
        lambda raw: raw,
        lambda raw: bytearray(raw),
        lambda raw: memoryview(raw),
        lambda raw: io.BytesIO(raw),
    ],
    ids=["bytes", "bytearray", "memoryview", "BytesIO"],
)
def test_data_gives_checksum_and_size(make_data):
    raw = b"hello leancloud" * 1000
    f = File("hello.txt", make_data(raw))
    assert f.metadata == {"owner": "unknown", "_checksum": md5(raw), "size": len(raw)}
    assert f.size == len(raw)
    assert f.owner_id == "unknown"


def test_a_file_object_is_read_from_its_start():
    stream = io.BytesIO(b"0123456789")
    stream.seek(5)
    f = File("digits.bin", stream)
    assert f.size == 10
    assert f.metadata["_checksum"] == md5(b"0123456789")


def test_an_unseekable_stream_is_read_once():
    class Pipe:
        def __init__(self):
            self.chunks = [b"abc"]

        def read(self, *args):
            return self.chunks.pop() if self.chunks else b""

        def seekable(self):
            return False

    f = File("pipe.bin", Pipe())
    assert f.size == 3
    assert f.metadata["_checksum"] == md5(b"abc")


def test_a_text_stream_is_hashed_as_utf8():
    f = File("note.txt", io.StringIO("héllo"))
    assert f.size == len("héllo".encode("utf-8"))
    assert f.metadata["_checksum"] == md5("héllo".encode("utf-8"))


def test_a_path_is_read_from_disk(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8jpeg")
    f = File("photo.jpg", path)
    assert f.size == 6
    assert f.metadata["_checksum"] == md5(b"\xff\xd8jpeg")


def test_a_missing_path_raises():
    with pytest.raises(FileNotFoundError):
        File("x.txt", pathlib.Path("/nonexistent/x.txt"))


@pytest.mark.parametrize("data", ["some text", 42, object()])
def test_other_data_is_refused(data):
    with pytest.raises(TypeError):
        File("x.txt", data)


def test_name_and_mime_type_are_checked():
    with pytest.raises(TypeError):
        File(b"name.txt")
    with pytest.raises(TypeError):
        File("name.txt", b"x", mime_type=3)


def test_mime_type_is_guessed_from_the_name_unless_given():
    assert File("a.png").mime_type == "image/png"
    assert File("a.PNG").extension == "png"
    assert File("a.png", mime_type="image/x-custom").mime_type == "image/x-custom"
    assert File("no-extension").mime_type is None


def test_set_mime_type_is_a_settable_property():
    f = File("a.bin")
    f.set_mime_type = "application/x-thing"
    assert f.mime_type == "application/x-thing"
    assert f.set_mime_type == "application/x-thing"


def test_owner_is_the_current_user():
    token = context.current_user.set(SimpleNamespace(id="u1", session_token=None))
    try:
        assert File("a.txt", b"x").owner_id == "u1"
    finally:
        context.current_user.reset(token)


def test_a_file_without_data_has_no_size():
    f = File("empty")
    assert f.size is None
    assert f.url is None and f.id is None


def test_set_acl_takes_only_an_acl():
    f = File("a.txt")
    with pytest.raises(TypeError):
        f.set_acl({"*": {"read": True}})
    acl = ACL()
    f.set_acl(acl)
    assert f.get_acl() is acl


# -- upload: s3 --------------------------------------------------------------------


def test_s3_upload_sends_the_bytes_intact(api):
    raw = os.urandom(5 * 1024 * 1024 + 123)
    received = {}

    def s3(request):
        received["body"] = stream_bytes(request.body)
        received["content_type"] = request.headers["Content-Type"]
        return 200, {}, ""

    add_token(api, mime_type="application/octet-stream")
    api.add_callback(responses.PUT, S3_URL, callback=s3)
    add_callback(api)

    f = File("big.zzz", raw)
    f.save()

    token_body = body(api.calls[0])
    assert token_body == {
        "name": "big.zzz",
        "ACL": None,
        "mime_type": None,
        "metaData": {"owner": "unknown", "_checksum": md5(raw), "size": len(raw)},
    }
    assert received["body"] == raw
    assert received["content_type"] == "application/octet-stream"
    assert body(api.calls[2]) == {"token": "tok", "result": True}
    assert [c.request.url for c in api.calls] == [
        f"{API}/fileTokens",
        S3_URL,
        f"{API}/fileCallback",
    ]
    assert f.id == "f1"
    assert f.url == FILE_URL
    assert f.key == "abc.txt"
    assert f.mime_type == "application/octet-stream"
    assert f.created_at == f.updated_at == codec.parse_date(CREATED)


def test_s3_upload_streams_a_path(api, tmp_path):
    raw = os.urandom(300_000)
    path = tmp_path / "data.bin"
    path.write_bytes(raw)
    received = []
    add_token(api)
    api.add_callback(
        responses.PUT,
        S3_URL,
        callback=lambda r: (received.append(stream_bytes(r.body)), (200, {}, ""))[1],
    )
    add_callback(api)
    File("data.bin", path).save()
    assert received == [raw]
    # S3 refuses chunked uploads: the length must be known up front.
    headers = api.calls[1].request.headers
    assert headers["Content-Length"] == str(len(raw)) and "Transfer-Encoding" not in headers


@pytest.mark.parametrize("size, read_timeout", [(10, 12), (3_750_000 * 5 // 2, 30)])
def test_upload_time_allowed_grows_with_the_size(api, size, read_timeout):
    """``timeout`` seconds per 3.75 MB, never less than ``timeout`` for a small file."""
    add_token(api)
    api.add(responses.PUT, S3_URL)
    add_callback(api)
    f = File("big.bin", bytes(size))
    f.timeout = 12
    f.save()
    connect, read = api.calls[1].request.req_kwargs["timeout"]
    assert connect == leancloud.client.TIMEOUT_SECONDS
    assert read == pytest.approx(read_timeout)


@pytest.mark.parametrize("answered, sent", [("image/webp", "image/webp"), (None, "text/plain")])
def test_the_upload_is_typed_as_the_server_answered_else_as_guessed(api, answered, sent):
    """The server may correct the type (it decides what the stored file is served as)."""
    answer = token_answer(mime_type=answered)
    if answered is None:
        del answer["mime_type"]
    api.add(responses.POST, f"{API}/fileTokens", json=answer)
    api.add(responses.PUT, S3_URL)
    add_callback(api)
    f = File("a.txt", b"x")
    f.save()
    assert api.calls[1].request.headers["Content-Type"] == sent
    assert f.mime_type == sent


def test_token_request_carries_acl_and_custom_key(api):
    add_token(api)
    api.add(responses.PUT, S3_URL)
    add_callback(api)
    acl = ACL()
    acl.set_public_read_access(True)
    f = File("a.txt", b"x")
    f.set_acl(acl)
    f.key = "custom/a.txt"
    f.save()
    sent = body(api.calls[0])
    assert sent["ACL"] == {"*": {"read": True}}
    assert sent["key"] == "custom/a.txt"
    assert sent["mime_type"] == "text/plain"


def test_s3_failure_reports_false_and_raises(api):
    add_token(api)
    api.add(responses.PUT, S3_URL, status=403)
    add_callback(api)
    f = File("a.txt", b"x")
    with pytest.raises(LeanCloudError) as info:
        f.save()
    assert info.value.code == 1
    assert body(api.calls[2]) == {"token": "tok", "result": False}
    assert f.id is None and f.url is None


def test_unreachable_provider_reports_false_and_raises(api):
    add_token(api)
    api.add(responses.PUT, S3_URL, body=requests.ConnectionError("refused"))
    add_callback(api)
    with pytest.raises(LeanCloudError) as info:
        File("a.txt", b"x").save()
    assert info.value.code == 100
    assert body(api.calls[2]) == {"token": "tok", "result": False}


def test_unknown_provider_reports_false_and_raises(api):
    add_token(api, provider="dropbox")
    add_callback(api)
    with pytest.raises(LeanCloudError, match="provider"):
        File("a.txt", b"x").save()
    assert body(api.calls[1]) == {"token": "tok", "result": False}


@pytest.mark.parametrize(
    "provider, missing", [("s3", "upload_url"), ("qcloud", "upload_url"), ("qiniu", "token")]
)
def test_an_answer_missing_what_the_provider_needs_reports_false(api, provider, missing):
    """Nothing is sent to a provider the answer does not fully describe."""
    answer = token_answer(provider)
    answer.pop(missing, None)
    api.add(responses.POST, f"{API}/fileTokens", json=answer)
    if missing != "token":
        add_callback(api)  # without a token there is nothing to report to
    f = File("a.txt", b"x")
    with pytest.raises(LeanCloudError, match=missing):
        f.save()
    assert [c.request.url for c in api.calls][1:] == (
        [] if missing == "token" else [f"{API}/fileCallback"]
    )
    assert f.id is None and f.url is None


def test_token_errors_raise_before_any_upload(api):
    api.add(responses.POST, f"{API}/fileTokens", json={"code": 1, "error": "no"}, status=400)
    with pytest.raises(LeanCloudError):
        File("a.txt", b"x").save()
    assert len(api.calls) == 1


def test_a_failed_callback_after_a_good_upload_is_only_logged(api, caplog):
    add_token(api)
    api.add(responses.PUT, S3_URL)
    api.add(responses.POST, f"{API}/fileCallback", json={"code": 1, "error": "x"}, status=500)
    f = File("a.txt", b"x")
    with caplog.at_level(logging.WARNING, logger="leancloud.file_"):
        f.save()
    assert f.id == "f1"
    assert "file callback failed" in caplog.text


def test_data_gone_before_the_upload_reports_false(api, tmp_path):
    path = tmp_path / "gone.txt"
    path.write_bytes(b"x")
    f = File("gone.txt", path)
    path.unlink()
    add_token(api)
    add_callback(api)
    with pytest.raises(FileNotFoundError):
        f.save()
    assert body(api.calls[1]) == {"token": "tok", "result": False}


def test_saving_a_file_without_data_sends_nothing(api):
    File("nothing.txt").save()
    assert len(api.calls) == 0


# -- upload: qiniu and qcloud ------------------------------------------------------


def test_qiniu_form_upload_to_the_default_host(api):
    seen = {}

    def qiniu(request):
        seen["fields"], seen["files"] = multipart(request)
        return 200, {}, json.dumps({"key": "abc.txt"})

    add_token(api, provider="qiniu")
    api.add_callback(responses.POST, QINIU_UPLOAD_URL, callback=qiniu)
    add_callback(api)
    File("a.txt", b"qiniu bytes").save()
    assert QINIU_UPLOAD_URL == "https://upload.qiniup.com"
    assert seen["fields"] == {"token": "tok", "key": "abc.txt"}
    assert seen["files"] == {"file": ("a.txt", "text/plain", b"qiniu bytes")}
    assert body(api.calls[2]) == {"token": "tok", "result": True}


def test_qiniu_uses_the_servers_upload_url(api):
    add_token(api, provider="qiniu", upload_url="https://up-z2.qiniup.test")
    api.add(responses.POST, "https://up-z2.qiniup.test", json={})
    add_callback(api)
    File("a.txt", b"x").save()
    assert api.calls[1].request.url == "https://up-z2.qiniup.test/"


def test_qiniu_failure_reports_false(api):
    add_token(api, provider="qiniu")
    api.add(responses.POST, QINIU_UPLOAD_URL, json={"error": "bad token"}, status=401)
    add_callback(api)
    with pytest.raises(LeanCloudError):
        File("a.txt", b"x").save()
    assert body(api.calls[2]) == {"token": "tok", "result": False}


def test_qcloud_upload(api):
    seen = {}

    def qcloud(request):
        seen["auth"] = request.headers["Authorization"]
        seen["fields"], seen["files"] = multipart(request)
        return 200, {}, json.dumps({"code": 0})

    add_token(api, provider="qcloud")
    api.add_callback(responses.POST, QCLOUD_URL, callback=qcloud)
    add_callback(api)
    File("a.txt", b"cos bytes").save()
    assert seen["auth"] == "tok"
    assert seen["fields"] == {"op": "upload"}
    assert seen["files"]["filecontent"][2] == b"cos bytes"
    assert body(api.calls[2]) == {"token": "tok", "result": True}


@pytest.mark.parametrize("answer", [{"code": -133}, "not json"])
def test_qcloud_failure_reports_false(api, answer):
    add_token(api, provider="qcloud")
    api.add(
        responses.POST,
        QCLOUD_URL,
        body=json.dumps(answer) if isinstance(answer, dict) else answer,
    )
    add_callback(api)
    with pytest.raises(LeanCloudError):
        File("a.txt", b"x").save()
    assert body(api.calls[2]) == {"token": "tok", "result": False}


# -- external files, fetch, destroy --------------------------------------------------


def test_create_with_url(api):
    answer = {"objectId": "e1", "createdAt": CREATED, "url": "https://elsewhere.test/x"}
    api.add(responses.POST, f"{API}/files", json=answer)
    f = File.create_with_url("logo.png", "https://cdn.test/logo.png", meta_data={"width": 10})
    f.save()
    assert body(api.calls[0]) == {
        "name": "logo.png",
        "ACL": None,
        "mime_type": "image/png",
        "metaData": {"owner": "unknown", "width": 10, "__source": "external"},
        "url": "https://cdn.test/logo.png",
    }
    assert f.id == "e1"
    assert f.url == "https://cdn.test/logo.png"  # the external URL, whatever the answer says
    assert f.created_at == f.updated_at == codec.parse_date(CREATED)


def test_create_with_url_checks_arguments():
    with pytest.raises(ValueError):
        File.create_with_url("a.png", None)
    with pytest.raises(TypeError):
        File.create_with_url("a.png", "https://x.test/a.png", meta_data=["w"])


def test_fetch(api):
    api.add(
        responses.GET,
        f"{API}/files/f9",
        json={
            "objectId": "f9",
            "name": "a.txt",
            "url": FILE_URL,
            "mime_type": "text/plain",
            "metaData": {"size": 3, "owner": "u1"},
            "ACL": {"u1": {"read": True, "write": True}},
            "createdAt": CREATED,
            "updatedAt": "2024-02-01T00:00:00.000Z",
        },
    )
    f = File.create_without_data("f9")
    assert f.fetch() is f
    assert (f.name, f.url, f.size, f.owner_id) == ("a.txt", FILE_URL, 3, "u1")
    assert f.mime_type == "text/plain"
    assert f.get_acl().dump() == {"u1": {"read": True, "write": True}}
    assert f.updated_at == codec.parse_date("2024-02-01T00:00:00.000Z")


def test_fetch_needs_an_id(api):
    with pytest.raises(ValueError):
        File("a.txt").fetch()


def test_destroy(api):
    api.add(responses.DELETE, f"{API}/files/f9", json={})
    assert File.create_without_data("f9").destroy() is None
    assert api.calls[0].request.body == b"null"


def test_a_refused_destroy_raises_the_servers_error(api):
    api.add(
        responses.DELETE,
        f"{API}/files/f9",
        json={"code": 403, "error": "Forbidden to delete by class permissions."},
        status=403,
    )
    with pytest.raises(LeanCloudError) as error:
        File.create_without_data("f9").destroy()
    assert error.value.code == 403


def test_destroy_unsaved_sends_nothing(api):
    assert File("a.txt").destroy() is False


# -- thumbnails ----------------------------------------------------------------------


def saved_file(url=FILE_URL):
    f = File("a.png")
    f._update_data({"objectId": "f1", "url": url})
    return f


def test_thumbnail_url():
    f = saved_file()
    assert f.get_thumbnail_url(100, 50) == f"{FILE_URL}?imageView/2/w/100/h/50/q/100/format/png"
    assert (
        f.get_thumbnail_url(10, 20, quality=80, scale_to_fit=False, fmt="jpg")
        == f"{FILE_URL}?imageView/1/w/10/h/20/q/80/format/jpg"
    )


@pytest.mark.parametrize(
    "args, error",
    [
        ((-1, 10), ValueError),
        ((10, -1), ValueError),
        ((10, 10, 0), ValueError),
        ((10, 10, 101), ValueError),
        (("10", 10), TypeError),
    ],
)
def test_thumbnail_url_validation(args, error):
    with pytest.raises(error):
        saved_file().get_thumbnail_url(*args)


def test_thumbnail_url_needs_a_url():
    with pytest.raises(ValueError):
        File("a.png").get_thumbnail_url(10, 10)


# -- wire forms and objects ------------------------------------------------------------


def test_decoding_an_expanded_file():
    value = codec.decode(
        {
            "__type": "File",
            "objectId": "f1",
            "name": "a.txt",
            "url": FILE_URL,
            "key": "k",
            "mime_type": "text/plain",
            "metaData": {"size": 1},
            "createdAt": CREATED,
        }
    )
    assert isinstance(value, File)
    assert (value.id, value.name, value.url, value.key, value.size) == (
        "f1",
        "a.txt",
        FILE_URL,
        "k",
        1,
    )


def test_decoding_an_unexpanded_file():
    value = codec.decode({"__type": "File", "id": "f1"})
    assert isinstance(value, File) and value.id == "f1" and value.url is None


def test_encoding():
    assert codec.encode(saved_file()) == {
        "__type": "File",
        "id": "f1",
        "name": "a.png",
        "url": FILE_URL,
    }
    with pytest.raises(ValueError):
        codec.encode(File("unsaved.txt"))


def test_a_file_in_a_field_is_uploaded_before_its_object(api):
    add_token(api)
    api.add(responses.PUT, S3_URL)
    add_callback(api)
    api.add(
        responses.POST, f"{API}/classes/FilePost", json={"objectId": "p1", "createdAt": CREATED}
    )
    post = Object.extend("FilePost")(attachment=File("a.txt", b"x"))
    post.save()
    assert [c.request.url.split("?")[0] for c in api.calls] == [
        f"{API}/fileTokens",
        S3_URL,
        f"{API}/fileCallback",
        f"{API}/classes/FilePost",
    ]
    assert body(api.calls[3]) == {
        "attachment": {"__type": "File", "id": "f1", "name": "a.txt", "url": FILE_URL}
    }


def test_a_saved_file_is_not_uploaded_again(api):
    api.add(
        responses.POST, f"{API}/classes/FilePost", json={"objectId": "p1", "createdAt": CREATED}
    )
    Object.extend("FilePost")(attachment=saved_file()).save()
    assert len(api.calls) == 1


def test_file_query_builds_files(api):
    row = {"objectId": "f1", "name": "a.txt", "url": FILE_URL, "createdAt": CREATED}
    api.add(responses.GET, f"{API}/classes/_File", json={"results": [row]})
    api.add(responses.GET, f"{API}/classes/_File/f1", json=row)
    found = File.query.equal_to("name", "a.txt").find()
    assert [type(f) for f in found] == [File]
    assert found[0].url == FILE_URL
    got = Query("File").get("f1")
    assert isinstance(got, File) and got.name == "a.txt"


def test_a_file_pointer_in_an_object_decodes_to_a_file():
    obj = Object.extend("FilePost")()
    obj._update_data(
        {
            "attachment": {
                "__type": "Pointer",
                "className": "_File",
                "objectId": "f1",
                "url": FILE_URL,
            }
        }
    )
    assert isinstance(obj.get("attachment"), File)
    assert obj.get("attachment").url == FILE_URL


def test_file_is_exported():
    assert leancloud.File is File


# -- against the live server -----------------------------------------------------------


def test_live_external_file_round_trip(leancloud_server):
    f = File.create_with_url("live.txt", "https://cdn.test/live.txt", meta_data={"size": 4})
    f.save()
    fetched = File.create_without_data(f.id).fetch()
    assert (fetched.name, fetched.url, fetched.size) == ("live.txt", "https://cdn.test/live.txt", 4)
    assert fetched.metadata["__source"] == "external"
    fetched.destroy()
    assert File.query.equal_to("objectId", f.id).find() == []


def test_live_file_values_and_queries(leancloud_server):
    # A _File record written directly through /classes/_File, then used through the
    # SDK: queried as Files, pointed at from an object, read back expanded.
    record = leancloud.client.post(
        "/classes/_File",
        {"name": "live-value.txt", "url": "https://cdn.test/v.txt", "mime_type": "text/plain"},
    ).json()
    found = File.query.equal_to("name", "live-value.txt").find()
    assert [(type(f), f.id, f.url) for f in found] == [
        (File, record["objectId"], "https://cdn.test/v.txt")
    ]

    post = Object.extend("LiveFilePost")(attachment=File.create_without_data(record["objectId"]))
    post.save()
    attachment = Object.extend("LiveFilePost").query.get(post.id).get("attachment")
    assert isinstance(attachment, File)
    assert (attachment.id, attachment.name, attachment.url) == (
        record["objectId"],
        "live-value.txt",
        "https://cdn.test/v.txt",
    )


def test_live_upload_from_a_stream_keeps_acl_type_and_metadata(leancloud_server, monkeypatch):
    """What ``File`` sends with the bytes comes back from the server on a fresh fetch."""
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))
    owner = User()
    owner.sign_up(f"file-owner-{os.urandom(4).hex()}", "s3cret")
    raw = os.urandom(70_000)
    acl = ACL()
    acl.set_public_read_access(True)
    acl.set_write_access(owner.id, True)
    f = File("notes.md", io.BufferedReader(io.BytesIO(raw)))
    f.set_acl(acl)
    f.save()

    fetched = File.create_without_data(f.id).fetch()
    assert fetched.get_acl() is None  # the server sends ACLs only when asked
    queried = File.query.include_acl(True).equal_to("objectId", f.id).first()
    assert queried.get_acl().dump() == acl.dump()
    assert fetched.mime_type == f.mime_type == "text/markdown"
    assert fetched.owner_id == owner.id
    assert fetched.metadata["_checksum"] == hashlib.md5(raw).hexdigest()
    assert fetched.size == len(raw)
    assert requests.get(fetched.url, timeout=10).content == raw
    leancloud.use_master_key(False)
    User.set_current(None)
    with pytest.raises(LeanCloudError) as error:
        fetched.destroy()  # the ACL lets only the owner write
    assert error.value.code == 403


@pytest.mark.parametrize("hostile", ["../classes/_User/u1", "a/b", "x?y=1"])
def test_ids_stay_inside_their_path_segment(api, hostile):
    from urllib.parse import quote

    from leancloud import push

    encoded = quote(hostile, safe="")
    api.get(f"{API}/files/{encoded}", json={"objectId": hostile, "name": "a", "url": "u"})
    api.delete(f"{API}/files/{encoded}", json={})
    api.get(f"{API}/tables/Notifications/{encoded}", json={"objectId": hostile})
    File.create_without_data(hostile).fetch()
    File.create_without_data(hostile).destroy()
    push.Notification.create_without_data(hostile).fetch()
    assert [call.request.path_url for call in api.calls] == [
        f"/1.1/files/{encoded}",
        f"/1.1/files/{encoded}",
        f"/1.1/tables/Notifications/{encoded}",
    ]
