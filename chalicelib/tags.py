"""Hashtags one follows, and what a hashtag holds.

A followed hashtag is a relation of the user (``USER#<id>`` / ``REL#TAGS#<tag>``), so the one
Query of relations every request makes already says which tags the viewer follows: the home
feed merges each followed tag's recent public posts at read time (one Query per followed tag,
like big accounts; at most ``MAX_FOLLOWED_TAGS``), deduplicated against the timeline, never
from users blocked or muted. A tag's post count is a counter moved in the same transactions as
its entries (``posts``).
"""

from __future__ import annotations

import contextlib

from chalicelib import clock, db, keys, posts
from chalicelib.entities import TagFollow, TagStats
from chalicelib.errors import Conflict
from chalicelib.ids import new_id
from chalicelib.models import FollowedTagOut, TagFollowOut, TagOut

#: each one costs the home feed one Query per page
MAX_FOLLOWED_TAGS = 25


def follow(caller_id: str, tag: str) -> TagFollowOut:
    """Follow ``tag`` (idempotent); 409 past ``MAX_FOLLOWED_TAGS``."""
    tag = posts.valid_tag(tag)
    store = db.get_store()
    if store.get(TagFollow.key_of(caller_id, tag), TagFollow) is not None:
        return TagFollowOut(following=True)
    followed = store.query_page(
        keys.relation_list_pk("TAGS", caller_id),
        index=keys.GSI2,
        limit=MAX_FOLLOWED_TAGS,
        model=TagFollow,
    )
    if len(followed.items) >= MAX_FOLLOWED_TAGS:
        raise Conflict(
            f"tag: you follow {MAX_FOLLOWED_TAGS} hashtags already; unfollow one first",
            [{"field": "tag", "reason": "too_many", "limit": MAX_FOLLOWED_TAGS}],
        )
    with contextlib.suppress(Conflict):  # followed meanwhile: it keeps its place
        store.put(
            TagFollow(user_id=caller_id, tag=tag, edge_id=new_id(), created_at=clock.now()),
            condition="attribute_not_exists(PK)",
        )
    return TagFollowOut(following=True)


def unfollow(caller_id: str, tag: str) -> TagFollowOut:
    """Stop following ``tag`` (idempotent)."""
    db.get_store().delete(TagFollow.key_of(caller_id, posts.valid_tag(tag)))
    return TagFollowOut(following=False)


def followed(caller_id: str, limit: int, cursor: str | None) -> db.Page[FollowedTagOut]:
    """The hashtags the caller follows, newest first (one Query)."""
    page = db.get_store().query_page(
        keys.relation_list_pk("TAGS", caller_id),
        index=keys.GSI2,
        limit=limit,
        cursor=cursor,
        model=TagFollow,
    )
    return page.map(
        lambda items: [FollowedTagOut(tag=t.tag, followed_at=t.created_at) for t in items]
    )


def about(caller_id: str, tag: str) -> TagOut:
    """A hashtag's post count (public posts carrying it now) and whether the caller follows
    it: one BatchGetItem."""
    tag = posts.valid_tag(tag)
    stats_key, follow_key = TagStats.key_of(tag), TagFollow.key_of(caller_id, tag)
    found = db.get_store().batch_get([stats_key, follow_key])
    stats = found.get(stats_key)
    count = stats.post_count if isinstance(stats, TagStats) else 0
    return TagOut(tag=tag, post_count=max(0, count), following=follow_key in found)
