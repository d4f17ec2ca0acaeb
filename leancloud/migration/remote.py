"""A LeanCloud-compatible server reached with its master key: a source or a target.

Migration talks to two apps at once (the old one and the new one), so it cannot use the
SDK's process-wide ``leancloud.init`` settings; it reuses the SDK client's keep-alive
session (with its safe retries) and its error mapping instead of a second HTTP stack.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from leancloud import client
from leancloud.errors import LeanCloudError

__all__ = ["Endpoint", "download", "is_fatal"]


class Endpoint:
    """``Endpoint("https://api.example.com", app_id, master_key)``."""

    def __init__(self, url: str, app_id: str, master_key: str, timeout: float = 60.0) -> None:
        for name, value in (("url", url), ("app id", app_id), ("master key", master_key)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"a server needs its {name}")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url.rstrip("/")
        self.app_id = app_id
        self._headers = {
            "X-LC-Id": app_id,
            "X-LC-Key": f"{master_key},master",
            "User-Agent": client.USER_AGENT,
        }
        self._timeout = timeout

    def call(
        self,
        method: str,
        path: str,
        params: Optional[Mapping[str, Any]] = None,
        body: Any = None,
    ) -> Any:
        """One REST call under ``/1.1``; the decoded JSON, or ``LeanCloudError``."""
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        query = {
            key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            for key, value in (params or {}).items()
        }
        response = client.session.request(
            method,
            f"{self.url}/1.1{path}",
            params=query,
            data=data,
            headers={**self._headers, "Content-Type": "application/json;charset=utf-8"},
            timeout=self._timeout,
        )
        return client.check_response(response)

    def put_bytes(self, path: str, params: Mapping[str, str], content: bytes) -> Any:
        """Raw bytes to a master-key route (file contents)."""
        response = client.session.put(
            f"{self.url}/1.1{path}",
            params=dict(params),
            data=content,
            headers={**self._headers, "Content-Type": "application/octet-stream"},
            timeout=self._timeout,
        )
        return client.check_response(response)


def download(url: str, timeout: float = 60.0) -> bytes:
    """A file's content from its public URL (no LeanCloud headers: CDNs do not want them)."""
    response = client.session.get(url, timeout=timeout)
    response.raise_for_status()
    return response.content


def is_fatal(exc: Exception) -> bool:
    """Errors no later request would escape (bad keys, a failing server): stop, do not
    report every remaining row as failed. Resuming picks up from the checkpoint."""
    code = getattr(exc, "code", None)
    return isinstance(exc, LeanCloudError) and (code in (401, 403) or (code or 0) >= 500)
