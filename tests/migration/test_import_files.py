"""``leancloud import`` from export files into a data directory, then used by a real server."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile

import pytest
import requests

from leancloud.migration import ImportOptions, run_import
from leancloud.migration.sources import open_source
from leancloud.migration.targets import LocalTarget
from leancloud.server import passwords
from leancloud.testing import start_server
from tests.migration import samples


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", passwords.ScryptCost(n=16, r=1, p=1))


def do_import(source_path, data_dir, scratch, **options):
    source = open_source(str(source_path), str(scratch))
    target = LocalTarget(str(data_dir), "http://files.test")
    try:
        return run_import(source, target, str(data_dir), ImportOptions(**options))
    finally:
        source.close()
        target.close()


@pytest.fixture
def export_dir(tmp_path):
    return samples.write_export(str(tmp_path / "export"))


def headers(server, session=None):
    result = {
        "X-LC-Id": server.app_id,
        "X-LC-Key": server.app_key,
        "Content-Type": "application/json",
    }
    if session:
        result["X-LC-Session"] = session
    return result


def test_every_type_survives_and_the_server_serves_it(export_dir, tmp_path):
    data = tmp_path / "data"
    report = do_import(export_dir, data, tmp_path / "scratch")
    assert report.failed == 0, report.format()
    assert report.classes["Post"].inserted == 5
    assert report.classes["Post.fans"].inserted == 2
    server = start_server(str(data))
    try:
        url = server.url + "/1.1"
        # A migrated user logs in with the old password (LeanCloud's hash + salt).
        login = requests.post(
            f"{url}/login",
            json={"username": "alice", "password": samples.PASSWORD},
            headers=headers(server),
        )
        assert login.status_code == 200, login.text
        session = login.json()["sessionToken"]
        assert login.json()["objectId"] == samples.USER_ID
        assert login.json()["createdAt"] == samples.C1
        assert (
            requests.post(
                f"{url}/login",
                json={"username": "alice", "password": "wrong"},
                headers=headers(server),
            ).status_code
            != 200
        )
        # An exported session token keeps its user logged in.
        me = requests.get(f"{url}/users/me", headers=headers(server, samples.SESSION))
        assert me.status_code == 200 and me.json()["objectId"] == "user2"
        # Post 0 is readable only through the role the user is in (role + membership kept).
        anonymous = requests.get(f"{url}/classes/Post", headers=headers(server)).json()["results"]
        assert len(anonymous) == 4
        post = requests.get(
            f"{url}/classes/Post/post00000000000000000000", headers=headers(server, session)
        ).json()
        expected = samples.classes()["Post"][0]
        for field in (
            "title",
            "likes",
            "ratio",
            "draft",
            "tags",
            "meta",
            "author",
            "publishedAt",
            "where",
            "blob",
        ):
            assert post[field] == expected[field], field
        assert (post["createdAt"], post["updatedAt"]) == (samples.C1, samples.U1)
        assert post["fans"] == {"__type": "Relation", "className": "_User"}
        # The file: metadata kept, content re-hosted, URL rewritten to the new server.
        assert post["cover"]["objectId"] == samples.FILE_ID
        assert post["cover"]["url"] == "http://files.test/files/gamma/avatar.png"
        read_form = requests.get(
            f"{url}/classes/Post/post00000000000000000001", headers=headers(server)
        ).json()["cover"]
        assert (read_form["objectId"], read_form["url"]) == (samples.FILE_ID, post["cover"]["url"])
        served = requests.get(f"{server.url}/files/gamma/avatar.png")
        assert served.content == samples.FILE_BYTES
        assert served.headers["Content-Type"].startswith("image/png")
        # Relation memberships.
        where = {
            "$relatedTo": {
                "object": samples.pointer("Post", "post00000000000000000001"),
                "key": "fans",
            }
        }
        fans = requests.get(
            f"{url}/classes/_User", params={"where": json.dumps(where)}, headers=headers(server)
        ).json()["results"]
        assert sorted(u["objectId"] for u in fans) == sorted([samples.USER_ID, "user2"])
        master = {**headers(server), "X-LC-Key": server.master_key + ",master"}
        install = requests.get(f"{url}/classes/_Installation/inst1", headers=master).json()
        assert install["channels"] == ["news"] and install["deviceToken"] == "tok"
        acl = requests.get(
            f"{url}/classes/_User/{samples.USER_ID}", params={"returnACL": "true"}, headers=master
        ).json()
        assert acl["ACL"] == samples.classes()["_User"][0]["ACL"]
    finally:
        server.stop()


def test_a_second_run_changes_nothing(export_dir, tmp_path):
    data = tmp_path / "data"
    do_import(export_dir, data, tmp_path / "s1")
    before = samples.snapshot(str(data))
    report = do_import(export_dir, data, tmp_path / "s2")
    assert samples.snapshot(str(data)) == before
    assert all(c.inserted == c.updated == 0 for c in report.classes.values()), report.format()
    assert report.classes["Post"].skipped == 5 and report.classes["Post.fans"].skipped == 2


def test_a_newer_row_updates_and_an_older_one_does_not(export_dir, tmp_path):
    data = tmp_path / "data"
    do_import(export_dir, data, tmp_path / "s1")
    rows = samples.classes()["Post"]
    rows[0]["updatedAt"], rows[0]["title"] = "2030-01-01T00:00:00.000Z", "newer"
    rows[1]["updatedAt"], rows[1]["title"] = "2001-01-01T00:00:00.000Z", "older"
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "Post.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:2]))
    report = do_import(changed, data, tmp_path / "s2")
    assert (report.classes["Post"].updated, report.classes["Post"].skipped) == (1, 1)
    posts = {o.object_id: o for o in samples.snapshot(str(data))["Post"]}
    assert posts[rows[0]["objectId"]].data["title"] == "newer"
    assert posts[rows[0]["objectId"]].created_at == samples.C1
    assert posts[rows[1]["objectId"]].data["title"] == "post 1"


def test_dry_run_reports_and_writes_nothing(export_dir, tmp_path):
    data = tmp_path / "data"
    report = do_import(export_dir, data, tmp_path / "s", dry_run=True)
    assert report.dry_run and report.classes["Post"].inserted == 5
    assert "Dry run" in report.format()
    state = samples.snapshot(str(data))
    assert report.failed == 0, report.format()
    assert all(state.get(name, []) == [] for name in ("Post", "_User", "_Role", "_File"))
    assert not os.path.exists(data / "migration") or not os.listdir(data / "migration")
    assert not os.path.exists(data / "files" / "gamma")  # no content stored either


def test_malformed_rows_are_reported_with_file_and_line_and_the_rest_imported(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    lines = [
        json.dumps({"objectId": "ok1", "n": 1}),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"objectId": "bad3", "bad-name": 1}),
        json.dumps({"objectId": "bad4", "n": "a string now"}),
        "",
        json.dumps({"objectId": "bad6", "when": {"__type": "Date", "iso": "yesterday"}}),
        json.dumps({"objectId": "ok7", "n": 7}),
        '{"objectId": "bad9", "n": NaN}',
    ]
    (src / "Thing.jsonl").write_text("\n".join(lines) + "\n")
    data = tmp_path / "data"
    report = do_import(src, data, tmp_path / "s")
    counts = report.classes["Thing"]
    assert (counts.read, counts.inserted, counts.failed) == (8, 2, 6)
    located = {error.split(": ")[0] for error in report.errors}
    assert located == {
        "Thing.jsonl:2",
        "Thing.jsonl:3",
        "Thing.jsonl:4",
        "Thing.jsonl:5",
        "Thing.jsonl:7",
        "Thing.jsonl:9",
    }
    assert any("n" in e and "Number" in e for e in report.errors if e.startswith("Thing.jsonl:5"))
    assert sorted(o.object_id for o in samples.snapshot(str(data))["Thing"]) == ["ok1", "ok7"]


def test_interrupted_import_resumes_from_its_checkpoint(export_dir, tmp_path, monkeypatch):
    data = tmp_path / "data"
    calls = {"n": 0}
    real = LocalTarget.write_objects

    def crash_on_third_batch(self, class_name, rows, dry_run):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C, or the machine went down
        return real(self, class_name, rows, dry_run)

    monkeypatch.setattr(LocalTarget, "write_objects", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        do_import(export_dir, data, tmp_path / "s1", batch_size=2)
    assert os.listdir(data / "migration")  # a checkpoint was left
    monkeypatch.setattr(LocalTarget, "write_objects", real)
    report = do_import(export_dir, data, tmp_path / "s2", batch_size=2)
    total_rows = sum(len(rows) for rows in samples.classes().values())
    read = sum(c.read for name, c in report.classes.items() if "." not in name)
    assert read < total_rows  # committed batches were not read again
    assert sum(c.skipped for c in report.classes.values()) == 0
    assert not os.listdir(data / "migration")  # finished: checkpoint gone
    full = tmp_path / "full"
    do_import(export_dir, full, tmp_path / "s3")
    assert samples.snapshot(str(data)) == samples.snapshot(str(full))


@pytest.mark.parametrize("shape", ["array", "results"])
def test_json_array_and_results_wrapper_files(tmp_path, shape):
    src = tmp_path / "src"
    src.mkdir()
    rows = [{"objectId": "a", "n": 1}, {"objectId": "b", "n": 2}]
    document = rows if shape == "array" else {"results": rows}
    (src / "Thing.json").write_text(json.dumps(document, indent=2))
    report = do_import(src, tmp_path / "data", tmp_path / "s")
    assert report.classes["Thing"].inserted == 2


def test_rows_without_an_object_id_get_a_stable_one(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "Thing.jsonl").write_text(json.dumps({"n": 1}) + "\n" + json.dumps({"n": 2}) + "\n")
    data = tmp_path / "data"
    do_import(src, data, tmp_path / "s1")
    report = do_import(src, data, tmp_path / "s2")
    assert report.classes["Thing"].skipped == 2
    assert len(samples.snapshot(str(data))["Thing"]) == 2


def _archive(export_dir, path, kind):
    if kind == "tar.gz":
        with tarfile.open(path, "w:gz") as archive:
            archive.add(export_dir, arcname="export")
    else:
        with zipfile.ZipFile(path, "w") as archive:
            for directory, _, names in os.walk(export_dir):
                for name in names:
                    full = os.path.join(directory, name)
                    archive.write(full, os.path.relpath(full, export_dir))


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_archives(export_dir, tmp_path, kind):
    path = tmp_path / f"export.{kind}"
    _archive(export_dir, path, kind)
    data = tmp_path / "data"
    report = do_import(path, data, tmp_path / "s")
    assert report.failed == 0 and report.classes["Post"].inserted == 5
    direct = tmp_path / "direct"
    do_import(export_dir, direct, tmp_path / "s2")
    assert samples.snapshot(str(data)) == samples.snapshot(str(direct))


def test_archive_members_outside_the_target_are_not_extracted(tmp_path):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name in ("../escaped.jsonl", "Thing.jsonl"):
            data = json.dumps({"objectId": "x", "n": 1}).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    scratch = tmp_path / "deep" / "scratch"
    scratch.mkdir(parents=True)
    report = do_import(path, tmp_path / "data", scratch)
    assert not (tmp_path / "deep" / "escaped.jsonl").exists()
    assert list(report.classes) == ["Thing"]


def test_missing_file_content_is_downloaded_from_its_url(export_dir, tmp_path, api):
    os.unlink(os.path.join(export_dir, "files", samples.FILE_ID))
    import responses

    api.add(responses.GET, samples.classes()["_File"][0]["url"], body=samples.FILE_BYTES)
    data = tmp_path / "data"
    report = do_import(export_dir, data, tmp_path / "s")
    assert report.warnings == []
    assert samples.blob(str(data), "gamma/avatar.png") == samples.FILE_BYTES


def test_unreachable_file_content_is_a_warning_and_keeps_the_url(export_dir, tmp_path):
    os.unlink(os.path.join(export_dir, "files", samples.FILE_ID))
    data = tmp_path / "data"
    report = do_import(export_dir, data, tmp_path / "s", fetch_files=False)
    assert len(report.warnings) == 1 and "gamma/avatar.png" in report.warnings[0]
    row = samples.snapshot(str(data))["_File"][0]
    assert row.data["url"] == samples.classes()["_File"][0]["url"]


def test_a_checkpoint_taken_on_other_files_is_not_resumed(export_dir, tmp_path, monkeypatch):
    data = tmp_path / "data"
    real = LocalTarget.write_objects

    users = []

    def crash(self, class_name, rows, dry_run):
        if class_name == "_User":
            users.append(rows)
            if len(users) == 2:
                raise KeyboardInterrupt
        return real(self, class_name, rows, dry_run)

    monkeypatch.setattr(LocalTarget, "write_objects", crash)
    with pytest.raises(KeyboardInterrupt):
        do_import(export_dir, data, tmp_path / "s1", batch_size=1)
    monkeypatch.setattr(LocalTarget, "write_objects", real)
    with open(os.path.join(export_dir, "_User.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"objectId": "user3", "username": "carol"}) + "\n")
    report = do_import(export_dir, data, tmp_path / "s2", batch_size=1)
    assert report.classes["_User"].read == 3  # read again from the start
    assert report.classes["_User"].inserted == 2 and report.classes["_User"].skipped == 1


def test_a_dry_run_leaves_an_interrupted_runs_checkpoint_alone(export_dir, tmp_path, monkeypatch):
    data = tmp_path / "data"
    real = LocalTarget.write_objects

    def crash(self, class_name, rows, dry_run):
        if class_name == "_User":
            raise KeyboardInterrupt
        return real(self, class_name, rows, dry_run)

    monkeypatch.setattr(LocalTarget, "write_objects", crash)
    with pytest.raises(KeyboardInterrupt):
        do_import(export_dir, data, tmp_path / "s1")
    monkeypatch.setattr(LocalTarget, "write_objects", real)
    (checkpoint,) = os.listdir(data / "migration")
    saved = (data / "migration" / checkpoint).read_text()
    do_import(export_dir, data, tmp_path / "s2", dry_run=True, restart=True)
    assert (data / "migration" / checkpoint).read_text() == saved


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_import_draws_each_class_and_the_overall_count(export_dir, tmp_path):
    from leancloud.migration.progress import Progress

    ticks = iter(range(10**6))  # a second per look at the clock: every update is drawn
    stream = _Terminal()
    source = open_source(export_dir, str(tmp_path / "s"))
    target = LocalTarget(str(tmp_path / "data"), "http://files.test")
    units = len(source.units())
    try:
        progress = Progress(units, stream, clock=lambda: float(next(ticks)))
        run_import(source, target, str(tmp_path / "data"), progress=progress)
    finally:
        target.close()
    drawn = stream.getvalue().split("\r\x1b[2K")
    assert drawn[-1] == ""  # the line is cleared before the summary
    names = {line.split(" ")[0] for line in drawn if line}
    assert names == {"Post", "_File", "_Installation", "_Role", "_User", "Post.fans", "_Role.users"}
    rows = sum(len(r) for r in samples.classes().values()) + sum(
        map(len, samples.RELATIONS.values())
    )
    assert f"overall {units}/{units} units, {rows} rows," in drawn[-2]


@pytest.mark.parametrize("shape", ["ours", "results"])
def test_a_schema_file_brings_empty_classes_and_relation_columns(tmp_path, shape):
    src = tmp_path / "src"
    src.mkdir()
    fields = {
        "objectId": {"type": "String"},
        "title": {"type": "String"},
        "fans": {"type": "Relation", "className": "_User"},
    }
    schema = {"Post": fields, "Empty": {"n": {"type": "Number"}}}
    if shape == "results":  # /1.1/schemas as some exports list it
        schema = {"results": [{"className": name, "fields": f} for name, f in schema.items()]}
    (src / "schema.json").write_text(json.dumps(schema))
    (src / "Post.jsonl").write_text(json.dumps({"objectId": "p1", "title": "t"}) + "\n")
    (src / "_Join:fans:Post.jsonl").write_text(json.dumps({"owningId": "p1", "relatedId": "u1"}))
    data = tmp_path / "data"
    report = do_import(src, data, tmp_path / "s")
    assert report.failed == 0 and list(report.classes) == ["Post", "Post.fans"], report.format()
    state = samples.snapshot(str(data))
    assert state["schema"]["Empty"]["n"] == {"type": "Number"}
    assert state["schema"]["Post"]["fans"] == {"type": "Relation", "className": "_User"}
    assert state["Post.fans"] == [("p1", "_User", "u1")]


def test_a_broken_first_line_and_a_results_field_do_not_make_a_file_one_document(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    rows = ['{"objectId": "a", "n": ', '{"objectId": "b", "results": [1]}', '{"objectId": "c"}']
    (src / "Thing.jsonl").write_text("\n".join(rows) + "\n")
    (src / "Other.jsonl").write_text('{"objectId": "d", "results": [2]}\n{"objectId": "e"}\n')
    report = do_import(src, tmp_path / "data", tmp_path / "s")
    assert [e.split(": ")[0] for e in report.errors] == ["Thing.jsonl:1"]
    assert (report.classes["Thing"].inserted, report.classes["Other"].inserted) == (2, 2)
