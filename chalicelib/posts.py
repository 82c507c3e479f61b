"""Posts and what hangs on them: the feed, explore, hashtag search, likes and comments.

Reading rules: a ``followers`` post is visible to its author and their followers only (a 404 to
anyone else, everywhere); explore and hashtag search list public posts only. A page of posts
costs one Query (or a few on explore), one BatchGetItem of posts with the caller's likes, and
one BatchGetItem of authors: media facts are copied into the post when it is made (they are
immutable once ready), so no media is read.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Iterable
from typing import Any

from chalicelib import clock, db, keys, media, moderation, users
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.identity import ADMINS, MODERATORS, Identity
from chalicelib.ids import id_time, new_id
from chalicelib.models import (
    CommentIn,
    CommentOut,
    LikeOut,
    Post,
    PostIn,
    PostMediaOut,
    PostOut,
    Renditions,
    UserSummary,
)

MAX_HASHTAGS = 30
TIMELINE_TTL_SECONDS = 30 * 24 * 3600
BACKFILL_POSTS = 100
LIST_CAP = 1000  # the feed and explore go at most this many posts deep
TIMELINE_TRIM_ONE_IN = 50  # a fan-out write trims that timeline back to LIST_CAP 1 time in 50
EXPLORE_LOOKBACK_HOURS = 7 * 24
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
_TAG = re.compile(r"(?<![\w#&])#(\w{1,100})")
_NOT_FOUND = "post not found"


def hashtags(caption: str) -> list[str]:
    """The caption's hashtags, lower-case, without ``#``, in order, each once (30 at most)."""
    tags = dict.fromkeys(t.lower() for t in _TAG.findall(caption) if not t.isdigit())
    return list(tags)[:MAX_HASHTAGS]


def explore_bucket(post_id: str) -> str:
    """The hour a post belongs to on explore (``YYYYMMDDHH``, UTC)."""
    return clock.hour_bucket(id_time(post_id))


# Creating and changing posts -------------------------------------------------------------------
def create_post(caller_id: str, body: PostIn, idempotency_key: str | None) -> PostOut:
    """A new post; with ``Idempotency-Key`` a retry of the same body returns the first answer
    and creates nothing (a different body under the same key is a 409)."""
    store = db.get_store()
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    record_key = None
    if idempotency_key is not None:
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,128}", idempotency_key):
            raise Invalid(
                "Idempotency-Key: 1 to 128 letters, digits or _.:-",
                [{"field": "Idempotency-Key", "reason": "format"}],
            )
        record_key = (keys.idempotency_pk(caller_id, "create_post", idempotency_key), "IDEMPOTENCY")
        replay = _replay(record_key, request_hash)
        if replay is not None:
            return replay
    if len(set(body.media_ids)) != len(body.media_ids):
        raise Invalid(
            "mediaIds: each media at most once", [{"field": "mediaIds", "reason": "duplicate"}]
        )
    items = [media.check_attachable(caller_id, m, "post") for m in body.media_ids]
    author = users.get_profile(caller_id)
    post_id = new_id()
    post = Post(
        post_id=post_id,
        author_id=caller_id,
        caption=body.caption,
        hashtags=hashtags(body.caption),
        visibility=body.visibility,
        created_at=clock.now(),
        media=[
            {
                "mediaId": m.media_id,
                "width": m.width,
                "height": m.height,
                "blurhash": m.blurhash,
                "keys": {n: r["key"] for n, r in (m.renditions or {}).items()},
            }
            for m in items
        ],
    )
    item = {
        keys.PK: keys.post_pk(post_id),
        keys.SK: keys.POST_SK,
        "GSI1PK": keys.user_posts_pk(caller_id),
        "GSI1SK": post_id,
        **post.model_dump(by_alias=True, exclude_none=True),
    }
    if post.visibility == "public":
        item |= {"GSI2PK": keys.explore_pk(explore_bucket(post_id)), "GSI2SK": post_id}
    ops = [
        db.tx_put(item, "attribute_not_exists(PK)"),
        db.tx_update(
            {keys.PK: keys.user_pk(caller_id), keys.SK: keys.PROFILE_SK},
            "ADD postCount :one",
            "attribute_exists(PK) AND attribute_not_exists(deletedAt)",
            values={":one": 1},
            on_fail=NotFound("your profile is gone"),
        ),
        db.tx_put(_timeline_item(caller_id, post_id, caller_id)),  # own posts in own feed
        *(media.attach_op(m.media_id, caller_id, f"post:{post_id}") for m in items),
    ]
    if post.visibility == "public":
        ops += [
            db.tx_put(
                {
                    keys.PK: keys.hashtag_pk(t),
                    keys.SK: post_id,
                    "postId": post_id,
                    "authorId": caller_id,
                }
            )
            for t in post.hashtags
        ]
    view = _view(post, author.summary(), liked=False)
    if record_key is not None:
        duplicate = Conflict("duplicate request")
        ops.append(
            db.tx_put(
                {
                    keys.PK: record_key[0],
                    keys.SK: record_key[1],
                    "requestHash": request_hash,
                    "response": view.to_json(),
                    keys.TTL_ATTRIBUTE: int(time.time()) + IDEMPOTENCY_TTL_SECONDS,
                },
                "attribute_not_exists(PK)",
                on_fail=duplicate,
            )
        )
        try:
            store.transact_write(ops)
        except Conflict as exc:
            if exc is not duplicate:
                raise
            return _replay(record_key, request_hash) or view  # a concurrent retry won
        return view
    store.transact_write(ops)
    return view


def _replay(record_key: tuple[str, str], request_hash: str) -> PostOut | None:
    record = db.get_store().get(*record_key, consistent=True)
    if record is None:
        return None
    if record["requestHash"] != request_hash:
        raise Conflict(
            "Idempotency-Key: already used for a different request",
            [{"field": "Idempotency-Key", "reason": "reused"}],
        )
    return PostOut.model_validate(record["response"])


def _timeline_item(owner_id: str, post_id: str, author_id: str) -> dict[str, Any]:
    return {
        keys.PK: keys.timeline_pk(owner_id),
        keys.SK: post_id,
        "postId": post_id,
        "authorId": author_id,
        keys.TTL_ATTRIBUTE: int(time.time()) + TIMELINE_TTL_SECONDS,
    }


def edit_post(caller_id: str, post_id: str, caption: str) -> PostOut:
    """The author changes the caption (``editedAt``); hashtags follow it."""
    post = visible_post(caller_id, post_id)
    if post.author_id != caller_id:
        raise Forbidden("only the author can edit a post")
    new_tags = hashtags(caption)
    now = clock.now()
    ops = [
        db.tx_update(
            {keys.PK: keys.post_pk(post_id), keys.SK: keys.POST_SK},
            "SET caption = :caption, hashtags = :tags, editedAt = :now",
            "attribute_exists(PK)",
            values={":caption": caption, ":tags": new_tags, ":now": now},
            on_fail=NotFound(_NOT_FOUND),
        )
    ]
    if post.visibility == "public":
        ops += [
            db.tx_delete({keys.PK: keys.hashtag_pk(t), keys.SK: post_id})
            for t in set(post.hashtags) - set(new_tags)
        ]
        ops += [
            db.tx_put(
                {
                    keys.PK: keys.hashtag_pk(t),
                    keys.SK: post_id,
                    "postId": post_id,
                    "authorId": post.author_id,
                }
            )
            for t in set(new_tags) - set(post.hashtags)
        ]
    db.get_store().transact_write(ops)
    post = post.model_copy(update={"caption": caption, "hashtags": new_tags, "edited_at": now})
    return render(caller_id, [post])[0]


def delete_post(caller: Identity, post_id: str) -> None:
    """The author, or a moderator, deletes a post; its likes, comments, hashtags, feed copies,
    notifications and media go in the background (a job)."""
    post = visible_post(caller.user_id, post_id)
    moderator = not caller.groups.isdisjoint({MODERATORS, ADMINS})
    if post.author_id != caller.user_id and not moderator:
        raise Forbidden("only the author or a moderator can delete a post")
    from chalicelib import jobs

    db.get_store().transact_write(
        [
            db.tx_delete(
                {keys.PK: keys.post_pk(post_id), keys.SK: keys.POST_SK},
                "attribute_exists(PK)",
                on_fail=NotFound(_NOT_FOUND),
            ),
            db.tx_update(
                {keys.PK: keys.user_pk(post.author_id), keys.SK: keys.PROFILE_SK},
                "ADD postCount :minus",
                "attribute_exists(PK)",
                values={":minus": -1},
            ),
            jobs.job_op(jobs.DELETE_POST, post.author_id, post=post.model_dump(by_alias=True)),
        ]
    )
    if post.author_id != caller.user_id:
        moderation.record(caller.user_id, "delete_post", post_id, author=post.author_id)


def purge_post(post: Post, spend: Any) -> None:
    """Remove everything that hangs on a deleted post (idempotent; ``spend`` charges the
    job's budget per step)."""
    store = db.get_store()
    partition = keys.post_pk(post.post_id)
    for prefix in (keys.LIKE_PREFIX, keys.COMMENT_PREFIX, keys.REPORT_PREFIX):
        store.delete_listed(partition, sk_prefix=prefix, before_page=spend)
    spend()
    store.batch_write(
        deletes=[(keys.hashtag_pk(t), post.post_id) for t in post.hashtags]
        + [(keys.timeline_pk(post.author_id), post.post_id), (partition, keys.POST_SK)]
    )
    cursor = None
    while True:  # feed copies: the author's followers
        spend()
        page = store.query_page(
            keys.followers_pk(post.author_id), index=keys.GSI1, limit=100, cursor=cursor
        )
        store.batch_write(
            deletes=[(keys.timeline_pk(e["followerId"]), post.post_id) for e in page.items]
        )
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    store.delete_listed(keys.post_activity_pk(post.post_id), index=keys.GSI1, before_page=spend)
    for entry in post.media:
        spend()
        with contextlib.suppress(NotFound):  # purged by an earlier run
            media.purge(media.get_media(entry["mediaId"]))


# Reading ---------------------------------------------------------------------------------------
def visible_post(caller_id: str, post_id: str) -> Post:
    """The post, if the caller may see it; NotFound otherwise (also for followers-only posts
    of someone the caller does not follow)."""
    if not post_id or "#" in post_id or len(post_id) > 64:
        raise NotFound(_NOT_FOUND)
    store = db.get_store()
    post = store.get(keys.post_pk(post_id), keys.POST_SK, Post)
    if post is None:
        raise NotFound(_NOT_FOUND)
    restricted = post.visibility == "followers" and post.author_id != caller_id
    if restricted and store.get(keys.user_pk(caller_id), keys.follow_sk(post.author_id)) is None:
        raise NotFound(_NOT_FOUND)
    return post


def get_post(caller_id: str, post_id: str) -> PostOut:
    post = visible_post(caller_id, post_id)
    rendered = render(caller_id, [post])
    if not rendered:
        raise NotFound(_NOT_FOUND)
    return rendered[0]


def render(caller_id: str, posts: list[Post], liked: set[str] | None = None) -> list[PostOut]:
    """API views of ``posts``: one BatchGetItem of authors (and one of the caller's likes
    unless ``liked`` is given). Posts of authors who are gone are left out."""
    if not posts:
        return []
    store = db.get_store()
    if liked is None:
        likes = store.batch_get([(keys.post_pk(p.post_id), keys.like_sk(caller_id)) for p in posts])
        liked = {pk.removeprefix("POST#") for pk, _ in likes}
    authors = users.summary_map(p.author_id for p in posts)
    return [
        _view(p, authors[p.author_id], p.post_id in liked) for p in posts if p.author_id in authors
    ]


def _view(post: Post, author: UserSummary, liked: bool) -> PostOut:
    restricted = post.visibility == "followers"
    return PostOut(
        post_id=post.post_id,
        author=author,
        caption=post.caption,
        hashtags=post.hashtags,
        media=[
            PostMediaOut(
                media_id=m["mediaId"],
                width=m["width"],
                height=m["height"],
                blurhash=m["blurhash"],
                renditions=Renditions(
                    **{
                        n: media.rendition_url(k, restricted=restricted)
                        for n, k in m["keys"].items()
                    }
                ),
            )
            for m in post.media
        ],
        visibility=post.visibility,
        like_count=post.like_count,
        comment_count=post.comment_count,
        liked_by_me=liked,
        created_at=post.created_at,
        edited_at=post.edited_at,
    )


def _posts_and_likes(caller_id: str, post_ids: list[str]) -> tuple[list[Post], set[str]]:
    """Posts by id, in that order, and which of them the caller likes: one BatchGetItem."""
    store = db.get_store()
    wanted = [(keys.post_pk(p), keys.POST_SK) for p in post_ids]
    wanted += [(keys.post_pk(p), keys.like_sk(caller_id)) for p in post_ids]
    found = store.batch_get(wanted)
    posts = [
        Post.model_validate(found[(keys.post_pk(p), keys.POST_SK)])
        for p in post_ids
        if (keys.post_pk(p), keys.POST_SK) in found
    ]
    liked = {p for p in post_ids if (keys.post_pk(p), keys.like_sk(caller_id)) in found}
    return posts, liked


def user_posts(caller_id: str, handle: str, limit: int, cursor: str | None) -> db.Page:
    """A user's posts, newest first (followers-only ones for followers and the author)."""
    author = users.profile_by_handle(handle)
    store = db.get_store()
    may_see_all = (
        author.user_id == caller_id
        or store.get(keys.user_pk(caller_id), keys.follow_sk(author.user_id)) is not None
    )
    page = store.query_page(
        keys.user_posts_pk(author.user_id), index=keys.GSI1, limit=limit, cursor=cursor, model=Post
    )
    posts = [p for p in page.items if may_see_all or p.visibility == "public"]
    return db.Page(render(caller_id, posts), page.next_cursor)


def search_tag(caller_id: str, tag: str, limit: int, cursor: str | None) -> db.Page:
    """Public posts with ``tag``, newest first."""
    tag = tag.removeprefix("#").lower()
    if not re.fullmatch(r"\w{1,100}", tag):
        raise Invalid(
            "tag: letters, digits or _ (without #)", [{"field": "tag", "reason": "format"}]
        )
    page = db.get_store().query_page(keys.hashtag_pk(tag), limit=limit, cursor=cursor)
    posts, liked = _posts_and_likes(caller_id, [i["postId"] for i in page.items])
    return db.Page(render(caller_id, posts, liked), page.next_cursor)


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
    if not more or not post_ids or served >= LIST_CAP:
        return None  # the feed's length is capped: older entries only expire
    return db.encode_cursor(
        {"before": post_ids[-1], "served": str(served)}, scope, db.cursor_secret()
    )


def explore(caller_id: str, limit: int, cursor: str | None) -> db.Page:
    """Recent public posts, newest first, read from hourly partitions (writes spread over
    time; a quiet hour costs one empty Query)."""
    scope = "explore"
    before, served = _position(cursor, scope)
    limit = min(limit, LIST_CAP - served)
    store = db.get_store()
    start = id_time(before) if before else time.time()
    ids: list[str] = []
    more = False
    for hour in range(EXPLORE_LOOKBACK_HOURS):
        bucket = clock.hour_bucket(start - hour * 3600)
        page = store.query_page(
            keys.explore_pk(bucket),
            index=keys.GSI2,
            limit=min(100, limit - len(ids) + 1),
            sk_before=before,
        )
        ids += [i["postId"] for i in page.items]
        if len(ids) > limit:
            more = True
            break
    ids = ids[:limit]
    posts, liked = _posts_and_likes(caller_id, ids)
    return db.Page(render(caller_id, posts, liked), _next_cursor(ids, more, scope, served))


def feed(caller_id: str, limit: int, cursor: str | None) -> db.Page:
    """The home feed: the caller's timeline (fanned out on write) merged with the recent posts
    of the big accounts they follow (merged at read), newest first. Without big accounts: one
    Query, one BatchGetItem of posts and likes, one of authors."""
    scope = f"feed|{caller_id}"
    before, served = _position(cursor, scope)
    limit = min(limit, LIST_CAP - served)
    store = db.get_store()
    page = store.query_page(keys.timeline_pk(caller_id), limit=limit, sk_before=before)
    ids = [i["postId"] for i in page.items]
    more = page.next_cursor is not None
    big = followed_big_accounts(caller_id)
    for account in big:
        extra = store.query_page(
            keys.user_posts_pk(account), index=keys.GSI1, limit=limit, sk_before=before
        )
        ids += [p["postId"] for p in extra.items]
        more = more or extra.next_cursor is not None
    if big:
        ids = sorted(set(ids), reverse=True)
        more = more or len(ids) > limit
        ids = ids[:limit]
    posts, liked = _posts_and_likes(caller_id, ids)
    return db.Page(render(caller_id, posts, liked), _next_cursor(ids, more, scope, served))


_big_cache: dict[str, Any] = {"at": 0.0, "ids": []}


def big_accounts() -> list[str]:
    """Accounts too big to fan out (cached a minute per instance: a small, slow-moving set)."""
    if time.monotonic() - _big_cache["at"] > 60:
        page = db.get_store().query_page(keys.BIG_ACCOUNTS_PK, index=keys.GSI3, limit=100)
        _big_cache.update(at=time.monotonic(), ids=[p["userId"] for p in page.items])
    return list(_big_cache["ids"])


def followed_big_accounts(caller_id: str) -> list[str]:
    big = [b for b in big_accounts() if b != caller_id]
    if not big:
        return []
    edges = db.get_store().batch_get([(keys.user_pk(caller_id), keys.follow_sk(b)) for b in big])
    return [b for b in big if (keys.user_pk(caller_id), keys.follow_sk(b)) in edges]


# Likes -----------------------------------------------------------------------------------------
def like(caller_id: str, post_id: str) -> LikeOut:
    """Like a post (idempotent): the like and the counter in one transaction."""
    post = visible_post(caller_id, post_id)
    already = Conflict("already liked")
    like_id = new_id()
    try:
        db.get_store().transact_write(
            [
                db.tx_put(
                    {
                        keys.PK: keys.post_pk(post_id),
                        keys.SK: keys.like_sk(caller_id),
                        "GSI1PK": keys.likes_by_pk(caller_id),
                        "GSI1SK": like_id,
                        "likeId": like_id,
                        "postId": post_id,
                        "userId": caller_id,
                        "authorId": post.author_id,
                        "createdAt": clock.now(),
                    },
                    "attribute_not_exists(PK)",
                    on_fail=already,
                ),
                _count(post_id, "likeCount", 1),
            ]
        )
    except Conflict as exc:
        if exc is not already:
            raise
        return LikeOut(liked=True, like_count=post.like_count)
    return LikeOut(liked=True, like_count=post.like_count + 1)


def unlike(caller_id: str, post_id: str) -> LikeOut:
    """Take a like back (idempotent)."""
    post = visible_post(caller_id, post_id)
    absent = NotFound("not liked")
    try:
        db.get_store().transact_write(
            remove_counted(post_id, keys.like_sk(caller_id), "likeCount", on_absent=absent)
        )
    except NotFound as exc:
        if exc is not absent:
            raise
        return LikeOut(liked=False, like_count=post.like_count)
    return LikeOut(liked=False, like_count=max(0, post.like_count - 1))


def remove_counted(post_id: str, sk: str, counter: str, *, on_absent: Exception) -> list[db.TxOp]:
    """The transaction that deletes a like or comment and moves the post's counter; a missing
    item raises ``on_absent``, a missing post the post's NotFound."""
    return [
        db.tx_delete(
            {keys.PK: keys.post_pk(post_id), keys.SK: sk}, "attribute_exists(PK)", on_fail=on_absent
        ),
        _count(post_id, counter, -1),
    ]


def _count(post_id: str, attribute: str, delta: int) -> db.TxOp:
    return db.tx_update(
        {keys.PK: keys.post_pk(post_id), keys.SK: keys.POST_SK},
        "ADD #n :delta",
        "attribute_exists(PK)",
        values={":delta": delta},
        names={"#n": attribute},
        on_fail=NotFound(_NOT_FOUND),
    )


def likers(caller_id: str, post_id: str, limit: int, cursor: str | None) -> db.Page:
    """Who liked a post (by user id), with their summaries."""
    page = _children(caller_id, post_id, keys.LIKE_PREFIX, limit, cursor)
    return db.Page(users.summaries([i["userId"] for i in page.items]), page.next_cursor)


def _children(caller_id: str, post_id: str, prefix: str, limit: int, cursor: str | None) -> db.Page:
    """A page of the likes or comments of a post the caller may see, in key order."""
    visible_post(caller_id, post_id)
    return db.get_store().query_page(
        keys.post_pk(post_id), sk_prefix=prefix, limit=limit, cursor=cursor, newest_first=False
    )


# Comments --------------------------------------------------------------------------------------
def add_comment(caller_id: str, post_id: str, body: CommentIn) -> CommentOut:
    """A comment, and the post's counter, in one transaction."""
    post = visible_post(caller_id, post_id)
    comment_id = new_id()
    item = {
        keys.PK: keys.post_pk(post_id),
        keys.SK: keys.comment_sk(comment_id),
        "GSI1PK": keys.comments_by_pk(caller_id),
        "GSI1SK": comment_id,
        "commentId": comment_id,
        "postId": post_id,
        "authorId": caller_id,
        "postAuthorId": post.author_id,
        "text": body.text,
        "createdAt": clock.now(),
    }
    db.get_store().transact_write(
        [db.tx_put(item, "attribute_not_exists(PK)"), _count(post_id, "commentCount", 1)]
    )
    return CommentOut(
        comment_id=comment_id,
        post_id=post_id,
        author=users.get_profile(caller_id).summary(),
        text=body.text,
        created_at=item["createdAt"],
    )


def comments(caller_id: str, post_id: str, limit: int, cursor: str | None) -> db.Page:
    """Comments, oldest first, with their authors (one BatchGetItem)."""
    page = _children(caller_id, post_id, keys.COMMENT_PREFIX, limit, cursor)
    authors = users.summary_map(c["authorId"] for c in page.items)
    return db.Page(
        [
            CommentOut(
                comment_id=c["commentId"],
                post_id=post_id,
                author=authors[c["authorId"]],
                text=c["text"],
                created_at=c["createdAt"],
            )
            for c in page.items
            if c["authorId"] in authors
        ],
        page.next_cursor,
    )


def delete_comment(caller: Identity, post_id: str, comment_id: str) -> None:
    """The comment's author, the post's author or a moderator removes a comment."""
    post = visible_post(caller.user_id, post_id)
    if not comment_id or "#" in comment_id:
        raise NotFound("comment not found")
    comment = db.get_store().get(keys.post_pk(post_id), keys.comment_sk(comment_id))
    if comment is None:
        raise NotFound("comment not found")
    moderator = not caller.groups.isdisjoint({MODERATORS, ADMINS})
    if caller.user_id not in (comment["authorId"], post.author_id) and not moderator:
        raise Forbidden("only the comment's author, the post's author or a moderator")
    db.get_store().transact_write(
        remove_counted(
            post_id,
            keys.comment_sk(comment_id),
            "commentCount",
            on_absent=NotFound("comment not found"),
        )
    )
    if caller.user_id not in (comment["authorId"], post.author_id):
        moderation.record(caller.user_id, "delete_comment", comment_id, post=post_id)


def timeline_items(owner_id: str, post_ids: Iterable[str], author_id: str) -> list[dict]:
    """Feed entries of ``post_ids`` for ``owner_id`` (fan-out and backfill)."""
    return [_timeline_item(owner_id, p, author_id) for p in post_ids]


def add_to_timelines(owner_ids: list[str], post_ids: list[str], author_id: str) -> None:
    """Copy ``post_ids`` of ``author_id`` into each owner's timeline, then trim each one back
    to LIST_CAP (a backfill, a refill: many posts at once)."""
    store = db.get_store()
    store.batch_write(
        puts=[item for owner in owner_ids for item in timeline_items(owner, post_ids, author_id)]
    )
    for owner in owner_ids:
        store.trim(keys.timeline_pk(owner), LIST_CAP)
