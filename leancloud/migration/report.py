"""The summary an import or export ends with: per class read, written, skipped, failed,
and every failed row with its file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

__all__ = ["ClassCounts", "Report"]

_MAX_LISTED = 50  # problems printed in full; the rest are counted


@dataclass
class ClassCounts:
    """One class's (or relation column's) line in the summary."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.updated


@dataclass
class Report:
    """Counts per class (relation columns as ``Class.field``), failures and warnings."""

    dry_run: bool = False
    kind: str = "import"  # or "export"
    classes: Dict[str, ClassCounts] = field(default_factory=dict)
    errors: List[str] = field(default_factory=list)  # "location: message", row not written
    warnings: List[str] = field(default_factory=list)  # written, but something is off

    def counts(self, name: str) -> ClassCounts:
        return self.classes.setdefault(name, ClassCounts())

    def fail(self, name: str, location: str, message: str) -> None:
        self.counts(name).failed += 1
        self.errors.append(f"{location}: {message}")

    @property
    def failed(self) -> int:
        return sum(counts.failed for counts in self.classes.values())

    def _table(self) -> List[tuple]:
        if self.kind == "export":
            header: tuple = ("class", "exported")
            return [header] + [(n, str(c.read)) for n, c in sorted(self.classes.items())]
        verb = "would " if self.dry_run else ""
        header = ("class", "read", f"{verb}insert", f"{verb}update", "skipped", "failed")
        return [header] + [
            (name, str(c.read), str(c.inserted), str(c.updated), str(c.skipped), str(c.failed))
            for name, c in sorted(self.classes.items())
        ]

    def format(self) -> str:
        if self.kind == "export":
            title = "Export summary"
        else:
            title = "Dry run: nothing was written" if self.dry_run else "Import summary"
        rows = self._table()
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [title]
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
            lines.append("  ".join(cells).rstrip())
        for label, items in (("Failed rows", self.errors), ("Warnings", self.warnings)):
            if items:
                lines.append(f"{label} ({len(items)}):")
                lines.extend(f"  {item}" for item in items[:_MAX_LISTED])
                if len(items) > _MAX_LISTED:
                    lines.append(f"  ... and {len(items) - _MAX_LISTED} more")
        return "\n".join(lines)
