"""``leancloud import``: read a source unit by unit, write it in batches, checkpoint,
re-host file contents, and count everything for the summary.

One batch = one transaction on the target (``batch_size`` rows, 1000 by default), so a
crash loses at most the batch in flight, and the checkpoint written after each batch
lets the next run start there. Rows that fail are reported with their file and line
and do not stop the others.
"""

from __future__ import annotations

import mimetypes
import posixpath
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from leancloud.errors import LeanCloudError
from leancloud.migration.checkpoint import Checkpoint
from leancloud.migration.progress import Progress
from leancloud.migration.records import RowError
from leancloud.migration.remote import download, is_fatal
from leancloud.migration.report import Report
from leancloud.migration.sources import Item, Source, Unit, source_digest
from leancloud.migration.targets import Target
from leancloud.migration.writer import BatchResult
from leancloud.server.errors import ApiError
from leancloud.server.services.files import BUCKET, FILE_CLASS, PROVIDER, is_valid_key

__all__ = ["ImportOptions", "run_import"]


@dataclass
class ImportOptions:
    """What ``leancloud import``'s flags choose; the defaults are the safe, complete run."""

    dry_run: bool = False
    batch_size: int = 1000
    restart: bool = False  # ignore a checkpoint left by an interrupted run
    fetch_files: bool = True  # download _File contents the export does not hold
    files_domain: Optional[str] = None  # LeanCloud file domain, for rows with a key but no url


def _batches(items: Iterator[Item], size: int) -> Iterator[List[Item]]:
    batch: List[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _unit_name(unit: Unit) -> str:
    return f"{unit.class_name}.{unit.field}" if unit.field else unit.class_name


class _Run:
    def __init__(
        self, source: Source, target: Target, options: ImportOptions, report: Report
    ) -> None:
        self.source = source
        self.target = target
        self.options = options
        self.report = report
        # (class, field) -> target class, from the schema and the rows' placeholders.
        self.relation_targets: Dict[Tuple[str, str], str] = {}

    # --- files ----------------------------------------------------------------------

    def _file_key(self, row: Dict[str, Any]) -> str:
        key = row.get("key")
        if is_valid_key(key):
            return key
        extension = posixpath.splitext(str(row.get("name") or ""))[1]
        if not extension.strip(".").isalnum():
            extension = ""
        return f"migrated/{row['objectId']}{extension}"

    def _content(self, row: Dict[str, Any]) -> Optional[bytes]:
        content = self.source.file_content(row)
        if content is not None or not self.options.fetch_files:
            return content
        url = row.get("url")
        if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            key = row.get("key")
            if not (self.options.files_domain and isinstance(key, str)):
                raise OSError("no url to download it from (give --files-domain)")
            url = f"{self.options.files_domain.rstrip('/')}/{key}"
        return download(url)

    def rehost(self, row: Any, location: str) -> Any:
        """A ``_File`` row whose content now lives on the target, at the target's URL."""
        if not isinstance(row, dict) or not isinstance(row.get("objectId"), str):
            return row
        meta = row.get("metaData")
        if isinstance(meta, dict) and meta.get("__source") == "external":
            return row  # an external file stays where it is
        key = self._file_key(row)
        try:
            url = self._hosted_url(row, key)
        except (OSError, LeanCloudError, ValueError) as exc:
            if is_fatal(exc):
                raise
            self.report.warnings.append(f"{location}: file {key}: {exc}; url kept")
            return row
        return {**row, "key": key, "url": url, "bucket": BUCKET, "provider": PROVIDER}

    def _hosted_url(self, row: Dict[str, Any], key: str) -> str:
        """The target's URL of the row's content, stored there first when missing."""
        if self.target.has_file(key):
            return self.target.file_url(key)
        content = self._content(row)
        if content is None:
            raise ValueError("content not in the export and not downloaded")
        if self.options.dry_run:
            return self.target.file_url(key)
        mime_type = row.get("mime_type") or mimetypes.guess_type(str(row.get("name")))[0]
        return self.target.store_file(key, content, mime_type)

    # --- batches --------------------------------------------------------------------

    def write(self, unit: Unit, batch: List[Item]) -> None:
        name = _unit_name(unit)
        counts = self.report.counts(name)
        counts.read += len(batch)
        good = []
        for item in batch:
            if isinstance(item.value, RowError):
                self.report.fail(name, item.location, str(item.value))
            else:
                good.append(item)
        if not good:
            return
        rows = [item.value for item in good]
        if not unit.field:
            self._note_relations(unit.class_name, rows)
        if unit.class_name == FILE_CLASS and not unit.field:
            rows = [self.rehost(row, item.location) for row, item in zip(rows, good)]
        try:
            result = self._send(unit, rows)
        except (ApiError, LeanCloudError) as exc:
            if is_fatal(exc):
                raise
            message = getattr(exc, "message", None) or getattr(exc, "error", None) or str(exc)
            result = BatchResult(
                failed=[(index, f"batch refused: {message}") for index in range(len(rows))]
            )
        counts.inserted += result.inserted
        counts.updated += result.updated
        counts.skipped += result.skipped
        for index, message in result.failed:
            self.report.fail(name, good[index].location, message)

    def _note_relations(self, class_name: str, rows: List[Any]) -> None:
        for row in rows:
            if not isinstance(row, dict):
                continue
            for field, value in row.items():
                if isinstance(value, dict) and value.get("__type") == "Relation":
                    target = value.get("className")
                    if isinstance(target, str):
                        self.relation_targets[(class_name, field)] = target

    def _send(self, unit: Unit, rows: List[Any]) -> BatchResult:
        dry_run = self.options.dry_run
        if unit.field:
            target = self.relation_targets.get((unit.class_name, unit.field))
            return self.target.write_relations(unit.class_name, unit.field, rows, dry_run, target)
        return self.target.write_objects(unit.class_name, rows, dry_run)

    def schema(self) -> None:
        schema = self.source.schema()
        if not schema:
            return
        for class_name, fields in schema.items():
            for field, spec in fields.items():
                if isinstance(spec, dict) and spec.get("type") == "Relation":
                    self.relation_targets[(class_name, field)] = spec.get("className")
        result = self.target.write_schema(schema, self.options.dry_run)
        for _, message in result.failed:
            self.report.warnings.append(f"schema: {message}")


def run_import(
    source: Source,
    target: Target,
    checkpoint_dir: str,
    options: Optional[ImportOptions] = None,
    progress: Optional[Progress] = None,
) -> Report:
    """Import everything ``source`` holds into ``target``; the summary comes back."""
    options = options or ImportOptions()
    if options.batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = Report(dry_run=options.dry_run)
    checkpoint: Any = _Forgetful()  # a dry run leaves a real checkpoint as it was
    if not options.dry_run:
        checkpoint = Checkpoint(checkpoint_dir, source_digest(source.identity))
        if options.restart:
            checkpoint.clear()
    run = _Run(source, target, options, report)
    run.schema()
    units = source.units()
    progress = progress or Progress(len(units))
    complete = True
    for unit in units:
        if checkpoint.finished(unit.key):
            continue
        progress.start(_unit_name(unit), unit.total)
        try:
            _import_unit(run, unit, checkpoint, progress)
        except (LeanCloudError, ValueError) as exc:
            if is_fatal(exc):
                raise
            # One unreadable class (a system class the source will not scan, a relation
            # without a known target) must not cost the others; a re-run retries it.
            report.fail(_unit_name(unit), unit.key, f"reading stopped: {exc}")
            complete = False
    progress.done()
    if complete:
        checkpoint.clear()
    return report


def _import_unit(run: _Run, unit: Unit, checkpoint: Any, progress: Progress) -> None:
    position = checkpoint.position(unit.key)
    for batch in _batches(unit.read(position), run.options.batch_size):
        run.write(unit, batch)
        position = batch[-1].position
        checkpoint.save(unit.key, position)
        progress.advance(len(batch))
    checkpoint.save(unit.key, position, finished=True)


class _Forgetful:
    """A checkpoint that starts empty and writes nothing (dry runs, ``--restart``)."""

    def position(self, unit_key: str) -> None:
        return None

    def finished(self, unit_key: str) -> bool:
        return False

    def save(self, unit_key: str, position: Any, finished: bool = False) -> None:
        pass

    def clear(self) -> None:
        pass
