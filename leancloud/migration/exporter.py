"""``leancloud export DIR``: write a source (a data directory, or a running server) in the
layout ``leancloud import`` reads (see ``sources``): ``schema.json``, one JSON Lines file
per class, ``relations/<Class>.<field>.jsonl`` and ``files/<objectId>`` contents.

Each file is written under a temporary name and renamed when complete, so an
interrupted export never leaves a truncated class file that looks finished.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional

from leancloud.errors import LeanCloudError
from leancloud.migration.progress import Progress
from leancloud.migration.remote import download
from leancloud.migration.report import Report
from leancloud.migration.sources import (
    FILES_DIR,
    RELATIONS_DIR,
    SCHEMA_FILE,
    DirectorySource,
    Source,
    Unit,
)
from leancloud.server.services.files import FILE_CLASS

__all__ = ["run_export"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _path(directory: str, unit: Unit) -> str:
    if unit.field:
        return os.path.join(directory, RELATIONS_DIR, f"{unit.class_name}.{unit.field}.jsonl")
    return os.path.join(directory, f"{unit.class_name}.jsonl")


def _write_atomically(path: str, content: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as handle:
        handle.write(content)
    os.replace(path + ".tmp", path)


def _is_external(row: Dict[str, Any]) -> bool:
    """An external file lives at its own url, which the row keeps."""
    meta = row.get("metaData")
    return isinstance(meta, dict) and meta.get("__source") == "external"


def _file_content(source: Source, row: Dict[str, Any]) -> bytes:
    content = source.file_content(row)
    if content is not None:
        return content
    url = row.get("url")
    if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise ValueError("not held by the source and no url to download it from")
    return download(url)


def _export_unit(
    source: Source, unit: Unit, directory: str, report: Report, progress: Progress
) -> None:
    name = f"{unit.class_name}.{unit.field}" if unit.field else unit.class_name
    counts = report.counts(name)
    path = _path(directory, unit)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        for item in unit.read(None):
            counts.read += 1
            handle.write(_dumps(item.value) + "\n")
            progress.advance(1)
            if unit.class_name == FILE_CLASS and not unit.field:
                _export_file(source, item.value, item.location, directory, report)
    if counts.read:
        os.replace(path + ".tmp", path)
    else:  # an empty class lives on in schema.json; an earlier export's rows must not
        os.unlink(path + ".tmp")
        if os.path.exists(path):
            os.unlink(path)


def _export_file(source: Source, row: Any, location: str, directory: str, report: Report) -> None:
    object_id = row.get("objectId") if isinstance(row, dict) else None
    if not isinstance(object_id, str) or "/" in object_id or object_id in ("", ".", ".."):
        return
    if _is_external(row):
        return
    try:
        content = _file_content(source, row)
    except (OSError, LeanCloudError, ValueError) as exc:
        report.warnings.append(f"{location}: content of file {object_id} not saved: {exc}")
        return
    _write_atomically(os.path.join(directory, FILES_DIR, object_id), content)


def run_export(source: Source, directory: str, progress: Optional[Progress] = None) -> Report:
    """Write everything ``source`` holds under ``directory``; the summary comes back."""
    os.makedirs(directory, exist_ok=True)
    report = Report(kind="export")
    schema = source.schema()
    _write_atomically(
        os.path.join(directory, SCHEMA_FILE),
        json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8"),
    )
    units = source.units()
    progress = progress or Progress(len(units))
    for unit in units:
        progress.start(
            f"{unit.class_name}.{unit.field}" if unit.field else unit.class_name, unit.total
        )
        _export_unit(source, unit, directory, report, progress)
    progress.done()
    written = {os.path.relpath(_path(directory, unit), directory) for unit in units}
    for unit in DirectorySource(directory).units():  # what an import of it would read
        if unit.key not in written:
            report.warnings.append(f"{unit.key}: not from this export; an import reads it too")
    return report
