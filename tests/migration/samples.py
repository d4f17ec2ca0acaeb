"""A generated LeanCloud-style export with every wire type, and helpers to look at a data dir."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List

from leancloud.server import DATABASE_FILE
from leancloud.server.storage.sqlite import SQLiteStorage

# The documented LeanCloud password hash test vector (export-format.md, sec. 5).
SALT = "h60d8x797d3oa0naxybxxv9bn7xpt2yiowz68mpiwou7gwr2"
PASSWORD = "password"
HASH = "tA7BLW+NK0UeARng0693gCaVnljkglCB9snqlpCSUKjx2RgYp8VZZOQt0S5iUtlDrkJXfT3gknS4rRqjYsd/Ug=="
SESSION = "bobs-exported-session-token"
FILE_BYTES = b"\x89PNG fake image bytes \x00\x01\x02"

USER_ID, ROLE_ID, FILE_ID = (
    "5d1c81e76e9ba1007f89f2d2",
    "role0000000000000000001",
    "file000000000000000000001",
)
C1, U1 = "2019-04-29T07:46:41.687Z", "2020-11-04T03:29:17.441Z"
OLD_URL = "https://lc-files.example.invalid/gamma/avatar.png"


def pointer(class_name: str, object_id: str) -> Dict[str, str]:
    return {"__type": "Pointer", "className": class_name, "objectId": object_id}


def classes() -> Dict[str, List[Dict[str, Any]]]:
    users = [
        {
            "objectId": USER_ID,
            "createdAt": C1,
            "updatedAt": U1,
            "username": "alice",
            "password": HASH,
            "salt": SALT,
            "email": "alice@example.com",
            "emailVerified": True,
            "mobilePhoneNumber": "+8613800000000",
            "authData": {"anonymous": {"id": "anon-1"}},
            "ACL": {"*": {"read": True}, USER_ID: {"read": True, "write": True}},
        },
        {
            "objectId": "user2",
            "createdAt": C1,
            "updatedAt": C1,
            "username": "bob",
            "sessionToken": SESSION,
        },
    ]
    roles = [
        {
            "objectId": ROLE_ID,
            "createdAt": C1,
            "updatedAt": C1,
            "name": "editors",
            "users": {"__type": "Relation", "className": "_User"},
            "ACL": {"*": {"read": True}},
        }
    ]
    files = [
        {
            "objectId": FILE_ID,
            "createdAt": C1,
            "updatedAt": C1,
            "name": "avatar.png",
            "key": "gamma/avatar.png",
            "url": OLD_URL,
            "mime_type": "image/png",
            "bucket": "lc",
            "provider": "qiniu",
            "metaData": {"size": len(FILE_BYTES), "owner": USER_ID},
        }
    ]
    posts = [
        {
            "objectId": f"post{i:020d}",
            "createdAt": C1,
            "updatedAt": U1,
            "title": f"post {i}",
            "likes": i,
            "ratio": i / 4,
            "draft": i % 2 == 0,
            "tags": ["a", i],
            "meta": {"nested": {"deep": [1, {"x": None}]}},
            "author": pointer("_User", USER_ID),
            "publishedAt": {"__type": "Date", "iso": "2020-11-04T03:29:17.441Z"},
            "where": {"__type": "GeoPoint", "latitude": 39.9, "longitude": 116.4},
            # REST's write form, and the read form an export may hold (old url inside).
            "cover": {"__type": "File", "id": FILE_ID}
            if i % 2 == 0
            else {"__type": "File", "objectId": FILE_ID, "name": "avatar.png", "url": OLD_URL},
            "blob": {"__type": "Bytes", "base64": "AAEC"},
            "fans": {"__type": "Relation", "className": "_User"},
            "ACL": {"role:editors": {"read": True, "write": True}}
            if i == 0
            else {"*": {"read": True}},
        }
        for i in range(5)
    ]
    installs = [
        {
            "objectId": "inst1",
            "createdAt": C1,
            "updatedAt": C1,
            "deviceType": "ios",
            "deviceToken": "tok",
            "installationId": "iid-1",
            "channels": ["news"],
        }
    ]
    return {
        "_User": users,
        "_Role": roles,
        "_File": files,
        "Post": posts,
        "_Installation": installs,
    }


RELATIONS = {
    "_Role.users": [{"owningId": ROLE_ID, "relatedId": USER_ID}],
    "Post.fans": [
        {"owningId": "post00000000000000000001", "relatedId": USER_ID},
        {"owningId": "post00000000000000000001", "relatedId": "user2"},
    ],
}


def write_export(root: str, with_file_content: bool = True) -> str:
    """Our layout (also LeanCloud's per-class JSON Lines); answers ``root``."""
    os.makedirs(os.path.join(root, "relations"), exist_ok=True)
    for class_name, rows in classes().items():
        with open(os.path.join(root, f"{class_name}.jsonl"), "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
    for name, rows in RELATIONS.items():
        with open(
            os.path.join(root, "relations", f"{name}.jsonl"), "w", encoding="utf-8"
        ) as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
    if with_file_content:
        os.makedirs(os.path.join(root, "files"), exist_ok=True)
        with open(os.path.join(root, "files", FILE_ID), "wb") as handle:
            handle.write(FILE_BYTES)
    return root


def snapshot(data_dir: str) -> Dict[str, Any]:
    """Everything a data dir holds (raw objects, relation rows, schema), comparable with ==."""
    storage = SQLiteStorage(os.path.join(data_dir, DATABASE_FILE))
    try:
        schema = storage.schema()
        state: Dict[str, Any] = {"schema": schema}
        for class_name, fields in schema.items():
            state[class_name] = storage.dump(class_name, None, 100000)
            for field, spec in fields.items():
                if spec.get("type") == "Relation":
                    state[f"{class_name}.{field}"] = storage.dump_relations(
                        class_name, field, None, 100000
                    )
        return state
    finally:
        storage.close()


def blob(data_dir: str, key: str) -> bytes:
    from leancloud.server.blobs import BlobStore

    with open(BlobStore(data_dir).content_path(key), "rb") as handle:
        return handle.read()
