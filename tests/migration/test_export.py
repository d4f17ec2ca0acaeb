"""``leancloud export``: our layout, and export -> import into an empty place reproduces
the data exactly."""

from __future__ import annotations

import json
import os

import pytest

from leancloud.__main__ import main
from leancloud.migration import run_export
from leancloud.migration.sources import DataDirSource
from leancloud.testing import start_server
from tests.migration import samples


@pytest.fixture
def data_dir(tmp_path):
    data = str(tmp_path / "data")
    export = samples.write_export(str(tmp_path / "export"))
    assert main(["import", export, "--data", data, "--public-url", "http://files.test"]) == 0
    return data


def test_export_writes_our_layout(data_dir, tmp_path):
    out = tmp_path / "out"
    source = DataDirSource(data_dir)
    report = run_export(source, str(out))
    source.close()
    assert report.classes["Post"].read == 5 and "Export summary" in report.format()
    schema = json.loads((out / "schema.json").read_text())
    assert schema["Post"]["fans"] == {"type": "Relation", "className": "_User"}
    users = [json.loads(line) for line in (out / "_User.jsonl").read_text().splitlines()]
    alice = next(u for u in users if u["username"] == "alice")
    assert (alice["password"], alice["salt"]) == (samples.HASH, samples.SALT)
    assert alice["ACL"] == samples.classes()["_User"][0]["ACL"]
    fans = [
        json.loads(line)
        for line in (out / "relations" / "Post.fans.jsonl").read_text().splitlines()
    ]
    assert {
        "owningId": "post00000000000000000001",
        "relatedId": "user2",
        "relatedClassName": "_User",
    } in fans
    assert (out / "files" / samples.FILE_ID).read_bytes() == samples.FILE_BYTES
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]


def test_export_then_import_into_an_empty_data_dir_is_exact(data_dir, tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["export", out, "--data", data_dir]) == 0
    assert "Export summary" in capsys.readouterr().out
    copy = str(tmp_path / "copy")
    assert main(["import", out, "--data", copy, "--public-url", "http://files.test"]) == 0
    assert samples.snapshot(copy) == samples.snapshot(data_dir)
    assert samples.blob(copy, "gamma/avatar.png") == samples.FILE_BYTES


def test_export_from_a_running_server_round_trips(data_dir, tmp_path):
    server = start_server(data_dir)
    try:
        out = str(tmp_path / "out")
        flags = [
            "--server",
            server.url,
            "--app-id",
            server.app_id,
            "--master-key",
            server.master_key,
        ]
        # The _File row's url (http://files.test) is not reachable: content comes by key.
        assert main(["export", out, *flags]) == 0
    finally:
        server.stop()
    copy = str(tmp_path / "copy")
    assert main(["import", out, "--data", copy, "--public-url", "http://files.test"]) == 0
    assert samples.snapshot(copy) == samples.snapshot(data_dir)
    assert samples.blob(copy, "gamma/avatar.png") == samples.FILE_BYTES


def test_cli_reports_failures_with_exit_status_and_bad_arguments(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "Thing.jsonl").write_text('{"objectId": "a"}\n{oops\n')
    data = str(tmp_path / "data")
    assert main(["import", str(src), "--data", data]) == 1
    out = capsys.readouterr().out
    assert "Thing.jsonl:2: not JSON" in out and "Import summary" in out
    assert main(["import", "--data", data]) == 1
    assert "nothing to import" in capsys.readouterr().err
    assert main(["import", str(src), "--server", "http://127.0.0.1:1"]) == 1
    assert "--server needs --app-id and --master-key" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "missing"), "--data", data]) == 1
    assert main(["import", str(src), "--data", data, "--batch-size", "0"]) == 1
    assert "--batch-size must be at least 1" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "o"), "--data", str(tmp_path / "nothing")]) == 1
    assert "not a data directory" in capsys.readouterr().err


def test_import_reads_another_data_dir_directly(data_dir, tmp_path):
    copy = str(tmp_path / "copy")
    assert main(["import", data_dir, "--data", copy, "--public-url", "http://files.test"]) == 0
    assert samples.snapshot(copy) == samples.snapshot(data_dir)
    assert samples.blob(copy, "gamma/avatar.png") == samples.FILE_BYTES


def test_export_over_an_earlier_one_leaves_no_stale_rows_unmentioned(data_dir, tmp_path):
    from leancloud.migration import writer
    from leancloud.server import DATABASE_FILE
    from leancloud.server.storage.sqlite import SQLiteStorage

    storage = SQLiteStorage(os.path.join(data_dir, DATABASE_FILE))
    writer.write_schema(storage, {"Empty": {"n": {"type": "Number"}}})
    storage.close()
    out = tmp_path / "out"
    (out / "relations").mkdir(parents=True)
    for stale in ("Empty.jsonl", "Gone.jsonl", "relations/Old.x.jsonl", "Post.jsonl"):
        (out / stale).write_text('{"objectId": "stale"}\n')
    source = DataDirSource(data_dir)
    report = run_export(source, str(out))
    source.close()
    assert not (out / "Empty.jsonl").exists()  # the class is empty now
    assert "stale" not in (out / "Post.jsonl").read_text()
    assert sorted(report.warnings) == [
        "Gone.jsonl: not from this export; an import reads it too",
        "relations/Old.x.jsonl: not from this export; an import reads it too",
    ]
