"""``File``: a ``_File`` record on the server plus its bytes at a storage provider.

Saving a file with data takes three requests, as in the official SDK:

1. ``POST /fileTokens`` creates the record and answers which provider stores the bytes
   (``s3``, ``qiniu`` or ``qcloud``), with an upload URL and token;
2. the bytes go to that provider;
3. ``POST /fileCallback`` ``{"token", "result"}`` tells the server whether step 2
   worked, so that a failed upload's record can be discarded.

A file that only points at a URL (``create_with_url``) is one ``POST /files``.

Every request goes through ``leancloud.client``: the REST calls through its
``request``, the provider uploads through its pooled ``session`` (no second session).

Deliberate differences from the official SDK (same wire requests otherwise):

* ``data`` may also be a ``pathlib.Path`` (any ``os.PathLike``): the file is read from
  disk when hashing and uploading, never held in memory (except for the multipart
  qiniu/qcloud uploads, which ``requests`` builds in memory). A ``str`` is refused
  with ``TypeError``: it could be either content or a path, and the official SDK
  failed on it too (``AttributeError``). Pass bytes for content.
* The MIME type is guessed from the name's extension when not given.
* A set ACL is sent in its wire form (the official SDK could not serialise it).
* qiniu uploads use qiniu's form upload over ``requests``; no qiniu package needed.
* ``fileCallback`` is sent before ``save()`` returns (the official SDK sent it from a
  background thread); a failed upload raises ``LeanCloudError`` after reporting
  ``result: false``. The record's id and URL are set only after a successful upload.
* ``size`` is ``None`` for a file without data (the official SDK raised KeyError), and
  a ``File`` value lacking ``url`` or ``name`` decodes instead of raising KeyError.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import logging
import mimetypes
import os
import re
from typing import Any, BinaryIO, Dict, Iterator, Optional, Tuple

import requests

from leancloud import client, codec, context, object_
from leancloud.acl import ACL
from leancloud.errors import BAD_RESPONSE, CONNECTION_FAILED, TIMEOUT, LeanCloudError

__all__ = ["File", "QINIU_UPLOAD_URL"]

logger = logging.getLogger(__name__)

# qiniu's upload host when the server names none (the JS SDK's default too).
QINIU_UPLOAD_URL = "https://upload.qiniup.com"

_CHUNK = 64 * 1024
# The official SDK allows 30 s per 3.75 MB (1 Mbit/s) for an upload.
_BYTES_PER_TIMEOUT = 3_750_000
_EXTENSION = re.compile(r"\.([^.]*)$")


class _Source:
    """Where a file's bytes are: a seekable binary stream, or a path opened on demand."""

    def __init__(self, stream: Optional[BinaryIO] = None, path: Optional[str] = None) -> None:
        self.stream = stream
        self.path = path

    @contextlib.contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The bytes as a binary stream positioned at their start."""
        if self.path is not None:
            with open(self.path, "rb") as stream:
                yield stream
            return
        assert self.stream is not None
        self.stream.seek(0)
        yield self.stream

    def digest(self) -> Tuple[str, int]:
        """(md5 hex digest, size in bytes), read in chunks."""
        checksum = hashlib.md5(usedforsecurity=False)  # a checksum, not a secret
        size = 0
        with self.open() as stream:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                if not isinstance(chunk, bytes):
                    raise TypeError("file data must be bytes; open files in binary mode")
                checksum.update(chunk)
                size += len(chunk)
        return checksum.hexdigest(), size


def _seekable(stream: Any) -> bool:
    seekable = getattr(stream, "seekable", None)
    if callable(seekable):
        return bool(seekable())
    try:
        stream.seek(0, os.SEEK_END)
        stream.tell()
        stream.seek(0)
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _as_bytes(content: Any) -> bytes:
    if isinstance(content, str):
        return content.encode("utf-8")  # a text stream, as the official SDK hashed it
    return bytes(content)


def _make_source(data: Any) -> _Source:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _Source(stream=io.BytesIO(bytes(data)))
    if isinstance(data, os.PathLike):
        return _Source(path=os.fspath(data))
    if isinstance(data, str):
        raise TypeError(
            "File data must be bytes, a binary file object or a pathlib.Path; "
            "encode text to bytes, or wrap a file name in pathlib.Path"
        )
    if not callable(getattr(data, "read", None)):
        raise TypeError(
            f"File data must be bytes, a binary file object or a pathlib.Path, not {data!r}"
        )
    if isinstance(data, io.TextIOBase) or not _seekable(data):
        return _Source(stream=io.BytesIO(_as_bytes(data.read())))
    return _Source(stream=data)


def _date(value: Any) -> Optional[_dt.datetime]:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"__type": "Date", "iso": value}
    return codec.decode(value)


def _provider_request(method: str, url: str, timeout: float, **kwargs: Any) -> requests.Response:
    """One request to a storage provider through the SDK's pooled session."""
    headers = {"User-Agent": client.USER_AGENT, **kwargs.pop("headers", {})}
    try:
        return client.session.request(
            method,
            url,
            headers=headers,
            timeout=(client.TIMEOUT_SECONDS, timeout),
            hooks=client.request_hooks or None,
            **kwargs,
        )
    except requests.Timeout as exc:
        raise LeanCloudError(TIMEOUT, f"upload to {url} timed out") from exc
    except requests.RequestException as exc:
        raise LeanCloudError(CONNECTION_FAILED, f"upload to {url} failed: {exc}") from exc


def _upload_failed(provider: str, detail: str) -> LeanCloudError:
    return LeanCloudError(1, f"the file was not saved: {provider} answered {detail}")


class _FileQuery:
    """``File.query``: a new ``Query`` on ``_File`` at every access."""

    def __get__(self, instance: Any, owner: type) -> Any:
        from leancloud.query import Query  # late: query imports object_, which we extend

        return Query(owner._class_name)


class File:
    """A file stored by LeanCloud; ``data`` is bytes, a binary file object or a Path."""

    _class_name = "_File"  # queries and pointers treat it like an Object class
    query = _FileQuery()

    def __init__(self, name: str = "", data: Any = None, mime_type: Optional[str] = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"a file name must be a string, not {name!r}")
        if mime_type is not None and not isinstance(mime_type, str):
            raise TypeError(f"mime_type must be a string, not {mime_type!r}")
        self._name = name
        self.key: Optional[str] = None
        self.id: Optional[str] = None
        self.created_at: Optional[_dt.datetime] = None
        self.updated_at: Optional[_dt.datetime] = None
        self._url: Optional[str] = None
        self._successful_url: Optional[str] = None
        self._acl: Optional[ACL] = None
        # Seconds allowed for an upload of up to 3.75 MB; larger files get more.
        self.timeout: float = 30
        extension = _EXTENSION.findall(name)
        self.extension = extension[0].lower() if extension else ""
        self._mime_type = mime_type or mimetypes.guess_type(name)[0]
        user = context.current_user.get()
        self._metadata: Dict[str, Any] = {"owner": getattr(user, "id", None) or "unknown"}
        self._source: Optional[_Source] = None
        if data is not None:
            self._source = _make_source(data)
            checksum, size = self._source.digest()
            self._metadata["_checksum"] = checksum
            self._metadata["size"] = size

    # -- constructors ------------------------------------------------------------

    @classmethod
    def create_with_url(
        cls,
        name: str,
        url: str,
        meta_data: Optional[Dict[str, Any]] = None,
        mime_type: Optional[str] = None,
    ) -> File:
        """A file whose bytes stay at ``url``; ``save()`` only creates its record."""
        if not isinstance(url, str):
            raise ValueError("url must be a str")
        if meta_data is not None and not isinstance(meta_data, dict):
            raise TypeError(f"meta_data must be a dict, not {meta_data!r}")
        f = cls(name, None, mime_type)
        f._metadata.update(meta_data or {})
        f._url = url
        f._metadata["__source"] = "external"
        return f

    @classmethod
    def create_without_data(cls, object_id: str) -> File:
        """A reference to a saved file, to ``fetch()``, ``destroy()`` or point at."""
        f = cls("")
        f.id = object_id
        return f

    # -- properties --------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def url(self) -> Optional[str]:
        """The file's URL once it is saved (or fetched)."""
        return self._successful_url

    @property
    def mime_type(self) -> Optional[str]:
        return self._mime_type

    @mime_type.setter
    def mime_type(self, mime_type: Optional[str]) -> None:
        self._mime_type = mime_type

    # The official SDK's spelling: ``f.set_mime_type = "image/png"``.
    set_mime_type = mime_type

    @property
    def size(self) -> Optional[int]:
        return self._metadata.get("size")

    @property
    def owner_id(self) -> Optional[str]:
        return self._metadata.get("owner")

    @property
    def metadata(self) -> Dict[str, Any]:
        return self._metadata

    def get_acl(self) -> Optional[ACL]:
        return self._acl

    def set_acl(self, acl: ACL) -> None:
        if not isinstance(acl, ACL):
            raise TypeError("acl must be a leancloud.ACL instance")
        self._acl = acl

    def get_thumbnail_url(
        self,
        width: int,
        height: int,
        quality: int = 100,
        scale_to_fit: bool = True,
        fmt: str = "png",
    ) -> str:
        """The URL of a resized copy (qiniu's ``imageView`` convention, as LeanCloud used)."""
        if not self.url:
            raise ValueError("invalid url")
        for value in (width, height, quality):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"width, height and quality must be numbers, not {value!r}")
        if width < 0 or height < 0:
            raise ValueError("invalid height or width params")
        if quality > 100 or quality <= 0:
            raise ValueError("quality must between 0 and 100")
        mode = 2 if scale_to_fit else 1
        return f"{self.url}?imageView/{mode}/w/{width}/h/{height}/q/{quality}/format/{fmt}"

    # -- requests ----------------------------------------------------------------

    def save(self) -> None:
        """Upload the data (or, for ``create_with_url``, create the record).

        A file without data and without a URL has nothing to save (as in the
        official SDK). Each call creates a new record.
        """
        if self._url and self._metadata.get("__source") == "external":
            self._save_external()
        elif self._source is not None:
            self._upload()

    def fetch(self) -> File:
        """Replace the local fields with the server's ``_File`` record."""
        if not self.id:
            raise ValueError("cannot fetch a file that has no objectId")
        self._update_data(client.get(f"/files/{client.segment(self.id)}").json())
        return self

    def destroy(self) -> Optional[bool]:
        """Delete the record (and the stored bytes); ``False`` for an unsaved file.

        A refusal raises the server's ``LeanCloudError`` (the client raises on any error).
        """
        if not self.id:
            return False
        client.delete(f"/files/{client.segment(self.id)}")
        return None

    def _record_body(self) -> Dict[str, Any]:
        return {
            "name": self._name,
            "ACL": self._acl.dump() if self._acl is not None else None,
            "mime_type": self._mime_type,
            "metaData": self._metadata,
        }

    def _save_external(self) -> None:
        body = dict(self._record_body(), url=self._url)
        content = client.post("/files", body).json()
        if not isinstance(content, dict) or not content.get("objectId"):
            raise LeanCloudError(BAD_RESPONSE, "POST /files answered no objectId")
        self._update_data({k: v for k, v in content.items() if k != "url"})
        self._successful_url = self._url

    def _upload(self) -> None:
        body = self._record_body()
        if self.key is not None:
            body["key"] = self.key  # a custom key needs the master key
        info = client.post("/fileTokens", body).json()
        if not isinstance(info, dict) or not info.get("objectId"):
            raise LeanCloudError(BAD_RESPONSE, "POST /fileTokens answered no objectId")
        token = info.get("token")
        try:
            self._upload_to_provider(info)
        except (LeanCloudError, OSError, ValueError):
            # OSError/ValueError: the data went away (a deleted path, a closed stream).
            self._file_callback(token, False)
            raise
        self._file_callback(token, True)
        self._update_data(info)

    def _upload_to_provider(self, info: Dict[str, Any]) -> None:
        provider = info.get("provider")
        upload = {"s3": self._upload_s3, "qiniu": self._upload_qiniu, "qcloud": self._upload_qcloud}
        if provider not in upload:
            raise LeanCloudError(1, f"the server named no known storage provider: {provider!r}")
        upload[provider](info)

    def _upload_timeout(self) -> float:
        size = self._metadata.get("size") or 0
        return self.timeout * max(1.0, size / _BYTES_PER_TIMEOUT)

    def _upload_mime_type(self, info: Dict[str, Any]) -> str:
        return info.get("mime_type") or self._mime_type or "application/octet-stream"

    def _needed(self, info: Dict[str, Any], field: str) -> str:
        value = info.get(field)
        if not isinstance(value, str) or not value:
            raise LeanCloudError(1, f"the {info.get('provider')} upload needs a {field!r}")
        return value

    def _upload_s3(self, info: Dict[str, Any]) -> None:
        url = self._needed(info, "upload_url")
        assert self._source is not None
        with self._source.open() as stream:
            response = _provider_request(
                "PUT",
                url,
                self._upload_timeout(),
                data=stream,
                headers={"Content-Type": self._upload_mime_type(info)},
            )
        if not 200 <= response.status_code < 300:
            raise _upload_failed("S3", f"HTTP {response.status_code}")

    def _upload_qiniu(self, info: Dict[str, Any]) -> None:
        token = self._needed(info, "token")
        fields = {"token": token}
        key = info.get("key")
        if key:
            fields["key"] = key
        url = info.get("upload_url") or QINIU_UPLOAD_URL
        response = self._post_multipart(url, fields, "file", info)
        if response.status_code != 200:
            raise _upload_failed("qiniu", f"HTTP {response.status_code}")

    def _upload_qcloud(self, info: Dict[str, Any]) -> None:
        token = self._needed(info, "token")
        url = self._needed(info, "upload_url")
        response = self._post_multipart(
            url, {"op": "upload"}, "filecontent", info, headers={"Authorization": token}
        )
        try:
            code = response.json().get("code")
        except (ValueError, AttributeError):
            code = None
        if code != 0:
            raise _upload_failed("qcloud", f"HTTP {response.status_code}, code {code!r}")

    def _post_multipart(
        self,
        url: str,
        fields: Dict[str, str],
        file_field: str,
        info: Dict[str, Any],
        headers: Optional[Dict[str, str]] = None,
    ) -> requests.Response:
        assert self._source is not None
        filename = self._name or info.get("key") or "file"
        with self._source.open() as stream:
            return _provider_request(
                "POST",
                url,
                self._upload_timeout(),
                data=fields,
                files={file_field: (filename, stream, self._upload_mime_type(info))},
                headers=headers or {},
            )

    @staticmethod
    def _file_callback(token: Optional[str], succeeded: bool) -> None:
        """Report the upload's outcome; a failure to report is only logged, as before."""
        if not token:
            return
        try:
            client.post("/fileCallback", {"token": token, "result": succeeded})
        except LeanCloudError as exc:
            logger.warning("file callback failed: %s", exc)

    # -- wire forms --------------------------------------------------------------

    def _update_data(self, server_data: Dict[str, Any]) -> None:
        """Take the fields of a ``_File`` record (or a ``fileTokens`` answer)."""
        if "objectId" in server_data:
            self.id = server_data["objectId"]
        if "name" in server_data:
            self._name = server_data["name"]
        if "url" in server_data:
            self._url = self._successful_url = server_data["url"]
        if "key" in server_data:
            self.key = server_data["key"]
        if "mime_type" in server_data:
            self._mime_type = server_data["mime_type"]
        if isinstance(server_data.get("metaData"), dict):
            self._metadata = dict(server_data["metaData"])
        if isinstance(server_data.get("ACL"), dict):
            self._acl = ACL(server_data["ACL"])
        created_at = _date(server_data.get("createdAt"))
        updated_at = _date(server_data.get("updatedAt")) or created_at
        if created_at is not None:
            self.created_at = created_at
        if updated_at is not None:
            self.updated_at = updated_at

    def _lc_encode(self, dump_objects: bool = False) -> Dict[str, Any]:
        if not self.url and not self.id:
            raise ValueError("Tried to save an object containing an unsaved file.")
        return {"__type": "File", "id": self.id, "name": self.name, "url": self.url}

    def _lc_save_before_parent(self) -> None:
        """Upload the file if it has no record yet, so that its parent can point at it."""
        if not self.id:
            self.save()

    def __repr__(self) -> str:
        return f"<File name={self._name!r} objectId={self.id!r}>"


@codec.register_decoder("File")
def _decode_file(value: Dict[str, Any]) -> File:
    """A ``File`` value: expanded as the server sends it, or just ``{"id": ...}``."""
    f = File(value.get("name") or "")
    f._update_data(value)
    if f.id is None and isinstance(value.get("id"), str):
        f.id = value["id"]
    return f


# ``Query("File")``, ``Query("_File")``, ``File.query`` and ``_File`` pointers all build
# Files: the Object class registry is where class names are looked up.
object_._classes[File._class_name] = File  # type: ignore[assignment]
