"""Timestamps as the API writes them: ISO 8601 UTC with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_timestamp(moment: datetime | float) -> str:
    """ISO 8601 UTC with milliseconds: ``2026-11-24T07:01:25.123Z``."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now() -> str:
    """The current time as an ISO 8601 UTC timestamp."""
    return iso_timestamp(datetime.now(UTC))


def epoch(timestamp: str) -> float:
    """Epoch seconds of an ISO 8601 timestamp written by ``iso_timestamp``."""
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def hour_bucket(moment: float) -> str:
    """The UTC hour of ``moment`` as ``YYYYMMDDHH`` (explore's partitions)."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y%m%d%H")


def month_bucket(timestamp: str) -> str:
    """The UTC month of an ISO timestamp as ``YYYYMM`` (the moderation log's partitions)."""
    return timestamp[:4] + timestamp[5:7]
