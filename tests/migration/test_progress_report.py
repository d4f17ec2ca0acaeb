"""Progress bars (quiet off a terminal) and the summary table."""

from __future__ import annotations

import io

from leancloud.migration.progress import Progress
from leancloud.migration.report import Report


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_quiet_when_not_on_a_terminal():
    stream = io.StringIO()
    progress = Progress(2, stream)
    progress.start("Post", 10)
    progress.advance(5)
    progress.done()
    assert stream.getvalue() == ""


def test_progress_shows_the_class_bar_and_both_rates():
    clock, stream = FakeClock(), Tty()
    progress = Progress(2, stream, clock=clock)
    assert progress.enabled
    progress.start("Post", 1000)
    clock.now += 2
    progress.advance(500)
    line = progress.line()
    assert line.startswith("Post [############------------]  50% 500/1000 250/s")
    assert line.endswith("overall 1/2 units, 500 rows, 250/s")
    assert "Post [####" in stream.getvalue()
    progress.start("_User", None)
    clock.now += 1
    progress.advance(100)
    assert progress.line().startswith("_User 100 rows 100/s | overall 2/2 units, 600 rows, 200/s")


def test_report_table_and_listed_failures():
    report = Report()
    report.counts("Post").read = 3
    report.counts("Post").inserted = 2
    report.fail("Post", "Post.jsonl:3", "not JSON")
    text = report.format()
    assert text.splitlines()[:3] == [
        "Import summary",
        "class  read  insert  update  skipped  failed",
        "Post      3       2       0        0       1",
    ]
    assert "  Post.jsonl:3: not JSON" in text
    assert report.failed == 1
    assert "would insert" in Report(dry_run=True).format()
