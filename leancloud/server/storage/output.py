"""How stored objects leave storage: the output rules every adapter shares.

Hidden fields are dropped, Relation columns show their placeholder, pointers named by
``include`` are replaced level by level (one fetch per level for all rows), File values
come back expanded (one fetch per batch of objects), and ``keys`` projects last.
Fetching is the adapter's job, passed in as callables, so this module has no SQL.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from leancloud.server.principal import Principal
from leancloud.server.query.ast import Path

__all__ = [
    "HIDDEN_FIELDS",
    "PROTECTED_FIELDS",
    "Ref",
    "clean",
    "expand_files",
    "include",
    "project",
]

Ref = Tuple[str, str]  # (className, objectId)
# Never returned by queries; services read them through WriteTx.get.
HIDDEN_FIELDS: Mapping[str, Tuple[str, ...]] = {"_User": ("password", "salt", "sessionToken")}
_OWNER_ONLY_FIELDS: Mapping[str, Tuple[str, ...]] = {"_User": ("authData",)}
# Fields only master may filter or sort on (anything else could probe their values).
PROTECTED_FIELDS: Mapping[str, Tuple[str, ...]] = {
    name: HIDDEN_FIELDS.get(name, ()) + _OWNER_ONLY_FIELDS.get(name, ())
    for name in set(HIDDEN_FIELDS) | set(_OWNER_ONLY_FIELDS)
}
_ALWAYS_KEPT = ("objectId", "createdAt", "updatedAt", "__type", "className")


def clean(
    obj: Dict[str, Any], class_name: str, principal: Principal, relations: Mapping[str, str]
) -> Dict[str, Any]:
    """Drop hidden fields and show Relation columns as ``{"__type": "Relation", ...}``."""
    for name in HIDDEN_FIELDS.get(class_name, ()):
        obj.pop(name, None)
    if not principal.master and obj.get("objectId") != principal.user_id:
        for name in _OWNER_ONLY_FIELDS.get(class_name, ()):
            obj.pop(name, None)
    for name, target in relations.items():
        obj[name] = {"__type": "Relation", "className": target}
    return obj


def _include_tree(paths: Sequence[Path]) -> Dict[str, dict]:
    tree: Dict[str, dict] = {}
    for path in paths:
        node = tree
        for name in path:
            node = node.setdefault(name, {})
    return tree


def _is_pointer(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__type") == "Pointer" and "objectId" in value


def include(
    objects: List[Dict[str, Any]],
    paths: Sequence[Path],
    fetch: Callable[[List[Ref]], Dict[Ref, Dict[str, Any]]],
) -> None:
    """Replace the pointers named by ``paths`` (``p``, ``p.q``; arrays of pointers too) in place.

    ``fetch`` returns readable, cleaned objects by (className, objectId); it is called
    once per include level. Unreadable or missing targets stay plain pointers.
    """
    level: List[Tuple[Dict[str, Any], Dict[str, dict]]] = [
        (obj, _include_tree(paths)) for obj in objects
    ]
    while level:
        slots = [
            (obj, key, subtree)
            for obj, tree in level
            for key, subtree in tree.items()
            if key in obj
        ]
        refs = {
            (p["className"], p["objectId"]) for obj, key, _ in slots for p in _pointers(obj[key])
        }
        if not refs:
            return
        found = fetch(sorted(refs))
        level = []
        for obj, key, subtree in slots:
            obj[key] = _replace(obj[key], found, subtree, level)


def _pointers(value: Any) -> Iterator[Dict[str, Any]]:
    if _is_pointer(value):
        yield value
    elif isinstance(value, list):
        yield from (item for item in value if _is_pointer(item))


def _replace(
    value: Any, found: Mapping[Ref, Dict[str, Any]], subtree: dict, next_level: list
) -> Any:
    if isinstance(value, list):
        return [_replace(item, found, subtree, next_level) for item in value]
    if not _is_pointer(value):
        return value
    target = found.get((value["className"], value["objectId"]))
    if target is None:
        return value
    included = {"__type": "Pointer", "className": value["className"], **target}
    if subtree:
        next_level.append((included, subtree))
    return included


def _files(value: Any) -> Iterator[Tuple[Any, Any, str]]:
    """(container, key, file id) for every File value nested anywhere in ``value``."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, dict):
            if item.get("__type") == "File":
                file_id = item.get("id", item.get("objectId"))
                if isinstance(file_id, str):
                    yield value, key, file_id
                    continue
            yield from _files(item)
        elif isinstance(item, list):
            yield from _files(item)


def expand_files(
    objects: List[Dict[str, Any]], fetch: Callable[[List[str]], Dict[str, Dict[str, Any]]]
) -> None:
    """Replace every ``{"__type": "File", "id": ...}`` with the full ``_File`` record (one fetch)."""
    slots = list(_files(objects))
    if not slots:
        return
    records = fetch(sorted({file_id for _, _, file_id in slots}))
    for container, key, file_id in slots:
        record = records.get(file_id)
        if record is not None:
            container[key] = {"__type": "File", **record}


def project(
    obj: Dict[str, Any], keys: Optional[Sequence[Path]], exclude: Sequence[Path]
) -> Dict[str, Any]:
    """``keys`` projection (objectId/createdAt/updatedAt always kept), then exclusions."""
    if keys:
        kept = {name: obj[name] for name in _ALWAYS_KEPT + ("ACL",) if name in obj}
        for path in keys:
            _copy_path(obj, kept, path)
        obj = kept
    for path in exclude:
        _drop_path(obj, path)
    return obj


def _copy_path(source: Dict[str, Any], target: Dict[str, Any], path: Path) -> None:
    name = path[0]
    if name not in source:
        return
    if len(path) == 1 or not isinstance(source[name], dict):
        target[name] = source[name]
        return
    inner = source[name]
    existing = target.get(name)
    if existing is inner:
        return  # the whole value is already kept
    if not isinstance(existing, dict):
        existing = target[name] = {k: inner[k] for k in _ALWAYS_KEPT if k in inner}
    _copy_path(inner, existing, path[1:])


def _drop_path(obj: Dict[str, Any], path: Path) -> None:
    for name in path[:-1]:
        obj = obj.get(name)  # type: ignore[assignment]
        if not isinstance(obj, dict):
            return
    obj.pop(path[-1], None)
