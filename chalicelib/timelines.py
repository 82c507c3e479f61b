"""Home-feed timelines: one partition of post references per user, fanned out on write.

Entries expire after 30 days and each timeline is kept near ``LIST_CAP`` entries (the feed reads
no deeper): every backfill trims, and one fan-out copy in ``TIMELINE_TRIM_ONE_IN`` does."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable

from chalicelib import db, keys
from chalicelib.entities import TimelineEntry

TIMELINE_TTL_SECONDS = 30 * 24 * 3600


BACKFILL_POSTS = 100


LIST_CAP = 1000  # the feed and explore go at most this many posts deep


TIMELINE_TRIM_ONE_IN = 50  # a fan-out write trims that timeline back to LIST_CAP 1 time in 50


def timeline_item(owner_id: str, post_id: str, author_id: str) -> TimelineEntry:
    return TimelineEntry(
        owner_id=owner_id,
        post_id=post_id,
        author_id=author_id,
        ttl=int(time.time()) + TIMELINE_TTL_SECONDS,
    )


def timeline_items(owner_id: str, post_ids: Iterable[str], author_id: str) -> list[TimelineEntry]:
    """Feed entries of ``post_ids`` for ``owner_id`` (fan-out and backfill)."""
    return [timeline_item(owner_id, p, author_id) for p in post_ids]


def add_to_timelines(owner_ids: list[str], post_ids: list[str], author_id: str) -> None:
    """Copy ``post_ids`` of ``author_id`` into each owner's timeline, then trim each one back
    to LIST_CAP (a backfill, a refill: many posts at once)."""
    store = db.get_store()
    store.batch_write(
        puts=[item for owner in owner_ids for item in timeline_items(owner, post_ids, author_id)]
    )
    for owner in owner_ids:
        store.trim(keys.timeline_pk(owner), LIST_CAP)


def trim_due(owner_id: str, post_id: str) -> bool:
    """Whether this copy of a post trims its timeline: 1 in TIMELINE_TRIM_ONE_IN, spread evenly
    and the same on a redelivery. Timelines stay near LIST_CAP (the feed reads no deeper) at an
    amortised cost of a fraction of a Query per copy; the 30-day TTL removes the rest."""
    digest = zlib.crc32(f"{owner_id}|{post_id}".encode())
    return digest % TIMELINE_TRIM_ONE_IN == 0
