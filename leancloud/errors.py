"""The SDK's exceptions: every failure a caller sees carries LeanCloud's error code."""
from typing import Any


class LeanCloudError(Exception):
    """An error answered by the server, or raised by the SDK with the server's code.

    ``code`` is LeanCloud's numeric error code (see docs/errors in the REST reference)
    and ``error`` its message.
    """

    def __init__(self, code: int, error: str) -> None:
        super().__init__(code, error)
        self.code = code
        self.error = error

    def __str__(self) -> str:
        return f"LeanCloudError: [{self.code}] {self.error}"

    def __repr__(self) -> str:
        return f"LeanCloudError({self.code!r}, {self.error!r})"

    def __reduce__(self) -> Any:
        return (type(self), (self.code, self.error))


class LeanCloudWarning(UserWarning):
    """Warns about deprecated or surprising uses of the SDK."""


# Codes the SDK itself uses when the server gave none.
CONNECTION_FAILED = 100
TIMEOUT = 124
OBJECT_NOT_FOUND = 101
BAD_RESPONSE = -1
