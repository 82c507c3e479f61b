"""The home feed and explore, and the fan-out that keeps timelines filled.

Home feed = the caller's timeline (fanned out on write by the stream) merged with the recent posts
of the big accounts they follow (merged at read time, so one post never costs millions of
writes). Explore reads hourly partitions of public posts. Both go at most ``timelines.LIST_CAP``
posts deep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib import clock, db, keys, posts, relations, tasks, timelines, users
from chalicelib.config import get_settings
from chalicelib.entities import Follow, HashtagEntry, Post, Profile, TimelineEntry
from chalicelib.errors import Conflict, Invalid
from chalicelib.ids import id_time, last_id_at
from chalicelib.models import PostOut

EXPLORE_LOOKBACK_HOURS = 7 * 24
#: the Queries one explore page may make (a quiet week would otherwise cost 168)
EXPLORE_QUERIES_PER_PAGE = 8


def _position(cursor: str | None, scope: str) -> tuple[str | None, int]:
    """Where a time-ordered list continues: before which post id, and how many posts were
    served already (its cursor, signed)."""
    if cursor is None:
        return None, 0
    position = db.decode_cursor(cursor, scope, db.cursor_secret(), ["before", "served"])
    if not position["served"].isdigit():
        raise Invalid("cursor: invalid cursor", [{"field": "cursor", "reason": "invalid"}])
    return position["before"], int(position["served"])


def _next_cursor(post_ids: list[str], more: bool, scope: str, served: int) -> str | None:
    served += len(post_ids)
    if not more or not post_ids or served >= timelines.LIST_CAP:
        return None  # the feed's length is capped: older entries only expire
    return db.encode_cursor(
        {"before": post_ids[-1], "served": str(served)}, scope, db.cursor_secret()
    )


def explore(caller_id: str, limit: int, cursor: str | None) -> db.Page[PostOut]:
    """Recent public posts, newest first, read from hourly partitions (writes spread over
    time). A page makes at most ``EXPLORE_QUERIES_PER_PAGE`` Queries however sparse the recent
    hours are (each bucket read through, page by page, not cut at its first page): when it
    stops short, its cursor continues where the reading stopped, even with no post to show
    yet."""
    scope = "explore"
    before, served = _position(cursor, scope)
    limit = min(limit, timelines.LIST_CAP - served)
    store = db.get_store()
    start = id_time(before) if before else time.time()
    away = relations.viewer().unfollowed  # blocked either way, or muted
    ids: list[str] = []
    more = False
    hour, within, queries = 0, None, 0
    resume = before
    while hour < EXPLORE_LOOKBACK_HOURS:
        if queries == EXPLORE_QUERIES_PER_PAGE:
            more = True  # bounded: the next page reads on from ``resume``
            break
        moment = start - hour * 3600
        page = store.query_page(
            keys.explore_pk(clock.hour_bucket(moment)),
            index=keys.GSI2,
            limit=min(100, limit - len(ids) + 1),
            cursor=within,
            sk_before=before,
            model=Post,
        )
        queries += 1
        ids += [i.post_id for i in page.items if i.author_id not in away]
        if len(ids) > limit:
            more = True
            break
        within = page.next_cursor
        if page.items:
            resume = page.items[-1].post_id
        if within is None:  # this hour is read: resume from the end of the one before it
            hour += 1
            resume = last_id_at(_hour_start(moment) - 0.001)
    ids = ids[:limit]
    found, mine = posts.posts_and_likes(caller_id, ids)
    position = ids[-1] if len(ids) == limit or not more else resume
    return db.Page(
        posts.render(caller_id, found, mine, public_only=True),
        _cursor_at(position, more, scope, served + len(ids)),
    )


def _hour_start(moment: float) -> float:
    return moment // 3600 * 3600


def _cursor_at(before: str | None, more: bool, scope: str, served: int) -> str | None:
    """A cursor that continues before ``before`` (``served`` posts in so far)."""
    if not more or before is None or served >= timelines.LIST_CAP:
        return None
    return db.encode_cursor({"before": before, "served": str(served)}, scope, db.cursor_secret())


def feed(caller_id: str, limit: int, cursor: str | None) -> db.Page[PostOut]:
    """The home feed: the caller's timeline (fanned out on write) merged with the recent posts
    of the big accounts they follow and of the hashtags they follow (merged at read: one Query
    each), newest first, each post once. Without either: one Query, one BatchGetItem of posts
    and likes, one of authors."""
    scope = f"feed|{caller_id}"
    before, served = _position(cursor, scope)
    limit = min(limit, timelines.LIST_CAP - served)
    store = db.get_store()
    page = store.query_page(
        keys.timeline_pk(caller_id), limit=limit, sk_before=before, model=TimelineEntry
    )
    away = relations.viewer().unfollowed  # blocked either way, or muted
    ids = [i.post_id for i in page.items if i.author_id not in away]
    more = page.next_cursor is not None
    big = [b for b in followed_big_accounts(caller_id) if b not in away]
    for account in big:
        extra = store.query_page(
            keys.user_posts_pk(account), index=keys.GSI1, limit=limit, sk_before=before, model=Post
        )
        ids += [p.post_id for p in extra.items]
        more = more or extra.next_cursor is not None
    tags = sorted(relations.viewer().tags)
    for tag in tags:  # followed hashtags: their recent public posts, merged like big accounts
        tagged = store.query_page(
            keys.hashtag_pk(tag), limit=limit, sk_before=before, model=HashtagEntry
        )
        ids += [e.post_id for e in tagged.items if e.author_id not in away]
        more = more or tagged.next_cursor is not None
    if big or tags:
        ids = sorted(set(ids), reverse=True)
        more = more or len(ids) > limit
        ids = ids[:limit]
    found, mine = posts.posts_and_likes(caller_id, ids)
    return db.Page(posts.render(caller_id, found, mine), _next_cursor(ids, more, scope, served))


_big_cache: dict[str, Any] = {"at": 0.0, "ids": []}
_BIG_PAGE = 100


def big_accounts() -> list[str]:
    """Accounts too big to fan out, every one of them (cached a minute per instance: a small,
    slow-moving set; one Query per hundred of them, once a minute)."""
    if time.monotonic() - _big_cache["at"] > 60:
        ids: list[str] = []
        cursor = None
        while True:  # all of them: a big account left out would reach no feed at all
            page = db.get_store().query_page(
                keys.BIG_ACCOUNTS_PK, index=keys.GSI3, limit=_BIG_PAGE, cursor=cursor, model=Profile
            )
            ids += [p.user_id for p in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        _big_cache.update(at=time.monotonic(), ids=ids)
    return list(_big_cache["ids"])


def followed_big_accounts(caller_id: str) -> list[str]:
    big = [b for b in big_accounts() if b != caller_id]
    if not big:
        return []
    edges = db.get_store().batch_get([Follow.key_of(caller_id, b) for b in big], Follow)
    return [b for b in big if Follow.key_of(caller_id, b) in edges]


# Fan-out ------------------------------------------------------------------------------------------
def fan_out(post: Post, each_page: Callable[[list[str]], object] | None = None) -> int:
    """Copy a new post into each follower's timeline, unless the author is a big account
    (their posts are merged at read time); ``each_page`` is then called with each page of
    followers that got it (real time tells those online). Returns how many timelines got it."""
    store = db.get_store()
    if timelines.trim_due(
        post.author_id, post.post_id
    ):  # the post is in its author's own timeline too
        store.trim(keys.timeline_pk(post.author_id), timelines.LIST_CAP)
    author = users.find_profile(post.author_id)
    if author is None or author.follower_count >= get_settings().fanout_max_followers:
        return 0
    cursor, copied = None, 0
    while True:
        page = store.query_page(
            keys.followers_pk(post.author_id),
            index=keys.GSI1,
            limit=100,
            cursor=cursor,
            model=Follow,
        )
        followers = [e.follower_id for e in page.items]
        store.batch_write(
            puts=[
                item
                for follower in followers
                for item in timelines.timeline_items(follower, [post.post_id], post.author_id)
            ]
        )
        for follower in followers:
            if timelines.trim_due(follower, post.post_id):
                store.trim(keys.timeline_pk(follower), timelines.LIST_CAP)
        if each_page is not None and followers:
            each_page(followers)
        copied += len(page.items)
        if page.next_cursor is None:
            return copied
        cursor = page.next_cursor


def backfill(follower_id: str, followee_id: str) -> None:
    """A new follow brings the followee's latest posts into the follower's timeline."""
    followee = users.find_profile(followee_id)
    if followee is None or followee.follower_count >= get_settings().fanout_max_followers:
        return
    page = db.get_store().query_page(
        keys.user_posts_pk(followee_id), index=keys.GSI1, limit=timelines.BACKFILL_POSTS, model=Post
    )
    if page.items:
        timelines.add_to_timelines([follower_id], [p.post_id for p in page.items], followee_id)


def unfill(follower_id: str, followee_id: str) -> None:
    """An unfollow takes the followee's recent posts out of the follower's timeline."""
    page = db.get_store().query_page(
        keys.user_posts_pk(followee_id), index=keys.GSI1, limit=timelines.BACKFILL_POSTS, model=Post
    )
    db.get_store().batch_write(
        deletes=[TimelineEntry.key_of(follower_id, p.post_id) for p in page.items]
    )


def flag_big_account(profile: Profile) -> None:
    """Keep the set of accounts too big to fan out (with hysteresis, so an account at the
    threshold does not flip on every follow)."""
    threshold = get_settings().fanout_max_followers
    count = profile.follower_count
    flagged = profile.big_account
    store = db.get_store()
    if count >= threshold and not flagged:
        store.update(
            profile.key,
            "SET #i3pk = :big, #i3sk = :id",
            condition="attribute_exists(PK)",
            values={":big": keys.BIG_ACCOUNTS_PK, ":id": profile.user_id},
        )
    elif count < threshold // 2 and flagged:
        # Its posts made while big were never fanned out: a job copies its recent posts into its
        # followers' timelines, started with the change (a redelivered record finds it done).
        done = Conflict("already a small account")
        store.transact_unless(
            [
                db.tx_update(
                    profile.key,
                    "REMOVE #i3pk, #i3sk",
                    "attribute_exists(#i3pk)",
                    on_fail=done,
                ),
                tasks.job_op(tasks.REFILL_FEEDS, profile.user_id),
            ],
            unless=done,
        )
