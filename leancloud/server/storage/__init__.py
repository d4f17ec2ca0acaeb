"""The storage adapter: the only place with SQL. ``SQLiteStorage`` now, PostgreSQL next."""

from leancloud.server.storage.base import ACL, Storage, StoredObject, WriteTx
from leancloud.server.storage.sqlite import SQLiteStorage

__all__ = ["ACL", "SQLiteStorage", "Storage", "StoredObject", "WriteTx"]
