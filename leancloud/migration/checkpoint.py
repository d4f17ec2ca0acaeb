"""Where an interrupted import resumes: per unit (class file, relation file, scanned
class), the position after the last batch that was committed.

Kept in ``<data dir>/migration/import-<source digest>.json``, rewritten atomically after
every batch, and removed when an import finishes. Losing the last update is harmless:
a batch written again is skipped row by row (same objectId, same updatedAt).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional

__all__ = ["Checkpoint"]

DIR_NAME = "migration"


class Checkpoint:
    """``Checkpoint(directory, digest)``; ``None`` positions mean "from the start"."""

    def __init__(self, directory: str, digest: str) -> None:
        self.path = os.path.join(directory, DIR_NAME, f"import-{digest}.json")
        self._state: Dict[str, Any] = self._load()

    def _load(self) -> Dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                state = json.load(handle)
        except (FileNotFoundError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    @property
    def resuming(self) -> bool:
        return bool(self._state)

    def position(self, unit_key: str) -> Optional[Any]:
        return self._state.get(unit_key, {}).get("position")

    def finished(self, unit_key: str) -> bool:
        return bool(self._state.get(unit_key, {}).get("finished"))

    def save(self, unit_key: str, position: Any, finished: bool = False) -> None:
        self._state[unit_key] = {"position": position, "finished": finished}
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self._state, handle)
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self._state = {}
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
