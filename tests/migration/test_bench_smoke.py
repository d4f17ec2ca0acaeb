"""The import benchmark script runs end to end (tiny size; the real run is 200,000 rows)."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_script_prints_both_rates_and_the_ratio():
    script = os.path.join(ROOT, "bench", "import_bench.py")
    done = subprocess.run(
        [sys.executable, script, "--objects", "400", "--batch-size", "50"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("objects:              400 in 4 classes")
    assert lines[1].startswith("leancloud import:") and lines[1].endswith("objects/s")
    assert lines[2].startswith("raw sqlite3 insert:") and lines[2].endswith("objects/s")
    assert float(lines[3].split()[-1].rstrip("x")) > 0
