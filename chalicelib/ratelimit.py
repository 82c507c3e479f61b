"""Abuse limits: fixed-window counters in the table, so they hold across Lambda instances.

Each limit (``limits.DEFAULT_RATE_LIMITS``, overridable per stage) allows N hits per window of S
seconds per subject (an address, an account). One conditional UpdateItem per hit: the counter
moves only while under the limit, and expires by TTL after its window.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from chalicelib import db, keys
from chalicelib.config import get_settings
from chalicelib.entities import ENTITY_ATTRIBUTE, RateCounter
from chalicelib.errors import RateLimited


@dataclass(frozen=True)
class Usage:
    """Where a subject stands against a limit after a hit (the ``X-RateLimit-*`` headers)."""

    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


def hit(name: str, subject: str, *, now: float | None = None) -> Usage:
    """Count one attempt of ``subject`` against limit ``name``; RateLimited when over it."""
    limit, seconds = get_settings().rate_limit(name)
    now = time.time() if now is None else now
    window = int(now // seconds * seconds)
    retry_after = max(1, int(window + seconds - now + 0.999))
    changed = db.get_store().update(
        RateCounter.key_of(name, _digest(subject), window),
        "ADD hits :one SET #ttl = :expires, #entity = :kind",
        condition="attribute_not_exists(hits) OR hits < :limit",
        values={
            ":one": 1,
            ":limit": limit,
            ":expires": window + seconds + 60,
            ":kind": RateCounter.KIND,
        },
        names={"#ttl": keys.TTL_ATTRIBUTE, "#entity": ENTITY_ATTRIBUTE},
        on_fail=RateLimited(
            f"too many requests; retry in {retry_after} s",
            retry_after,
            limit=limit,
            reset=window + seconds,
        ),
    )
    hits = int(changed.get("hits", limit))
    return Usage(limit=limit, remaining=max(0, limit - hits), reset=window + seconds)


def _digest(subject: str) -> str:
    # No address or e-mail lands in the table, and no '#' breaks the key.
    return hashlib.sha256(keys.fold(subject).encode()).hexdigest()[:32]
