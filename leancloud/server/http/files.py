"""Files over HTTP: ``/1.1/fileTokens``, uploads, ``/1.1/fileCallback``, ``/1.1/files``,
the writes of ``/1.1/classes/_File``, and the content itself at ``/files/<key>``.

Upload URLs and file URLs need no LeanCloud credentials (the SDKs send none to a
storage provider, and a browser's ``<img src>`` cannot): the upload token or the
random key is the secret. Reads of ``/1.1/classes/_File`` stay the generic ones.
"""

from __future__ import annotations

import functools
import io
from typing import Any, Dict

from werkzeug.http import parse_range_header
from werkzeug.routing import Rule

from leancloud.server.blobs import BlobStore
from leancloud.server.errors import ApiError
from leancloud.server.http.objects import fetch_when_save, write_body
from leancloud.server.http.request import ApiRequest, Reply, public
from leancloud.server.services import files, objects
from leancloud.server.services.files import FILE_CLASS

# What a Host header may hold before it becomes part of a stored URL.
# Served content is the uploader's: never sniffed, never run as a page of this origin.
_CONTENT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    "Cache-Control": "public, max-age=3600",
    "Accept-Ranges": "bytes",
}


@functools.lru_cache(maxsize=None)
def _blob_store(data_dir: str) -> BlobStore:
    return BlobStore(data_dir)


def blobs(request: ApiRequest) -> BlobStore:
    return _blob_store(request.config.data_dir)


def file_tokens(request: ApiRequest) -> Dict[str, Any]:
    return files.create_upload(
        request.storage, request.principal, request.json_object(), request.public_url()
    )


@public
def upload(request: ApiRequest, token: str) -> Dict[str, Any]:
    files.receive_upload(
        request.storage,
        blobs(request),
        token,
        io.BytesIO(request.raw_body),
        request.config.max_file_bytes,
    )
    return {}


def file_callback(request: ApiRequest) -> Dict[str, Any]:
    files.file_callback(request.storage, blobs(request), request.json_object())
    return {}


def create_external(request: ApiRequest) -> Reply:
    result = files.create_external(request.storage, request.principal, write_body(request))
    return Reply(result, 201, {"Location": f"/1.1/files/{result['objectId']}"})


def upload_raw(request: ApiRequest, name: str) -> Reply:
    """The legacy one-request upload: the body is the content, its type the file's."""
    content_type = request.headers.get("Content-Type") or None
    result = files.upload_raw(
        request.storage,
        request.principal,
        blobs(request),
        name,
        content_type.split(";")[0].strip() if content_type else None,
        io.BytesIO(request.raw_body),
        request.config.max_file_bytes,
        request.public_url(),
    )
    return Reply(result, 201, {"Location": f"/1.1/files/{result['objectId']}"})


def find(request: ApiRequest) -> Dict[str, Any]:
    return objects.find_objects(request.storage, request.principal, FILE_CLASS, request.params)


def get(request: ApiRequest, file_id: str) -> Dict[str, Any]:
    return objects.get_object(
        request.storage, request.principal, FILE_CLASS, file_id, request.params
    )


def update(request: ApiRequest, file_id: str) -> Dict[str, Any]:
    return files.update_file(
        request.storage,
        request.principal,
        file_id,
        write_body(request),
        where=request.params.get("where"),
        fetch=fetch_when_save(request),
    )


def delete(request: ApiRequest, file_ids: str) -> Dict[str, Any]:
    write_body(request)  # only flags, checked as on any delete
    files.delete_files(
        request.storage,
        request.principal,
        blobs(request),
        objects.parse_ids(file_ids),
        request.params.get("where"),
    )
    return {}


@public
def content(request: ApiRequest, key: str) -> Reply:
    """A file's bytes with its type, or the one byte range asked for (players need them);
    unknown and malformed keys alike are 404."""
    ranges = parse_range_header(request.headers.get("Range"))
    if ranges is not None and len(ranges.ranges) != 1:
        ranges = None  # several ranges: the whole content is a valid answer too
    found = files.is_valid_key(key) and blobs(request).read(
        key, ranges.range_for_length if ranges else None
    )
    if not found:
        raise ApiError(404, "File not found.", 404)
    if found.slice is None:
        unsatisfiable = {"code": 416, "error": "Requested range not satisfiable."}
        return Reply(unsatisfiable, 416, {"Content-Range": f"bytes */{found.size}"})
    headers = {**_CONTENT_HEADERS, "Content-Type": found.mime_type}
    if ranges is None:
        return Reply(found.content, 200, headers)
    start, stop = found.slice
    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{found.size}"
    return Reply(found.content, 206, headers)


RULES = [
    Rule("/1.1/fileTokens", methods=["POST"], endpoint=file_tokens),
    Rule("/1.1/fileUploads/<token>", methods=["PUT"], endpoint=upload),
    Rule("/1.1/fileCallback", methods=["POST"], endpoint=file_callback),
    Rule("/1.1/files", methods=["POST"], endpoint=create_external),
    Rule("/1.1/files", methods=["GET"], endpoint=find),
    Rule("/1.1/files/<name>", methods=["POST"], endpoint=upload_raw),
    Rule("/1.1/files/<file_id>", methods=["GET"], endpoint=get),
    Rule("/1.1/files/<file_id>", methods=["PUT"], endpoint=update),
    Rule("/1.1/files/<file_ids>", methods=["DELETE"], endpoint=delete),
    Rule(f"/1.1/classes/{FILE_CLASS}", methods=["POST"], endpoint=create_external),
    Rule(f"/1.1/classes/{FILE_CLASS}/<file_id>", methods=["PUT"], endpoint=update),
    Rule(f"/1.1/classes/{FILE_CLASS}/<file_ids>", methods=["DELETE"], endpoint=delete),
    Rule(files.SERVE_PREFIX + "<path:key>", methods=["GET"], endpoint=content),
]
