"""The one exception the server raises for a client mistake or a refusal.

Every layer raises ``ApiError``; only the HTTP layer turns it into LeanCloud's
``{"code": ..., "error": ...}`` body with its HTTP status.
"""


class ApiError(Exception):
    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.status = status

    def to_json(self) -> dict:
        return {"code": self.code, "error": self.message}
