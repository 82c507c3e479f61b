"""Accounts as every instance sees them: profiles read through a short per-instance cache.

Whether an account stands (disabled, deleted, unconfirmed, its sessions ended) is read on every
private request (``sessions``) and wherever content is read (``access``: a disabled author's
posts are gone). One GetItem per account per instance every ``CACHE_SECONDS`` pays for both; a
change reaches every instance within that time, and the instance that makes it forgets at once.
"""

from __future__ import annotations

import threading
import time

from chalicelib import db
from chalicelib.entities import Profile

CACHE_SECONDS = 30.0
_CACHE_SIZE = 10_000
_cache: dict[str, tuple[float, Profile | None]] = {}
_lock = threading.Lock()


def cached_profile(user_id: str, *, now: float | None = None) -> Profile | None:
    """The profile of ``user_id`` as read at most ``CACHE_SECONDS`` ago (None: no profile)."""
    now = time.monotonic() if now is None else now
    with _lock:
        cached = _cache.get(user_id)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    profile = db.get_store().get(Profile.key_of(user_id), Profile)
    with _lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()  # bounded memory; the next requests refill it
        _cache[user_id] = (now, profile)
    return profile


def shown(profile: Profile | None) -> bool:
    """Whether others see this account at all (not disabled, deleted or unconfirmed)."""
    return (
        profile is not None
        and not profile.deleted_at
        and not profile.disabled
        and profile.confirmed
    )


def forget(user_id: str) -> None:
    """Drop this instance's copy of ``user_id``'s profile (after changing its standing here)."""
    with _lock:
        _cache.pop(user_id, None)


def forget_all() -> None:
    """Drop every cached profile (tests switch between moto instances)."""
    with _lock:
        _cache.clear()
