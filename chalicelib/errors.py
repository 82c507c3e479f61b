"""Domain errors. Raised anywhere in chalicelib, turned into HTTP in one place (app.py).

Each class carries its HTTP meaning (``STATUS_CODE`` and the envelope's ``CODE``, as Chalice's
own errors do), so app.py's error mapping and the OpenAPI document read one table: the classes.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EchomateError(Exception):
    """Base of every error a client may see. ``details`` is machine-readable."""

    STATUS_CODE: ClassVar[int] = 400
    CODE: ClassVar[str] = "BadRequestError"
    #: what the OpenAPI document says of this status
    DESCRIPTION: ClassVar[str] = "invalid input"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def headers(self) -> dict[str, str]:
        """Response headers this error adds (``Retry-After`` on a 429)."""
        return {}


class Invalid(EchomateError):
    """The request is malformed or breaks a rule (400)."""


class Unauthorized(EchomateError):
    """No valid credentials (401)."""

    STATUS_CODE, CODE, DESCRIPTION = 401, "UnauthorizedError", "missing, invalid or expired token"


class Forbidden(EchomateError):
    """Authenticated, but not allowed (403)."""

    STATUS_CODE, CODE, DESCRIPTION = 403, "ForbiddenError", "not allowed"


class NotFound(EchomateError):
    """The thing does not exist, or the caller may not know it does (404)."""

    STATUS_CODE, CODE, DESCRIPTION = 404, "NotFoundError", "not found"


class Conflict(EchomateError):
    """Taken, stale or duplicate (409)."""

    STATUS_CODE, CODE, DESCRIPTION = 409, "ConflictError", "conflict"


class TooLarge(EchomateError):
    """Over a size limit (413)."""

    STATUS_CODE, CODE, DESCRIPTION = 413, "RequestEntityTooLargeError", "too large"


class UnsupportedMedia(EchomateError):
    """A content type we do not take (415)."""

    STATUS_CODE, CODE, DESCRIPTION = 415, "UnsupportedMediaType", "unsupported media type"


class Unprocessable(EchomateError):
    """Well-formed but refused, e.g. an image that failed validation (422)."""

    STATUS_CODE, CODE, DESCRIPTION = 422, "UnprocessableEntityError", "well-formed but refused"


class RateLimited(EchomateError):
    """Too many requests (429); the client may retry after ``retry_after`` seconds."""

    STATUS_CODE, CODE, DESCRIPTION = 429, "TooManyRequestsError", "rate limited (see Retry-After)"

    def __init__(
        self, message: str, retry_after: int, *, limit: int | None = None, reset: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.limit, self.reset = limit, reset

    def headers(self) -> dict[str, str]:
        headers = {"Retry-After": str(self.retry_after)}
        if self.limit is not None and self.reset is not None:  # one of the app's own limits
            headers |= {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(self.reset),
            }
        return headers


class Unavailable(EchomateError):
    """A dependency is down; the client may retry (503)."""

    STATUS_CODE, CODE = 503, "ServiceUnavailableError"
    DESCRIPTION = "a dependency is unavailable; retry"


#: every error class a route may declare, by status (the OpenAPI document's error responses)
ERRORS: tuple[type[EchomateError], ...] = (
    Invalid,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    UnsupportedMedia,
    Unprocessable,
    RateLimited,
    Unavailable,
)
