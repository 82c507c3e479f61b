"""Domain errors. Raised anywhere in chalicelib, turned into HTTP in one place (app.py)."""

from __future__ import annotations

from typing import Any


class EchomateError(Exception):
    """Base of every error a client may see. ``details`` is machine-readable."""

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class Invalid(EchomateError):
    """The request is malformed or breaks a rule (400)."""


class Unauthorized(EchomateError):
    """No valid credentials (401)."""


class Forbidden(EchomateError):
    """Authenticated, but not allowed (403)."""


class NotFound(EchomateError):
    """The thing does not exist, or the caller may not know it does (404)."""


class Conflict(EchomateError):
    """Taken, stale or duplicate (409)."""


class TooLarge(EchomateError):
    """Over a size limit (413)."""


class UnsupportedMedia(EchomateError):
    """A content type we do not take (415)."""


class Unprocessable(EchomateError):
    """Well-formed but refused, e.g. an image that failed validation (422)."""


class RateLimited(EchomateError):
    """Too many requests (429); the client may retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Unavailable(EchomateError):
    """A dependency is down; the client may retry (503)."""
