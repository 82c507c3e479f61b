"""Blocks and mutes as the rest of the app reads them.

A block works both ways: neither user sees the other anywhere. Every place that shows a user
(post authors, comment authors, likers, followers, search results, activity actors) goes through
``users.summaries_and_follows``, which drops the users hidden from the viewer of the request. The
viewer's relations are read once per request (one Query of ``USER#<viewer>`` / ``REL#``: their
blocks, the mirrors of blocks against them, their mutes, and the hashtags they follow), not per
item. Mutes are one-way and
quieter: a muted user's posts leave the muter's feed and explore, and (with ``notifications``)
their likes, comments and follows notify the muter no more.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from chalicelib import db, keys
from chalicelib.entities import Block, BlockedBy, Entity, Mute, TagFollow


@dataclass(frozen=True)
class Relations:
    """One user's blocks (both ways) and active mutes."""

    blocking: frozenset[str] = frozenset()
    blocked_by: frozenset[str] = frozenset()
    muting: frozenset[str] = frozenset()
    quieted: frozenset[str] = field(default=frozenset())  # muted with notifications
    tags: frozenset[str] = frozenset()  # hashtags followed (their home-feed form)

    @property
    def hidden(self) -> frozenset[str]:
        """Users this one does not see, and who do not see this one."""
        return self.blocking | self.blocked_by

    @property
    def unfollowed(self) -> frozenset[str]:
        """Users whose posts stay out of this one's feed and explore."""
        return self.hidden | self.muting


NOBODY = Relations()
_viewer: ContextVar[str | None] = ContextVar("viewer", default=None)
_read: ContextVar[Relations | None] = ContextVar("relations", default=None)


@contextmanager
def viewing(user_id: str | None) -> Iterator[None]:
    """Within this block, ``user_id`` is the viewer: users hidden from them are left out of
    every list (app.py sets it around each private request)."""
    viewer, read = _viewer.set(user_id), _read.set(None)
    try:
        yield
    finally:
        _viewer.reset(viewer)
        _read.reset(read)


def viewer() -> Relations:
    """The relations of the request's viewer (read once per request); nobody's outside one."""
    user_id = _viewer.get()
    if user_id is None:
        return NOBODY
    read = _read.get()
    if read is None:
        read = of(user_id)
        _read.set(read)
    return read


def of(user_id: str, *, now: float | None = None) -> Relations:
    """``user_id``'s relations: one Query (more only past a hundred of them)."""
    now = time.time() if now is None else now
    items: list[Entity] = []
    cursor = None
    while True:
        page = db.get_store().query_page(
            keys.user_pk(user_id),
            sk_prefix=keys.RELATION_PREFIX,
            limit=100,
            cursor=cursor,
            newest_first=False,
        )
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    return from_items(items, now)


def from_items(items: list[Entity], now: float) -> Relations:
    """The relations these items (blocks, their mirrors, mutes of one user) make."""
    mutes = [m for m in items if isinstance(m, Mute) and m.active(now)]
    return Relations(
        blocking=frozenset(b.blocked_id for b in items if isinstance(b, Block)),
        blocked_by=frozenset(b.blocker_id for b in items if isinstance(b, BlockedBy)),
        muting=frozenset(m.muted_id for m in mutes),
        quieted=frozenset(m.muted_id for m in mutes if m.notifications),
        tags=frozenset(t.tag for t in items if isinstance(t, TagFollow)),
    )


def keys_between(user_id: str, other_id: str) -> list[tuple[str, str]]:
    """The keys whose items say how ``user_id`` stands to ``other_id`` (all under
    ``user_id``: a BatchGetItem joins them to whatever else a request reads)."""
    return [
        Block.key_of(user_id, other_id),
        BlockedBy.key_of(user_id, other_id),
        Mute.key_of(user_id, other_id),
    ]


def between(user_id: str, other_id: str, found: dict[tuple[str, str], Entity]) -> Relations:
    """How ``user_id`` stands to ``other_id``, from a batch read that included
    ``keys_between(user_id, other_id)``."""
    return from_items(
        [found[k] for k in keys_between(user_id, other_id) if k in found], time.time()
    )


def read_between(user_id: str, other_id: str) -> Relations:
    """How ``user_id`` stands to ``other_id``: one BatchGetItem."""
    return between(user_id, other_id, db.get_store().batch_get(keys_between(user_id, other_id)))
