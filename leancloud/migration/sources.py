"""Where exported data comes from: a directory or archive of JSON files, a BSON dump, or a
live LeanCloud-compatible API.

Every source answers the same questions: its schema (if it has one), its units (one per
class file, relation file or class to scan), and a file's content by ``_File`` row. A
unit reads its rows from a *position* (a line number, or a scan cursor and an index)
so an interrupted import resumes where its last committed batch ended.

Our export layout (``leancloud export`` writes it, ``leancloud import`` reads it)::

    schema.json                     {"Class": {"field": {"type": ...}, ...}, ...}
    <Class>.jsonl                   one REST-form object per line
    relations/<Class>.<field>.jsonl {"owningId", "relatedId", "relatedClassName"} per line
    files/<objectId>                the content of each _File row

LeanCloud's own export is per-class JSON Lines; a JSON array or a ``{"results": [...]}``
file is read too, as are ``_Join:<field>:<Class>`` relation files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zipfile
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import requests

from leancloud.errors import LeanCloudError
from leancloud.migration.records import RowError
from leancloud.migration.remote import Endpoint, download, is_fatal

__all__ = [
    "Item",
    "Unit",
    "Source",
    "DirectorySource",
    "BsonSource",
    "ApiSource",
    "DataDirSource",
    "open_source",
    "source_digest",
    "extract_archive",
    "SCHEMA_FILE",
    "RELATIONS_DIR",
    "FILES_DIR",
]

SCHEMA_FILE = "schema.json"
RELATIONS_DIR = "relations"
FILES_DIR = "files"
_SCHEMA_NAMES = (SCHEMA_FILE, "_schema.json", "schemas.json")
_JSON_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz")
_BSON_SUFFIXES = (".bson", ".bson.gz")
_JOIN_PREFIX = "_Join:"


@dataclass
class Item:
    """One row read: ``value`` is the decoded row, or the ``RowError`` it could not become."""

    position: Any  # where reading resumes after this row (JSON-serialisable)
    location: str  # file:line or Class#n, for the report
    value: Any


@dataclass
class Unit:
    """A stream of rows of one class (or one relation column, when ``field`` is set)."""

    key: str  # the checkpoint key: stable across runs of the same source
    class_name: str
    read: Callable[[Any], Iterator[Item]]  # from a position (None = the start)
    field: Optional[str] = None
    total: Optional[int] = None  # rows, when cheap to know (progress bars)


class Source:
    """The interface every source implements."""

    identity: str  # what the checkpoint file is named after

    def schema(self) -> Dict[str, Dict[str, dict]]:
        """Declared classes and fields (``/1.1/schemas`` shape): empty classes and
        relation targets travel only here. Empty when the source has none."""
        return {}

    def units(self) -> List[Unit]:
        """Object units first, then relation units (their owners must exist first)."""
        raise NotImplementedError

    def file_content(self, row: Dict[str, Any]) -> Optional[bytes]:
        """The exported content of a ``_File`` row, when the export holds it."""
        return None

    def close(self) -> None:
        """Release what the source opened (temporary extractions, connections)."""


# ------------------------------------------------------------------ file readers


def _open_text(path: str) -> io.TextIOBase:
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _decode(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        return RowError(f"not JSON: {exc}")


_WRAPPER_KEYS = frozenset({"results", "count", "cursor", "className"})


def _is_wrapper(value: Any) -> bool:
    """``{"results": [...]}`` (with a count or cursor at most), not a row that happens to
    have a ``results`` field."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("results"), list)
        and value.keys() <= _WRAPPER_KEYS
    )


def _whole_document(path: str) -> Optional[List[Any]]:
    """The rows of a file that is one JSON document (an array or ``{"results"}``), else None."""
    with _open_text(path) as handle:
        head = ""
        while not head.strip():
            head = handle.readline()
            if not head:
                return []
        first = head.lstrip()
        if first.startswith("{"):
            try:
                value = json.loads(first)
            except ValueError:
                value = None  # an object spread over lines: the whole file is one document
            if value is not None and not _is_wrapper(value):
                return None  # JSON Lines
        handle.seek(0)
        try:
            document = json.load(handle, parse_constant=_refuse_constant)
        except ValueError:
            if first.startswith("{"):
                return None  # JSON Lines whose first row is broken: report it alone
            raise
    if isinstance(document, list):
        return document
    if _is_wrapper(document):
        return document["results"]
    return [document]


def json_rows(path: str, label: str) -> Callable[[Any], Iterator[Item]]:
    """A reader of one JSON Lines / JSON array / ``{"results"}`` file, resumable by row."""

    def read(start: Any) -> Iterator[Item]:
        skip = start or 0
        try:
            document = _whole_document(path)
        except ValueError as exc:
            yield Item(1, f"{label}", RowError(f"not JSON: {exc}"))
            return
        if document is not None:
            for index, row in enumerate(document[skip:], start=skip + 1):
                yield Item(index, f"{label}#{index}", row)
            return
        with _open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                if number <= skip or not line.strip():
                    continue
                yield Item(number, f"{label}:{number}", _decode(line))

    return read


def _count_lines(path: str) -> Optional[int]:
    if path.endswith(".gz"):
        return None
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _strip_suffix(name: str, suffixes: Tuple[str, ...]) -> Optional[str]:
    for suffix in suffixes:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def _relation_name(stem: str) -> Optional[Tuple[str, str]]:
    """``_Join:<field>:<Class>`` -> (Class, field)."""
    if stem.startswith(_JOIN_PREFIX):
        parts = stem[len(_JOIN_PREFIX) :].split(":")
        if len(parts) == 2 and all(parts):
            return parts[1], parts[0]
    return None


def _walk(root: str) -> Iterator[Tuple[str, str]]:
    """(absolute path, path relative to root) of every file, in a stable order."""
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            yield path, os.path.relpath(path, root).replace(os.sep, "/")


def _load_schema(path: str) -> Dict[str, Dict[str, dict]]:
    """``{"Class": {fields}}`` (ours, ``/1.1/schemas``) or ``{"results": [{"className", "fields"}]}``."""
    with _open_text(path) as handle:
        value = json.load(handle)
    if _is_wrapper(value):
        return {
            item["className"]: item.get("fields") or {}
            for item in value["results"]
            if isinstance(item, dict) and isinstance(item.get("className"), str)
        }
    if not isinstance(value, dict):
        raise ValueError(f"{path}: a schema must be a JSON object")
    return {name: fields for name, fields in value.items() if isinstance(fields, dict)}


class DirectorySource(Source):
    """A directory of per-class JSON files (an extracted console export, or ours)."""

    def __init__(self, root: str, identity: Optional[str] = None) -> None:
        self.root = root
        self.identity = identity or _listing_fingerprint(root)

    def schema(self) -> Dict[str, Dict[str, dict]]:
        for rel in _SCHEMA_NAMES:
            path = os.path.join(self.root, rel)
            if os.path.isfile(path):
                return _load_schema(path)
        return {}

    def units(self) -> List[Unit]:
        objects, relations = [], []
        for path, rel in _walk(self.root):
            name = os.path.basename(rel)
            stem = _strip_suffix(name, _JSON_SUFFIXES)
            if stem is None or rel in _SCHEMA_NAMES or rel.startswith(FILES_DIR + "/"):
                continue
            joined = _relation_name(stem)
            if rel.startswith(RELATIONS_DIR + "/") and "." in stem:
                joined = tuple(stem.split(".", 1))  # type: ignore[assignment]
            unit = Unit(rel, stem.split(".")[0], json_rows(path, rel), total=_count_lines(path))
            if joined:
                unit.class_name, unit.field = joined
                relations.append(unit)
            else:
                objects.append(unit)
        return objects + relations

    def file_content(self, row: Dict[str, Any]) -> Optional[bytes]:
        object_id = row.get("objectId")
        if not isinstance(object_id, str) or "/" in object_id or object_id in ("", ".", ".."):
            return None
        path = os.path.join(self.root, FILES_DIR, object_id)
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as handle:
            return handle.read()


# ------------------------------------------------------------------ archives


def _safe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return not name.startswith(("/", "\\")) and ".." not in parts and ":" not in parts[0]


def extract_archive(path: str, target: str) -> None:
    """Unpack a ``.tar.gz``/``.tgz``/``.tar``/``.zip`` export into ``target``: regular files
    only, and none that would land outside it."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir() and _safe_member(info.filename):
                    archive.extract(info, target)
        return
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            if member.isfile() and _safe_member(member.name):
                destination = os.path.join(target, member.name)
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                with archive.extractfile(member) as data, open(destination, "wb") as out:  # type: ignore[union-attr]
                    while True:
                        chunk = data.read(1 << 20)
                        if not chunk:
                            break
                        out.write(chunk)


def _listing_fingerprint(root: str) -> str:
    """A folder's path plus every file's name, size and mtime: a checkpoint taken on other
    files (the export was replaced) must not be resumed, or new rows would be skipped."""
    digest = hashlib.sha256()
    for path, rel in _walk(root):
        stat = os.stat(path)
        digest.update(f"{rel}:{stat.st_size}:{int(stat.st_mtime)}\n".encode())
    return f"{os.path.abspath(root)}:{digest.hexdigest()}"


def _fingerprint(path: str) -> str:
    stat = os.stat(path)
    return f"{os.path.abspath(path)}:{stat.st_size}:{int(stat.st_mtime)}"


def _has_bson(root: str) -> bool:
    return any(_strip_suffix(rel, _BSON_SUFFIXES) for _, rel in _walk(root))


def _single_folder(root: str) -> str:
    """Archives often wrap everything in one folder: read from inside it."""
    while os.path.isdir(root):
        entries = [e for e in os.listdir(root) if not e.startswith(".")]
        if len(entries) != 1 or not os.path.isdir(os.path.join(root, entries[0])):
            break
        if entries[0] in (RELATIONS_DIR, FILES_DIR):
            break
        root = os.path.join(root, entries[0])
    return root


def open_source(path: str, scratch: str) -> Source:
    """The right reader for a path: an archive is unpacked under ``scratch`` first; a data
    directory of ours is read directly."""
    from leancloud.server import DATABASE_FILE

    if os.path.isfile(os.path.join(path, DATABASE_FILE)):
        return DataDirSource(path)  # another server's data directory
    if os.path.isdir(path):
        root, identity = path, _listing_fingerprint(path)
    elif os.path.isfile(path) and (zipfile.is_zipfile(path) or tarfile.is_tarfile(path)):
        root, identity = scratch, _fingerprint(path)
        extract_archive(path, root)
    elif os.path.isfile(path) and _strip_suffix(path, _BSON_SUFFIXES):
        root, identity = path, _fingerprint(path)
    else:
        raise ValueError(f"{path}: not a directory, an export archive or a .bson file")
    root = _single_folder(root)
    if os.path.isfile(root) or _has_bson(root):
        return BsonSource(root, identity)
    return DirectorySource(root, identity)


# ------------------------------------------------------------------ BSON


def _bson():
    try:
        import bson
    except ImportError:
        raise RuntimeError(
            "reading BSON backups needs pymongo's bson module: pip install 'leancloud[bson]'"
        ) from None
    return bson


class BsonSource(Source):
    """A ``mongodump``-style backup: ``<db>/<Collection>[.<suffix>].bson[.gz]`` files."""

    def __init__(self, root: str, identity: str) -> None:
        self.bson = _bson()
        self.root = root
        self.identity = identity

    def schema(self) -> Dict[str, Dict[str, dict]]:
        if os.path.isfile(self.root):
            return {}
        return DirectorySource(self.root).schema()

    def _files(self) -> Iterator[Tuple[str, str]]:
        if os.path.isfile(self.root):
            yield self.root, os.path.basename(self.root)
            return
        yield from _walk(self.root)

    def units(self) -> List[Unit]:
        from leancloud.migration.mongo import from_mongo, membership_from_mongo

        objects, relations = [], []
        for path, rel in self._files():
            stem = _strip_suffix(os.path.basename(rel), _BSON_SUFFIXES)
            if stem is None or stem.startswith("system."):
                continue
            joined = _relation_name(stem)
            if joined:
                convert = membership_from_mongo
                unit = Unit(rel, joined[0], self._reader(path, rel, convert), field=joined[1])
                relations.append(unit)
            else:
                unit = Unit(rel, stem.split(".")[0], self._reader(path, rel, from_mongo))
                objects.append(unit)
        return objects + relations

    def _reader(
        self, path: str, label: str, convert: Callable[[Any], Any]
    ) -> Callable[[Any], Iterator[Item]]:
        def read(start: Any) -> Iterator[Item]:
            skip = start or 0
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as handle:
                documents = self.bson.decode_file_iter(handle)
                number = 0
                while True:
                    number += 1
                    try:
                        document = next(documents)
                    except StopIteration:
                        return
                    except Exception as exc:  # bson.errors.InvalidBSON and friends
                        yield Item(number, f"{label}#{number}", RowError(f"bad BSON: {exc}"))
                        return
                    if number > skip:
                        yield Item(number, f"{label}#{number}", _converted(convert, document))

        return read


def _converted(convert: Callable[[Any], Any], document: Any) -> Any:
    try:
        return convert(document)
    except (ValueError, TypeError, KeyError) as exc:
        return RowError(f"cannot convert the document: {exc}")


# ------------------------------------------------------------------ live API

_SCAN_LIMIT = 1000


class ApiSource(Source):
    """A running LeanCloud-compatible app, read with its master key.

    Our own server answers the raw export extension (``/1.1/export/...``: hidden fields
    such as password hashes, ACLs, relation rows); LeanCloud does not, so then every class
    is walked with ``/1.1/scan`` (``returnACL``) and relations with ``$relatedTo`` scans.
    """

    def __init__(self, endpoint: Endpoint, raw: Optional[bool] = None) -> None:
        self.endpoint = endpoint
        self.identity = f"{endpoint.url}#{endpoint.app_id}"
        self._raw = raw
        self._schema: Optional[Dict[str, Dict[str, dict]]] = None

    @property
    def raw(self) -> bool:
        """Whether the server has our export extension (asked once)."""
        if self._raw is None:
            try:
                self.endpoint.call("GET", "/export/classes/_User", {"limit": 1})
                self._raw = True
            except LeanCloudError as exc:
                if is_fatal(exc):  # a failing server is not proof that it is not ours
                    raise
                self._raw = False
        return self._raw

    def schema(self) -> Dict[str, Dict[str, dict]]:
        if self._schema is None:
            value = self.endpoint.call("GET", "/schemas")
            if _is_wrapper(value):
                value = {i["className"]: i.get("fields") or {} for i in value["results"]}
            self._schema = value
        return self._schema

    def units(self) -> List[Unit]:
        objects, relations = [], []
        for class_name, fields in sorted(self.schema().items()):
            objects.append(Unit(class_name, class_name, self._objects(class_name)))
            for field, spec in sorted(fields.items()):
                if isinstance(spec, dict) and spec.get("type") == "Relation":
                    reader = self._relations(class_name, field, spec.get("className"))
                    relations.append(Unit(f"{class_name}.{field}", class_name, reader, field=field))
        return objects + relations

    def file_content(self, row: Dict[str, Any]) -> Optional[bytes]:
        """Our servers serve content at ``/files/<key>`` whatever the row's url says."""
        key = row.get("key")
        if not self.raw or not isinstance(key, str) or not key:
            return None
        try:
            return download(f"{self.endpoint.url}/files/{key}")
        except requests.HTTPError:
            return None

    def _pages(self, path: str, params: Dict[str, Any], label: str, start: Any) -> Iterator[Item]:
        """Rows of a cursor-paged walk; a position is ``[cursor of the page, index in it]``.

        A scan cursor lives ten minutes, so one saved by a run that stopped long ago may
        be refused: then the walk starts again, and what was imported is skipped."""
        cursor, done = start or (None, 0)
        resumed = bool(cursor)
        count = 0
        while True:
            page_params = dict(params, limit=_SCAN_LIMIT)
            if cursor:
                page_params["cursor"] = cursor
            try:
                page = self.endpoint.call("GET", path, page_params)
            except LeanCloudError as exc:
                if not resumed or is_fatal(exc):
                    raise
                cursor, done, resumed = None, 0, False
                continue
            resumed = False
            rows = page.get("results") or []
            for index, row in enumerate(rows):
                count += 1
                if index >= done:
                    yield Item([cursor, index + 1], f"{label}#{count}", row)
            cursor, done = page.get("cursor"), 0
            if not cursor:
                return

    def _objects(self, class_name: str) -> Callable[[Any], Iterator[Item]]:
        def read(start: Any) -> Iterator[Item]:
            if self.raw:
                yield from self._pages(f"/export/classes/{class_name}", {}, class_name, start)
            else:
                params = {"returnACL": "true"}
                yield from self._pages(f"/scan/classes/{class_name}", params, class_name, start)

        return read

    def _relations(
        self, class_name: str, field: str, target: Optional[str]
    ) -> Callable[[Any], Iterator[Item]]:
        label = f"{class_name}.{field}"

        def read(start: Any) -> Iterator[Item]:
            if self.raw:
                path = f"/export/relations/{class_name}/{field}"
                yield from self._pages(path, {}, label, start)
            else:
                yield from self._related_to(class_name, field, target, label, start)

        return read

    def _related_to(
        self, class_name: str, field: str, target: Optional[str], label: str, start: Any
    ) -> Iterator[Item]:
        """Without the extension: each owner's members by a ``$relatedTo`` scan of the target
        class. The position is the number of owners already done."""
        if not target:
            raise ValueError(f"{label}: the schema does not name the relation's target class")
        owners_done = start or 0
        owners = self._pages(f"/scan/classes/{class_name}", {"keys": "objectId"}, label, None)
        for number, owner in enumerate(owners, start=1):
            if number <= owners_done:
                continue
            owner_id = owner.value["objectId"]
            where = {
                "$relatedTo": {
                    "object": {"__type": "Pointer", "className": class_name, "objectId": owner_id},
                    "key": field,
                }
            }
            members = self._pages(
                f"/scan/classes/{target}", {"where": where, "keys": "objectId"}, label, None
            )
            rows = [
                {"owningId": owner_id, "relatedId": m.value["objectId"], "relatedClassName": target}
                for m in members
            ]
            for index, row in enumerate(rows):
                # Resuming restarts this owner: re-adding a membership is a no-op.
                yield Item(
                    number - 1 if index < len(rows) - 1 else number, f"{label}:{owner_id}", row
                )


# ------------------------------------------------------------------ a data directory

_DUMP_PAGE = 1000


class DataDirSource(Source):
    """The data directory of one of our servers (``serve --data``), read directly: raw
    rows with hidden fields, relation rows and file contents. The server may be running."""

    def __init__(self, data_dir: str) -> None:
        from leancloud.server import DATABASE_FILE
        from leancloud.server.blobs import BlobStore
        from leancloud.server.storage.sqlite import SQLiteStorage

        path = os.path.join(data_dir, DATABASE_FILE)
        if not os.path.isfile(path):
            raise ValueError(f"{data_dir}: no {DATABASE_FILE} here, not a data directory")
        self.storage = SQLiteStorage(path)
        self.blobs = BlobStore(data_dir)
        self.identity = os.path.abspath(data_dir)

    def schema(self) -> Dict[str, Dict[str, dict]]:
        return self.storage.schema()

    def units(self) -> List[Unit]:
        objects, relations = [], []
        for class_name, fields in sorted(self.schema().items()):
            targets = {n: s["className"] for n, s in fields.items() if s.get("type") == "Relation"}
            objects.append(Unit(class_name, class_name, self._objects(class_name, targets)))
            for field in sorted(targets):
                reader = self._relations(class_name, field)
                relations.append(Unit(f"{class_name}.{field}", class_name, reader, field=field))
        return objects + relations

    def _objects(self, class_name: str, targets: Dict[str, str]) -> Callable[[Any], Iterator[Item]]:
        from leancloud.migration.records import to_row

        def read(start: Any) -> Iterator[Item]:
            after = start
            while True:
                page = self.storage.dump(class_name, after, _DUMP_PAGE)
                for obj in page:
                    yield Item(obj.object_id, f"{class_name}:{obj.object_id}", to_row(obj, targets))
                if len(page) < _DUMP_PAGE:
                    return
                after = page[-1].object_id

        return read

    def _relations(self, class_name: str, field: str) -> Callable[[Any], Iterator[Item]]:
        def read(start: Any) -> Iterator[Item]:
            after = tuple(start) if start else None
            while True:
                page = self.storage.dump_relations(class_name, field, after, _DUMP_PAGE)
                for owner, target_class, target in page:
                    row = {"owningId": owner, "relatedId": target, "relatedClassName": target_class}
                    yield Item([owner, target], f"{class_name}.{field}:{owner}", row)
                if len(page) < _DUMP_PAGE:
                    return
                after = (page[-1][0], page[-1][2])

        return read

    def file_content(self, row: Dict[str, Any]) -> Optional[bytes]:
        key = row.get("key")
        if not isinstance(key, str) or not key:
            return None
        try:
            with open(self.blobs.content_path(key), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def close(self) -> None:
        self.storage.close()


def source_digest(identity: str) -> str:
    """A short stable name for a source's checkpoint file."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
