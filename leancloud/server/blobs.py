"""File content on disk: ``<data_dir>/files``, addressed by the file's key.

Not SQL, so it lives outside the storage adapter. A key never becomes a path: the
content of key ``k`` is ``<root>/<h[:2]>/<h>`` with ``h = sha256(k)``, so no key (``..``,
absolute paths, odd bytes) can reach outside the root. Next to it, ``<h>.json`` keeps
the MIME type the content is served with.

Writes are two-step so that a transaction can decide: ``stage()`` copies a stream into
a temporary file (fsync'd, size-capped, md5 computed on the way), then ``Staged.commit``
renames it into place (atomic) and fsyncs the directory, or ``Staged.discard`` drops it.
A reader therefore sees a key's old content or its new content, never a partial one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from typing import BinaryIO, Callable, Optional, Tuple

from leancloud.server.errors import ApiError

__all__ = ["Blob", "BlobStore", "Staged", "FILES_DIR"]

FILES_DIR = "files"
_CHUNK = 1024 * 1024
_DEFAULT_TYPE = "application/octet-stream"


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: str, data: bytes) -> None:
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_dir(directory)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@dataclass(frozen=True)
class Blob:
    """What ``BlobStore.read`` found: the bytes asked for, out of ``size`` in all."""

    content: Optional[bytes]
    mime_type: str
    size: int
    slice: Optional[Tuple[int, int]]  # (start, stop) of ``content``; None: unsatisfiable


@dataclass
class Staged:
    """Uploaded bytes waiting in a temporary file for ``commit`` or ``discard``."""

    store: "BlobStore"
    path: str
    size: int
    md5: str
    committed: bool = False

    def commit(self, key: str, mime_type: Optional[str]) -> None:
        """Make this the content of ``key`` (replacing any previous content)."""
        target = self.store.content_path(key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        meta = json.dumps({"key": key, "mime_type": mime_type or _DEFAULT_TYPE})
        _write_atomically(target + ".json", meta.encode("utf-8"))
        os.replace(self.path, target)
        self.committed = True
        _fsync_dir(os.path.dirname(target))

    def discard(self) -> None:
        """Drop the bytes unless committed (safe to call in any ``finally``)."""
        if not self.committed:
            _unlink(self.path)


class BlobStore:
    """``BlobStore(data_dir)``: the content of uploaded files, by key."""

    def __init__(self, data_dir: str) -> None:
        self.root = os.path.join(data_dir, FILES_DIR)
        self._tmp = os.path.join(self.root, "tmp")
        os.makedirs(self._tmp, mode=0o700, exist_ok=True)

    def content_path(self, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return os.path.join(self.root, digest[:2], digest)

    def stage(self, stream: BinaryIO, limit: int) -> Staged:
        """Copy ``stream`` to a temporary file; more than ``limit`` bytes is ApiError 413."""
        fd, path = tempfile.mkstemp(dir=self._tmp)
        checksum = hashlib.md5(usedforsecurity=False)  # a checksum, not a secret
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in iter(lambda: stream.read(_CHUNK), b""):
                    size += len(chunk)
                    if size > limit:
                        raise ApiError(413, f"The file is larger than {limit} bytes.", 413)
                    checksum.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            _unlink(path)
            raise
        return Staged(self, path, size, checksum.hexdigest())

    def read(
        self, key: str, byte_range: Optional[Callable[[int], Optional[Tuple[int, int]]]] = None
    ) -> Optional[Blob]:
        """The content of ``key`` (None when there is none).

        ``byte_range`` maps the content's size to the ``(start, stop)`` slice wanted, or
        to None when no slice fits; then ``Blob.content`` is None (HTTP's 416).
        """
        path = self.content_path(key)
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return None
        with handle:
            size = os.fstat(handle.fileno()).st_size
            wanted = (0, size) if byte_range is None else byte_range(size)
            content = None
            if wanted is not None:
                handle.seek(wanted[0])
                content = handle.read(wanted[1] - wanted[0])
        return Blob(content, self._mime_type(path), size, wanted)

    @staticmethod
    def _mime_type(path: str) -> str:
        try:
            with open(path + ".json", encoding="utf-8") as handle:
                return json.load(handle).get("mime_type") or _DEFAULT_TYPE
        except (FileNotFoundError, ValueError, AttributeError):
            return _DEFAULT_TYPE

    def delete(self, key: str) -> None:
        """Remove the content of ``key`` (nothing to remove is fine)."""
        path = self.content_path(key)
        _unlink(path)
        _unlink(path + ".json")
