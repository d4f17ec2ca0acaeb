"""Which host serves which API for a LeanCloud app (the "app router").

Used only when no ``LEANCLOUD_API_SERVER`` is set. The default hosts follow
LeanCloud's rules for an app id and region; a background refresh from the router
service replaces them when it answers, and is retried after a pause when it fails.
"""
import threading
import time
from typing import Dict, Optional

import requests

ROUTER_URL = "https://app-router.com/2/route"
SERVICES = ("api", "engine", "stats", "push")
_RETRY_AFTER_FAILURE = 60.0


def default_hosts(app_id: str, region: str) -> Dict[str, str]:
    """The hosts LeanCloud assigns to an app before the router has been asked."""
    prefix = app_id[:8].lower()
    if region == "US" or app_id.endswith("-MdYXbMMI"):
        domain = "lncldglobal.com"
    elif app_id.endswith("-9Nh9j0Va"):
        domain = "lncldapi.com"
    else:
        host = f"{prefix}.lc-cn-n1-shared.com"
        return {service: host for service in SERVICES}
    return {service: f"{prefix}.{service}.{domain}" for service in SERVICES}


def service_for_path(path: str) -> str:
    """Which service a REST path belongs to."""
    if path.startswith(("/push", "/installations")):
        return "push"
    if path.startswith("/collect"):
        return "stats"
    if path.startswith(("/functions", "/call")):
        return "engine"
    return "api"


class AppRouter:
    """Hosts for one app, refreshed in the background when their TTL runs out."""

    def __init__(self, app_id: str, region: str, session: Optional[requests.Session] = None):
        self.app_id = app_id
        self.region = region
        self.hosts = default_hosts(app_id, region)
        self._session = session or requests.Session()
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self._refreshing = False

    def get(self, service: str) -> str:
        self._maybe_refresh()
        return self.hosts[service]

    def update(self, content: Dict) -> None:
        """Apply a router answer (also sent by the API in a 307 redirect)."""
        for service in SERVICES:
            host = content.get(f"{service}_server")
            if host:
                self.hosts[service] = host.split("://", 1)[-1].rstrip("/")
        self._expires_at = time.monotonic() + float(content.get("ttl", 3600))

    def _maybe_refresh(self) -> None:
        if self.region == "US":
            return
        with self._lock:
            if self._refreshing or time.monotonic() < self._expires_at:
                return
            self._refreshing = True
        threading.Thread(target=self._refresh, name="leancloud-app-router", daemon=True).start()

    def _refresh(self) -> None:
        try:
            response = self._session.get(ROUTER_URL, params={"appId": self.app_id}, timeout=10)
            response.raise_for_status()
            self.update(response.json())
        except (requests.RequestException, ValueError):
            self._expires_at = time.monotonic() + _RETRY_AFTER_FAILURE
        finally:
            self._refreshing = False
