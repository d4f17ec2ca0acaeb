"""Where imported data goes: a data directory (what ``serve --data`` uses) or a running
server reached with its master key.

Both targets write through ``writer`` (the remote one via our ``POST /1.1/import``
extension, whose handler calls the same functions), so they accept, reject and count
rows identically. File contents go into the target's blob store under the file's key;
the record's ``url`` becomes ``<public URL>/files/<key>``, as the file service builds it.
"""

from __future__ import annotations

import io
import os
from typing import Any, Dict, Mapping, Optional, Sequence

from leancloud.errors import LeanCloudError
from leancloud.migration import writer
from leancloud.migration.remote import Endpoint
from leancloud.migration.writer import BatchResult

__all__ = ["Target", "LocalTarget", "RemoteTarget", "IMPORT_PATH"]

IMPORT_PATH = "/import"  # under /1.1: our extension, master key only
FILES_PATH = "/import/files"


class Target:
    """The interface both targets implement."""

    def write_objects(self, class_name: str, rows: Sequence[Any], dry_run: bool) -> BatchResult:
        """One batch of rows in one transaction (see ``writer.write_objects``)."""
        raise NotImplementedError

    def write_relations(
        self,
        class_name: str,
        field: str,
        rows: Sequence[Any],
        dry_run: bool,
        target_class: Optional[str] = None,
    ) -> BatchResult:
        """One batch of memberships (see ``writer.write_relations``)."""
        raise NotImplementedError

    def write_schema(self, schema: Mapping[str, Any], dry_run: bool) -> BatchResult:
        """Declare the source's classes and fields before any row arrives."""
        raise NotImplementedError

    def has_file(self, key: str) -> bool:
        """Whether the content is already here: re-runs do not transfer it again."""
        raise NotImplementedError

    def store_file(self, key: str, content: bytes, mime_type: Optional[str]) -> str:
        """Keep ``content`` as the file ``key``; answers the URL it is served at."""
        raise NotImplementedError

    def file_url(self, key: str) -> str:
        """Where the target serves ``key`` (what re-hosted ``_File`` rows point at)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


class LocalTarget(Target):
    """``LocalTarget(data_dir, public_url)``: the server need not be running."""

    def __init__(self, data_dir: str, public_url: Optional[str] = None) -> None:
        from leancloud.server import DATABASE_FILE
        from leancloud.server.blobs import BlobStore
        from leancloud.server.storage.sqlite import SQLiteStorage

        os.makedirs(data_dir, mode=0o700, exist_ok=True)
        # NORMAL: each batch still survives a crash of this process; an OS crash at worst
        # loses the last batches, which re-running the import writes again.
        self.storage = SQLiteStorage(os.path.join(data_dir, DATABASE_FILE), synchronous="NORMAL")
        self.blobs = BlobStore(data_dir)
        self.public_url = (
            public_url or os.environ.get("LEANCLOUD_PUBLIC_URL") or "http://127.0.0.1:3000"
        ).rstrip("/")

    def write_objects(self, class_name: str, rows: Sequence[Any], dry_run: bool) -> BatchResult:
        return writer.write_objects(self.storage, class_name, rows, dry_run)

    def write_relations(
        self,
        class_name: str,
        field: str,
        rows: Sequence[Any],
        dry_run: bool,
        target_class: Optional[str] = None,
    ) -> BatchResult:
        return writer.write_relations(self.storage, class_name, field, rows, dry_run, target_class)

    def write_schema(self, schema: Mapping[str, Any], dry_run: bool) -> BatchResult:
        return writer.write_schema(self.storage, schema, dry_run)

    def has_file(self, key: str) -> bool:
        return os.path.exists(self.blobs.content_path(key))

    def store_file(self, key: str, content: bytes, mime_type: Optional[str]) -> str:

        staged = self.blobs.stage(io.BytesIO(content), len(content))
        staged.commit(key, mime_type)
        return self.file_url(key)

    def file_url(self, key: str) -> str:
        from leancloud.server.services.files import file_url

        return file_url(self.public_url, key)

    def close(self) -> None:
        self.storage.close()


class RemoteTarget(Target):
    """A running server of ours (LeanCloud itself has no such import route)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._urls: Dict[str, str] = {}

    def _post(self, body: Dict[str, Any], dry_run: bool) -> BatchResult:
        body["dryRun"] = dry_run
        return BatchResult.from_json(self.endpoint.call("POST", IMPORT_PATH, body=body))

    def _post_rows(
        self, body: Dict[str, Any], name: str, rows: Sequence[Any], dry_run: bool
    ) -> BatchResult:
        """One batch, halved until each request fits the server's body limit (413):
        big rows must not make ``--batch-size`` a guessing game."""
        try:
            return self._post({**body, name: list(rows)}, dry_run)
        except LeanCloudError as exc:
            if exc.code != 413:
                raise
            if len(rows) == 1:
                return BatchResult(failed=[(0, f"larger than the server accepts: {exc.error}")])
        middle = len(rows) // 2
        first = self._post_rows(body, name, rows[:middle], dry_run)
        second = self._post_rows(body, name, rows[middle:], dry_run)
        return BatchResult(
            first.inserted + second.inserted,
            first.updated + second.updated,
            first.skipped + second.skipped,
            first.failed + [(index + middle, message) for index, message in second.failed],
        )

    def write_objects(self, class_name: str, rows: Sequence[Any], dry_run: bool) -> BatchResult:
        return self._post_rows({"className": class_name}, "objects", rows, dry_run)

    def write_relations(
        self,
        class_name: str,
        field: str,
        rows: Sequence[Any],
        dry_run: bool,
        target_class: Optional[str] = None,
    ) -> BatchResult:
        body = {"className": class_name, "field": field}
        if target_class:
            body["targetClass"] = target_class
        return self._post_rows(body, "relations", rows, dry_run)

    def write_schema(self, schema: Mapping[str, Any], dry_run: bool) -> BatchResult:
        return self._post({"schema": dict(schema)}, dry_run)

    def has_file(self, key: str) -> bool:
        return bool(self.endpoint.call("GET", FILES_PATH, {"key": key}).get("exists"))

    def store_file(self, key: str, content: bytes, mime_type: Optional[str]) -> str:
        params = {"key": key, "mime_type": mime_type or ""}
        url = self.endpoint.put_bytes(FILES_PATH, params, content)["url"]
        self._urls[key] = url
        return url

    def file_url(self, key: str) -> str:
        if key not in self._urls:
            self._urls[key] = self.endpoint.call("GET", FILES_PATH, {"key": key})["url"]
        return self._urls[key]
