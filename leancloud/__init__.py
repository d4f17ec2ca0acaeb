"""LeanCloud SDK for Python: a drop-in replacement for the official ``leancloud`` package.

The public names below are the official SDK's; see docs/compatibility.md for the few
places where we deliberately behave better.
"""
from leancloud import client, cloud, push
from leancloud._version import __version__
from leancloud.acl import ACL
from leancloud.client import init, use_master_key, use_production, use_region
from leancloud.engine import (
    CookieSessionMiddleware,
    Engine,
    HttpsRedirectMiddleware,
    LeanEngineError,
)
from leancloud.errors import LeanCloudError, LeanCloudWarning
from leancloud.file_ import File
from leancloud.geo_point import GeoPoint
from leancloud.object_ import Object
from leancloud.push import Installation
from leancloud.query import FriendshipQuery, Query
from leancloud.relation import Relation
from leancloud.role import Role
from leancloud.user import User

__all__ = [
    "__version__",
    "client",
    "init",
    "use_master_key",
    "use_production",
    "use_region",
    "LeanCloudError",
    "LeanCloudWarning",
    "ACL",
    "GeoPoint",
    "Object",
    "Relation",
    "Query",
    "FriendshipQuery",
    "File",
    "Installation",
    "cloud",
    "push",
    "User",
    "Role",
    "Engine",
    "LeanEngineError",
    "CookieSessionMiddleware",
    "HttpsRedirectMiddleware",
]
