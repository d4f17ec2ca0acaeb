"""Files: ``_File`` records, their uploads and their content.

The upload flow is LeanCloud's with this server as the ``s3`` provider (the one the
Python SDK can use without third-party libraries):

1. ``create_upload`` (``POST /fileTokens``) creates the ``_File`` record and a pending
   upload: a master-only ``UPLOAD_CLASS`` row keyed by the sha256 of a fresh random
   token, expiring after ``UPLOAD_TTL`` seconds. The token is answered as ``token`` and
   inside ``upload_url``; the database never holds it in clear.
2. ``receive_upload`` (``PUT upload_url``) stores the bytes once, checking the size
   limit and, when ``metaData`` gave them, ``size`` and ``_checksum`` (md5).
3. ``file_callback`` (``POST /fileCallback``): ``result: true`` closes the upload,
   ``false`` discards the record and its content.

Uploads never reported are forgotten a few at a time by later ``create_upload`` calls
once expired; a record whose content never arrived goes with them.

Content is served from ``<base>/files/<key>`` without credentials, as LeanCloud's CDN
did; keys are random unless the master key chose one. The record's ``url`` is absolute
and stored with it (``base`` = the configured public URL, else the request's host).
Deleting a record deletes its content, after the transaction commits.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import secrets
import time
from typing import Any, BinaryIO, Dict, List, Mapping, Optional, Sequence, Tuple

from leancloud.server.blobs import BlobStore, Staged
from leancloud.server.errors import ApiError
from leancloud.server.principal import MASTER, Principal
from leancloud.server.query import MAX_LIMIT, parse_query
from leancloud.server.services import objects
from leancloud.server.services.ops import apply_changes, check_acl
from leancloud.server.storage.base import Storage, StoredObject, WriteTx

FILE_CLASS = "_File"
UPLOAD_CLASS = "_FileUpload"
PROVIDER = "s3"  # the SDKs PUT the bytes to upload_url for this provider
BUCKET = "local"
UPLOAD_TTL = 3600  # seconds an upload URL stays usable
SERVE_PREFIX = "/files/"
# Fields the server owns on a _File record: only the master key may write them.
SERVER_FIELDS = ("key", "url", "bucket", "provider")
_DEFAULT_TYPE = "application/octet-stream"
_KEY_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]+\Z")
_MAX_KEY_LENGTH = 512
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,16})\Z")
_MD5 = re.compile(r"[0-9a-fA-F]{32}\Z")
_PURGE_BATCH = 20  # expired uploads forgotten per new upload
# Upload rows are keyed by a token's sha256; any other row was not made here (a client can
# add rows to any class it can name, but cannot choose their ids) and is never trusted.
_TOKEN_ID = "^[0-9a-f]{64}$"

# The clock, looked up at call time so tests can move it instead of sleeping.
now = time.time


# --- names, keys and URLs ---------------------------------------------------------


def is_valid_key(key: Any) -> bool:
    """Path-like keys (``avatars/a.png``): no empty, ``.`` or ``..`` segments, no odd bytes."""
    if not isinstance(key, str) or not key or len(key) > _MAX_KEY_LENGTH:
        return False
    return all(_KEY_SEGMENT.match(part) and part.strip(".") for part in key.split("/"))


def file_url(base_url: str, key: str) -> str:
    return base_url.rstrip("/") + SERVE_PREFIX + key


def _name(body: Mapping[str, Any]) -> str:
    name = body.get("name")
    if name is None:
        return ""
    if not isinstance(name, str):
        raise ApiError(122, "Invalid file name.")
    return name


def _mime_type(body: Mapping[str, Any], name: str) -> str:
    given = body.get("mime_type")
    if given is not None and not isinstance(given, str):
        raise ApiError(107, "mime_type must be a string.")
    return given or mimetypes.guess_type(name)[0] or _DEFAULT_TYPE


def _metadata(body: Mapping[str, Any]) -> Dict[str, Any]:
    meta = body.get("metaData")
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ApiError(107, "metaData must be a JSON object.")
    return dict(meta)


def _new_key(name: str) -> str:
    """A random key keeping the name's extension, like LeanCloud's."""
    extension = _EXTENSION.search(name)
    return secrets.token_hex(16) + ("." + extension.group(1).lower() if extension else "")


def _check_server_fields(principal: Principal, body: Mapping[str, Any]) -> None:
    if principal.master:
        return
    for field in body:
        name = str(field).split(".")[0]  # dotted paths into a field count as the field
        if name in SERVER_FIELDS:
            raise ApiError(1, f"Unsupported file {name}: only the master key may set it.")


def _find_by_key(reader: Any, key: str) -> List[dict]:
    query = parse_query(FILE_CLASS, {"where": {"key": key}, "limit": 1, "keys": "objectId"})
    return reader.find(query, MASTER)


def _insert_file(tx: WriteTx, data: Dict[str, Any], acl: Any, stamp: str) -> StoredObject:
    """Validate ``data`` like any write and insert the record."""
    changes = apply_changes({}, data, creating=True)
    record = StoredObject(FILE_CLASS, objects.new_object_id(), stamp, stamp, changes.data, acl)
    tx.ensure_fields(FILE_CLASS, changes.field_types())
    tx.insert(record)
    return record


def _internal_data(
    principal: Principal, body: Mapping[str, Any], base_url: str
) -> Tuple[Dict[str, Any], Any]:
    """The fields and ACL of a record whose content this server keeps."""
    name = _name(body)
    key = body.get("key")
    if key is None:
        key = _new_key(name)
    elif not principal.master:
        raise ApiError(1, "Unsupported file key: only the master key may choose one.")
    elif not is_valid_key(key):
        raise ApiError(1, f"Unsupported file key: {key!r}.")
    data = {
        "name": name,
        "key": key,
        "url": file_url(base_url, key),
        "mime_type": _mime_type(body, name),
        "bucket": BUCKET,
        "provider": PROVIDER,
        "metaData": _metadata(body),
    }
    return data, check_acl(body.get("ACL"))


# --- the upload flow ----------------------------------------------------------------


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_upload(
    storage: Storage, principal: Principal, body: Mapping[str, Any], base_url: str
) -> Dict[str, Any]:
    """``/fileTokens``: the new record's fields plus where and how to upload its bytes."""
    data, acl = _internal_data(principal, body, base_url)
    token = secrets.token_urlsafe(32)
    stamp = objects.now()
    with storage.write() as tx:
        _purge_expired(tx)
        if body.get("key") is not None and _find_by_key(tx, data["key"]):
            raise ApiError(137, f"A file with the key {data['key']!r} already exists.")
        record = _insert_file(tx, data, acl, stamp)
        pending = {"file": record.object_id, "expiresAt": now() + UPLOAD_TTL, "uploaded": False}
        tx.insert(StoredObject(UPLOAD_CLASS, _token_id(token), stamp, stamp, pending, {}))
    return {
        **record.data,
        "objectId": record.object_id,
        "createdAt": stamp,
        "token": token,
        "upload_url": base_url.rstrip("/") + "/1.1/fileUploads/" + token,
    }


def _purge_expired(tx: WriteTx) -> None:
    """Forget a few expired uploads: a record whose content never came is removed with
    its upload (its URL could only ever answer 404); a finished one just loses it.
    Only rows this module made count (``_TOKEN_ID``): a forged row naming someone
    else's file must not delete it."""
    where = {"expiresAt": {"$lt": now()}, "objectId": {"$regex": _TOKEN_ID}}
    query = parse_query(UPLOAD_CLASS, {"where": where, "limit": _PURGE_BATCH})
    for row in tx.find(query, MASTER):
        tx.delete(UPLOAD_CLASS, row["objectId"])
        if not row.get("uploaded") and isinstance(row.get("file"), str):
            tx.delete(FILE_CLASS, row["file"])


def _pending(tx: WriteTx, token: str) -> Tuple[StoredObject, StoredObject]:
    """The pending upload and its record, or the reason the token is not usable."""
    pending = tx.get(UPLOAD_CLASS, _token_id(token))
    record = tx.get(FILE_CLASS, pending.data.get("file", "")) if pending else None
    if pending is None or record is None:
        raise ApiError(1, "Unknown or discarded upload.", 404)
    return pending, record


def _check_uploadable(pending: StoredObject) -> None:
    if pending.data.get("uploaded"):
        raise ApiError(1, "This upload URL has already been used.", 409)
    if now() > pending.data.get("expiresAt", 0):
        raise ApiError(1, "This upload URL has expired.", 403)


def _check_content(meta: Mapping[str, Any], staged: Staged) -> None:
    """The bytes must be what ``metaData`` announced (when it announced anything)."""
    size = meta.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size != staged.size:
        raise ApiError(1, f"The upload has {staged.size} bytes; metaData.size says {size}.")
    checksum = meta.get("_checksum")
    if isinstance(checksum, str) and _MD5.match(checksum) and checksum.lower() != staged.md5:
        raise ApiError(1, "The upload does not match metaData._checksum.")


def _commit(tx: WriteTx, record: StoredObject, staged: Staged) -> None:
    """Put the content in place and complete the record's size and checksum.

    ``updatedAt`` stays: the record is still as created (the SDKs compare the two).
    """
    staged.commit(record.data["key"], record.data.get("mime_type"))
    meta = record.data.get("metaData")
    meta = dict(meta) if isinstance(meta, dict) else {}
    if "size" not in meta or "_checksum" not in meta:
        meta.setdefault("size", staged.size)
        meta.setdefault("_checksum", staged.md5)
        record.data["metaData"] = meta
        tx.update(record)


def receive_upload(
    storage: Storage, blobs: BlobStore, token: str, stream: BinaryIO, limit: int
) -> None:
    """``PUT upload_url``: store the bytes, once, before the URL expires."""
    with storage.write() as tx:
        pending, record = _pending(tx, token)
        _check_uploadable(pending)
    staged = blobs.stage(stream, limit)  # slow part, outside the write lock
    try:
        _check_content(record.data.get("metaData") or {}, staged)
        with storage.write() as tx:
            pending, record = _pending(tx, token)
            _check_uploadable(pending)  # again: another PUT may have won meanwhile
            _commit(tx, record, staged)
            pending.data["uploaded"] = True
            tx.update(pending)
    finally:
        staged.discard()  # a no-op once committed


def file_callback(storage: Storage, blobs: BlobStore, body: Mapping[str, Any]) -> None:
    """``/fileCallback``: ``result: true`` closes the upload; ``false`` discards the file."""
    token, result = body.get("token"), body.get("result")
    if not isinstance(token, str) or not token:
        raise ApiError(1, "The file token is missing.")
    if not isinstance(result, bool):
        raise ApiError(1, "The callback's result must be true or false.")
    with storage.write() as tx:
        pending = tx.get(UPLOAD_CLASS, _token_id(token))
        if pending is None:
            raise ApiError(1, "Invalid file token.")
        if result and not pending.data.get("uploaded"):
            raise ApiError(1, "The file's content has not been uploaded.")
        tx.delete(UPLOAD_CLASS, pending.object_id)
        record = None if result else tx.get(FILE_CLASS, pending.data.get("file", ""))
        if record is not None:
            tx.delete(FILE_CLASS, record.object_id)
    if record is not None:
        _delete_content(blobs, record.data)


# --- other ways to create a file -----------------------------------------------------


def create_external(
    storage: Storage, principal: Principal, body: Mapping[str, Any]
) -> Dict[str, Any]:
    """``POST /files``: a record for content that stays at its own ``url``."""
    url = body.get("url")
    if not isinstance(url, str) or not url:
        raise ApiError(1, "An external file needs a url.")
    _check_server_fields(principal, {k: v for k, v in body.items() if k != "url"})
    name = _name(body)
    meta = {**_metadata(body), "__source": "external"}
    fields = {**body, "name": name, "mime_type": _mime_type(body, name), "metaData": meta}
    return objects.create_object(storage, principal, FILE_CLASS, fields)


def upload_raw(
    storage: Storage,
    principal: Principal,
    blobs: BlobStore,
    name: str,
    mime_type: Optional[str],
    stream: BinaryIO,
    limit: int,
    base_url: str,
) -> Dict[str, Any]:
    """The legacy ``POST /files/<name>``: record and content in one request."""
    data, _ = _internal_data(principal, {"name": name, "mime_type": mime_type}, base_url)
    staged = blobs.stage(stream, limit)
    data["metaData"] = {
        "owner": principal.user_id or "unknown",
        "size": staged.size,
        "_checksum": staged.md5,
    }
    stamp = objects.now()
    try:
        with storage.write() as tx:
            record = _insert_file(tx, data, None, stamp)
            staged.commit(data["key"], data["mime_type"])
    finally:
        staged.discard()
    return {
        "objectId": record.object_id,
        "createdAt": stamp,
        "size": staged.size,
        "bucket": BUCKET,
        "url": data["url"],
        "name": name,
    }


# --- updates and deletes --------------------------------------------------------------


def update_file(
    storage: Storage,
    principal: Principal,
    file_id: str,
    body: Mapping[str, Any],
    where: Any = None,
    fetch: bool = False,
) -> Dict[str, Any]:
    """The generic update, except for the fields that tie a record to its content."""
    _check_server_fields(principal, body)
    return objects.update_object(storage, principal, FILE_CLASS, file_id, body, where, fetch)


def _is_internal(data: Mapping[str, Any]) -> bool:
    """Whether this server keeps the record's content (not an external or imported file)."""
    meta = data.get("metaData")
    external = isinstance(meta, dict) and meta.get("__source") == "external"
    return data.get("bucket") == BUCKET and not external and is_valid_key(data.get("key"))


def _delete_content(blobs: BlobStore, data: Mapping[str, Any]) -> None:
    if _is_internal(data):
        blobs.delete(data["key"])


def delete_files(
    storage: Storage,
    principal: Principal,
    blobs: BlobStore,
    file_ids: Sequence[str],
    where: Any = None,
) -> None:
    """The generic delete (write ACL; master bypasses), then the records' content.

    Keys are read first: only the master key can change one, and a record's id is never
    reused, so the content of every record the delete removed is known.
    """
    records: List[dict] = []
    for start in range(0, len(file_ids), MAX_LIMIT):
        ids = list(file_ids[start : start + MAX_LIMIT])
        where_ids = {"where": {"objectId": {"$in": ids}}, "limit": MAX_LIMIT}
        records += storage.find(
            parse_query(FILE_CLASS, {**where_ids, "keys": "key,bucket,metaData"}), MASTER
        )
    objects.delete_objects(storage, principal, FILE_CLASS, file_ids, where)
    for data in records:
        _delete_content(blobs, data)
