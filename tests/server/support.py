"""Helpers shared by the server's test modules."""


class Clock:
    """A controllable stand-in for a module's ``now()``: tests advance time, never sleep."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
