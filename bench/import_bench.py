"""How fast ``leancloud import`` writes, next to a raw ``sqlite3`` bulk insert of the
same rows measured in the same run.

    python bench/import_bench.py                 # 200,000 objects in 4 classes
    python bench/import_bench.py --objects 2000  # a quick look

The export is generated in a temporary directory (JSON Lines, every common wire type,
ACLs), imported into an empty data directory with the real importer (parsing, row
validation, schema inference, ACL reader rows, checkpoints), then the same rows are
inserted with ``executemany`` into a bare table with the same durability settings
(WAL, ``synchronous=NORMAL``, one transaction per batch). The ratio is the price of
everything the importer does beyond storing bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from typing import Dict, Iterator, List, Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from leancloud.migration import ImportOptions, run_import
from leancloud.migration.progress import Progress
from leancloud.migration.sources import DirectorySource
from leancloud.migration.targets import LocalTarget

CLASSES = ("Post", "Comment", "Event", "Device")
STAMP = "2024-05-06T07:08:09.123Z"


def _row(class_name: str, index: int) -> Dict:
    object_id = f"{class_name[:2].lower()}{index:022d}"
    row = {
        "objectId": object_id,
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "title": f"{class_name} number {index}",
        "count": index,
        "score": index / 7,
        "flag": index % 2 == 0,
        "tags": ["a", "b", index % 10],
        "at": {"__type": "Date", "iso": STAMP},
        "owner": {"__type": "Pointer", "className": "_User", "objectId": f"user{index % 1000}"},
        "ACL": {"*": {"read": True}, f"user{index % 1000}": {"read": True, "write": True}},
    }
    if class_name == "Event":
        row["where"] = {"__type": "GeoPoint", "latitude": 30.5, "longitude": 114.3}
    return row


def generate(directory: str, objects: int) -> List[Dict]:
    """Write the export; answers every row (for the raw baseline)."""
    rows = []
    per_class = objects // len(CLASSES)
    for number, class_name in enumerate(CLASSES):
        count = per_class if number < len(CLASSES) - 1 else objects - per_class * number
        with open(os.path.join(directory, f"{class_name}.jsonl"), "w", encoding="utf-8") as handle:
            for index in range(count):
                row = _row(class_name, index)
                rows.append((class_name, row))
                handle.write(json.dumps(row) + "\n")
    return rows


def import_rate(export_dir: str, data_dir: str, batch_size: int) -> float:
    """Objects per second of the real importer, checkpoints and progress included."""
    source = DirectorySource(export_dir)
    target = LocalTarget(data_dir)
    started = time.perf_counter()
    report = run_import(
        source, target, data_dir, ImportOptions(batch_size=batch_size), Progress(len(CLASSES))
    )
    elapsed = time.perf_counter() - started
    target.close()
    written = sum(counts.inserted for counts in report.classes.values())
    if report.failed or written != sum(counts.read for counts in report.classes.values()):
        raise SystemExit(f"the import did not write every row:\n{report.format()}")
    return written / elapsed


def _chunks(rows: List, size: int) -> Iterator[List]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def raw_rate(rows: List, path: str, batch_size: int) -> float:
    """Objects per second of a bare ``executemany``: the floor nothing can beat."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE objects (class TEXT, id TEXT, created_at TEXT, updated_at TEXT,"
        " data TEXT, acl TEXT, PRIMARY KEY (class, id)) WITHOUT ROWID"
    )
    started = time.perf_counter()
    for chunk in _chunks(rows, batch_size):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    c,
                    r["objectId"],
                    r["createdAt"],
                    r["updatedAt"],
                    json.dumps(r),
                    json.dumps(r["ACL"]),
                )
                for c, r in chunk
            ],
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--objects", type=int, default=200_000, help="rows to generate (default: 200000)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=1000, help="rows per transaction (default: 1000)"
    )
    args = parser.parse_args(argv)
    if args.objects < len(CLASSES):
        parser.error(f"--objects must be at least {len(CLASSES)}")
    with tempfile.TemporaryDirectory(prefix="leancloud-import-bench-") as scratch:
        export_dir = os.path.join(scratch, "export")
        os.makedirs(export_dir)
        rows = generate(export_dir, args.objects)
        imported = import_rate(export_dir, os.path.join(scratch, "data"), args.batch_size)
        raw = raw_rate(rows, os.path.join(scratch, "raw.sqlite3"), args.batch_size)
    print(
        f"objects:              {args.objects} in {len(CLASSES)} classes, batches of {args.batch_size}"
    )
    print(f"leancloud import:     {imported:,.0f} objects/s")
    print(f"raw sqlite3 insert:   {raw:,.0f} objects/s")
    print(f"ratio (raw / import): {raw / imported:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
