"""Progress bars for long imports and exports: one line, redrawn in place, with the
current class's bar and rate and the overall count and rate. Standard library only;
silent unless the stream is a terminal (logs and pipes get only the summary)."""

from __future__ import annotations

import sys
import time
from typing import Callable, Optional, TextIO

__all__ = ["Progress"]

_WIDTH = 24
_REDRAW_SECONDS = 0.1


def _rate(count: int, seconds: float) -> str:
    per_second = count / seconds if seconds > 0 else 0.0
    if per_second >= 10000:
        return f"{per_second / 1000:.0f}k/s"
    return f"{per_second:.0f}/s"


class Progress:
    """``start(name, total)`` per class, ``advance(n)`` per batch, ``done()`` at the end."""

    def __init__(
        self,
        units: int,
        stream: Optional[TextIO] = None,
        enabled: Optional[bool] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stdout
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._clock = clock
        self._units = units
        self._unit = 0
        self._started = clock()
        self._overall = 0
        self._name = ""
        self._total: Optional[int] = None
        self._count = 0
        self._unit_started = self._started
        self._drawn = 0.0

    def start(self, name: str, total: Optional[int] = None) -> None:
        self._unit += 1
        self._name, self._total, self._count = name, total, 0
        self._unit_started = self._clock()
        self._draw(force=True)

    def advance(self, count: int) -> None:
        self._count += count
        self._overall += count
        self._draw()

    def line(self) -> str:
        """The current line (what a terminal shows)."""
        now = self._clock()
        if self._total:
            filled = min(_WIDTH, _WIDTH * self._count // self._total)
            bar = "#" * filled + "-" * (_WIDTH - filled)
            done = f"[{bar}] {min(100, 100 * self._count // self._total):3d}% {self._count}/{self._total}"
        else:
            done = f"{self._count} rows"
        return (
            f"{self._name} {done} {_rate(self._count, now - self._unit_started)}"
            f" | overall {self._unit}/{self._units} units, {self._overall} rows,"
            f" {_rate(self._overall, now - self._started)}"
        )

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if not force and now - self._drawn < _REDRAW_SECONDS:
            return
        self._drawn = now
        self.stream.write("\r\x1b[2K" + self.line())
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
