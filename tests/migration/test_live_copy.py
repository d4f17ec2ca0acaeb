"""Copying between two running servers: ``--from`` (scan/schemas/$relatedTo, or our raw
export extension) into ``--server`` (our ``/1.1/import`` extension) or a data dir."""

from __future__ import annotations

import json

import pytest
import requests

from leancloud.errors import LeanCloudError
from leancloud.migration import ImportOptions, run_import
from leancloud.migration.remote import Endpoint
from leancloud.migration.sources import ApiSource, open_source
from leancloud.migration.targets import LocalTarget, RemoteTarget
from leancloud.server import passwords
from leancloud.testing import start_server
from tests.migration import samples


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))


def endpoint(server):
    return Endpoint(server.url, server.app_id, server.master_key)


@pytest.fixture(scope="module")
def old(tmp_path_factory):
    """The app being left, filled from the sample export; the tests only read it."""
    tmp_path = tmp_path_factory.mktemp("old")
    data = tmp_path / "data"
    source = open_source(samples.write_export(str(tmp_path / "export")), str(tmp_path / "s"))
    target = LocalTarget(str(data), "http://old.test")
    assert run_import(source, target, str(data)).failed == 0
    target.close()
    server = start_server(str(data))
    _fix_old_file_url(server)
    yield server
    server.stop()


@pytest.fixture
def new(tmp_path):
    server = start_server(str(tmp_path / "new"))
    yield server
    server.stop()


def _fix_old_file_url(old):
    """The old server's _File row must point at where it really serves the content."""
    base = {"X-LC-Id": old.app_id, "X-LC-Key": old.master_key + ",master"}
    url = f"{old.url}/files/gamma/avatar.png"
    response = requests.put(
        f"{old.url}/1.1/classes/_File/{samples.FILE_ID}", json={"url": url}, headers=base
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("raw", [True, False], ids=["export-extension", "standard-api"])
def test_copy_from_one_running_server_to_another(old, new, tmp_path, raw):
    source = ApiSource(endpoint(old), raw=raw)
    report = run_import(source, RemoteTarget(endpoint(new)), str(tmp_path / "ckpt"))
    assert report.failed == 0, report.format()
    assert report.classes["Post"].inserted == 5
    assert report.classes["Post.fans"].inserted == 2
    assert report.classes["_Role.users"].inserted == 1

    headers = {"X-LC-Id": new.app_id, "X-LC-Key": new.app_key}
    master = {"X-LC-Id": new.app_id, "X-LC-Key": new.master_key + ",master"}
    old_master = {"X-LC-Id": old.app_id, "X-LC-Key": old.master_key + ",master"}
    for class_name in ("Post", "_Installation", "_Role"):
        params = {"returnACL": "true", "order": "objectId"}
        before = requests.get(
            f"{old.url}/1.1/classes/{class_name}", params=params, headers=old_master
        ).json()
        after = requests.get(
            f"{new.url}/1.1/classes/{class_name}", params=params, headers=master
        ).json()
        for row in before["results"] + after["results"]:
            row.pop("cover", None)  # its url moves to the new server, checked below
            if not raw:  # our /1.1/scan ignores returnACL (LeanCloud's honours it)
                row.pop("ACL", None)
        assert after == before, class_name
    post = requests.get(
        f"{new.url}/1.1/classes/Post/post00000000000000000001", headers=headers
    ).json()
    assert post["cover"]["url"] == f"{new.url}/files/gamma/avatar.png"
    assert requests.get(post["cover"]["url"]).content == samples.FILE_BYTES
    where = {
        "$relatedTo": {"object": samples.pointer("Post", "post00000000000000000001"), "key": "fans"}
    }
    fans = requests.get(
        f"{new.url}/1.1/classes/_User", params={"where": json.dumps(where)}, headers=headers
    ).json()
    assert sorted(u["objectId"] for u in fans["results"]) == sorted([samples.USER_ID, "user2"])
    login = requests.post(
        f"{new.url}/1.1/login",
        json={"username": "alice", "password": samples.PASSWORD},
        headers=headers,
    )
    if raw:  # our extension carries password hashes; LeanCloud's scan never returns them
        assert login.status_code == 200, login.text
    else:
        assert login.status_code != 200
    again = run_import(
        ApiSource(endpoint(old), raw=raw), RemoteTarget(endpoint(new)), str(tmp_path / "ckpt")
    )
    assert sum(c.inserted + c.updated for c in again.classes.values()) == 0, again.format()


def test_copy_from_a_server_into_a_data_dir_keeps_everything(old, tmp_path):
    data = tmp_path / "copy"
    target = LocalTarget(str(data), "http://copy.test")
    report = run_import(ApiSource(endpoint(old)), target, str(data))
    target.close()
    assert report.failed == 0, report.format()
    before, after = samples.snapshot(old.data_dir), samples.snapshot(str(data))
    assert after["_File"][0].data.pop("url") == "http://copy.test/files/gamma/avatar.png"
    before["_File"][0].data.pop("url")
    assert after == before
    assert samples.blob(str(data), "gamma/avatar.png") == samples.FILE_BYTES


def test_import_route_needs_the_master_key(new):
    response = requests.post(
        f"{new.url}/1.1/import",
        json={"className": "Post", "objects": []},
        headers={"X-LC-Id": new.app_id, "X-LC-Key": new.app_key},
    )
    assert response.status_code == 401
    for path in (
        "/1.1/export/classes/Post",
        "/1.1/export/relations/Post/fans",
        "/1.1/import/files?key=a",
    ):
        assert (
            requests.get(
                new.url + path, headers={"X-LC-Id": new.app_id, "X-LC-Key": new.app_key}
            ).status_code
            == 401
        )


def test_import_route_rejects_bad_batches_and_reports_bad_rows(new):
    target = endpoint(new)
    with pytest.raises(LeanCloudError) as exc:
        target.call("POST", "/import", body={"className": "Post"})
    assert exc.value.code == 107
    with pytest.raises(LeanCloudError):
        target.call("POST", "/import", body={"className": "bad-name", "objects": []})
    with pytest.raises(LeanCloudError):
        target.call("PUT", "/import/files", params={"key": "../x"})
    result = target.call(
        "POST",
        "/import",
        body={"className": "Post", "objects": [{"objectId": "a", "n": 1}, "nope"], "dryRun": True},
    )
    assert result["inserted"] == 1 and result["failed"] == [[1, "a row must be a JSON object"]]
    with pytest.raises(LeanCloudError) as exc:
        target.call("POST", "/import", body={"schema": ["Post"]})
    assert exc.value.code == 107
    bad_schema = {"Post": "fields", "Thing": {"n": {"type": "Banana"}}}
    result = target.call("POST", "/import", body={"schema": bad_schema, "dryRun": True})
    assert result["failed"] == [
        [0, "Post: the fields must be a JSON object"],
        [1, "Thing: field 'n': unknown type 'Banana'"],
    ]
    mixed = [
        {"owningId": "a", "relatedId": "u", "relatedClassName": "_User"},
        {"owningId": "a", "relatedId": "v", "relatedClassName": "no such class"},
    ]
    result = target.call(
        "POST",
        "/import",
        body={"className": "Post", "field": "fans", "relations": mixed, "dryRun": True},
    )
    assert result["inserted"] == 1 and [index for index, _ in result["failed"]] == [1]
    assert requests.get(
        f"{new.url}/1.1/classes/Post", headers={"X-LC-Id": new.app_id, "X-LC-Key": new.app_key}
    ).json() == {"results": []}


def test_a_server_that_is_not_ours_falls_back_to_the_standard_api(new, monkeypatch):
    calls = []
    real = Endpoint.call

    def without_extension(self, method, path, params=None, body=None):
        calls.append(path)
        if path.startswith("/export/"):
            raise LeanCloudError(404, "Not Found.")
        return real(self, method, path, params, body)

    monkeypatch.setattr(Endpoint, "call", without_extension)
    source = ApiSource(endpoint(new))
    assert source.raw is False
    list(source.units())
    assert calls.count("/export/classes/_User") == 1


def test_a_failing_server_is_not_taken_for_one_without_the_extension(new, monkeypatch):
    real = Endpoint.call

    def unavailable(self, method, path, params=None, body=None):
        raise LeanCloudError(503, "Service Unavailable")

    monkeypatch.setattr(Endpoint, "call", unavailable)
    source = ApiSource(endpoint(new))
    with pytest.raises(LeanCloudError):
        source.raw  # noqa: B018 - the probe itself
    monkeypatch.setattr(Endpoint, "call", real)
    assert source.raw is True  # asked again once the server answers


def test_a_wrong_master_key_stops_the_import_instead_of_failing_every_row(new, tmp_path, capsys):
    from leancloud.__main__ import main

    export = samples.write_export(str(tmp_path / "export"))
    flags = ["--server", new.url, "--app-id", new.app_id, "--master-key", "wrong"]
    assert main(["import", export, "--data", str(tmp_path / "ckpt"), *flags]) == 1
    assert "stopped" in capsys.readouterr().err


def test_an_interrupted_live_copy_resumes_from_the_scan_cursor(old, new, tmp_path, monkeypatch):
    real = RemoteTarget.write_objects
    calls = []

    def crash_on_the_second_post_batch(self, class_name, rows, dry_run):
        if class_name == "Post":
            calls.append(len(rows))
            if len(calls) == 2:
                raise ConnectionError("the network went away")
        return real(self, class_name, rows, dry_run)

    monkeypatch.setattr(RemoteTarget, "write_objects", crash_on_the_second_post_batch)
    ckpt = str(tmp_path / "ckpt")
    options = ImportOptions(batch_size=2)
    with pytest.raises(ConnectionError):
        run_import(ApiSource(endpoint(old)), RemoteTarget(endpoint(new)), ckpt, options)
    monkeypatch.setattr(RemoteTarget, "write_objects", real)
    report = run_import(ApiSource(endpoint(old)), RemoteTarget(endpoint(new)), ckpt, options)
    assert report.classes["Post"].read == 3  # 2 of 5 were committed before the crash
    assert (report.classes["Post"].inserted, report.classes["Post"].skipped) == (3, 0)
    ids = requests.get(
        f"{new.url}/1.1/classes/Post",
        params={"keys": "objectId"},
        headers={"X-LC-Id": new.app_id, "X-LC-Key": new.master_key + ",master"},
    ).json()["results"]
    assert len(ids) == 5


def test_a_dry_run_into_a_server_writes_nothing(old, new, tmp_path):
    options = ImportOptions(dry_run=True)
    report = run_import(
        ApiSource(endpoint(old)), RemoteTarget(endpoint(new)), str(tmp_path), options
    )
    assert report.classes["Post"].inserted == 5 and report.classes["Post.fans"].inserted == 2
    assert report.failed == 0 and report.warnings == []
    master = {"X-LC-Id": new.app_id, "X-LC-Key": new.master_key + ",master"}
    assert requests.get(f"{new.url}/1.1/schemas/Post", headers=master).status_code == 404
    assert requests.get(f"{new.url}/files/gamma/avatar.png").status_code == 404


def test_cli_copies_from_a_live_server_into_a_data_dir(old, tmp_path, capsys):
    from leancloud.__main__ import main

    data = str(tmp_path / "data")
    flags = ["--from", old.url, "--from-app-id", old.app_id, "--from-master-key", old.master_key]
    assert main(["import", *flags, "--data", data, "--public-url", "http://x.test"]) == 0
    out = capsys.readouterr().out
    assert "Import summary" in out and "Post.fans" in out
    assert len(samples.snapshot(data)["Post"]) == 5
    assert main(["import", "somewhere", *flags, "--data", data]) == 1
    assert "either SOURCE or --from" in capsys.readouterr().err


def test_export_warns_about_file_contents_it_cannot_get(old, tmp_path, monkeypatch):
    from leancloud.migration import run_export

    source = ApiSource(endpoint(old), raw=False)  # like LeanCloud: no content by key
    monkeypatch.setattr(source, "file_content", lambda row: None)
    report = run_export(source, str(tmp_path / "out"), None)
    assert report.warnings == []  # the url reaches the old server
    monkeypatch.setattr("leancloud.migration.exporter.download", _refuse)
    report = run_export(source, str(tmp_path / "out2"), None)
    assert len(report.warnings) == 1 and samples.FILE_ID in report.warnings[0]
    assert not (tmp_path / "out2" / "files").exists()


def _refuse(url):
    raise ConnectionError(f"cannot reach {url}")


def test_a_class_the_source_refuses_to_scan_does_not_stop_the_others(
    old, new, tmp_path, monkeypatch
):
    real = Endpoint.call

    def refuse_installations(self, method, path, params=None, body=None):
        if path.endswith("/_Installation"):
            raise LeanCloudError(119, "This class cannot be scanned.")
        return real(self, method, path, params, body)

    monkeypatch.setattr(Endpoint, "call", refuse_installations)
    ckpt = str(tmp_path / "ckpt")
    report = run_import(ApiSource(endpoint(old)), RemoteTarget(endpoint(new)), ckpt)
    assert report.classes["Post"].inserted == 5
    assert any(e.startswith("_Installation: reading stopped") for e in report.errors)
    monkeypatch.setattr(Endpoint, "call", real)
    again = run_import(ApiSource(endpoint(old)), RemoteTarget(endpoint(new)), ckpt)
    assert list(again.classes) == ["_Installation"]  # only what was left is retried
    assert again.classes["_Installation"].inserted == 1


def test_a_scan_cursor_refused_on_resume_walks_the_class_again(old, new, tmp_path, monkeypatch):
    """LeanCloud's scan cursors expire after ten minutes; a resumed run must not be stuck."""
    monkeypatch.setattr("leancloud.migration.sources._SCAN_LIMIT", 2)
    real = RemoteTarget.write_objects
    batches = []

    def crash_on_the_third_post_batch(self, class_name, rows, dry_run):
        if class_name == "Post":
            batches.append(rows)
            if len(batches) == 3:
                raise ConnectionError("the network went away")
        return real(self, class_name, rows, dry_run)

    monkeypatch.setattr(RemoteTarget, "write_objects", crash_on_the_third_post_batch)
    ckpt = tmp_path / "ckpt"
    options = ImportOptions(batch_size=2)
    with pytest.raises(ConnectionError):
        run_import(
            ApiSource(endpoint(old), raw=False), RemoteTarget(endpoint(new)), str(ckpt), options
        )
    monkeypatch.setattr(RemoteTarget, "write_objects", real)
    (name,) = (ckpt / "migration").iterdir()
    state = json.loads(name.read_text())
    assert state["Post"]["position"][0]  # the saved cursor, which then expires:
    state["Post"]["position"][0] = "expired-cursor"
    name.write_text(json.dumps(state))
    report = run_import(
        ApiSource(endpoint(old), raw=False), RemoteTarget(endpoint(new)), str(ckpt), options
    )
    assert report.failed == 0, report.format()
    assert (report.classes["Post"].inserted, report.classes["Post"].skipped) == (1, 4)


def test_a_batch_larger_than_the_server_accepts_is_sent_in_halves(tmp_path):
    server = start_server(str(tmp_path / "small"), max_body_bytes=4000)
    try:
        rows = [{"objectId": f"r{i}", "text": "x" * 900} for i in range(8)]
        rows[5] = "not an object"
        rows[6] = {"objectId": "huge", "text": "x" * 5000}  # too big even alone
        result = RemoteTarget(endpoint(server)).write_objects("Thing", rows, False)
        assert result.inserted == 6
        assert [index for index, _ in result.failed] == [5, 6]
        assert "larger than the server accepts" in result.failed[1][1]
    finally:
        server.stop()


def test_a_file_the_server_refuses_is_a_warning_and_the_rest_is_imported(tmp_path):
    export = tmp_path / "export"
    (export / "files").mkdir(parents=True)
    rows = [
        {"objectId": f"f{i}", "name": f"{i}.bin", "key": f"k/{i}.bin", "url": "http://x.invalid/"}
        for i in range(2)
    ]
    (export / "_File.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (export / "files" / "f0").write_bytes(b"small")
    (export / "files" / "f1").write_bytes(b"x" * 5000)  # over the server's limit
    server = start_server(str(tmp_path / "small"), max_body_bytes=4000)
    try:
        source = open_source(str(export), str(tmp_path / "s"))
        report = run_import(source, RemoteTarget(endpoint(server)), str(tmp_path / "ckpt"))
        assert report.classes["_File"].inserted == 2 and report.failed == 0, report.format()
        assert len(report.warnings) == 1 and "k/1.bin" in report.warnings[0]
        assert requests.get(f"{server.url}/files/k/0.bin").content == b"small"
    finally:
        server.stop()
