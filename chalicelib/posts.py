"""Posts and what hangs on them: the feed, explore, hashtag search, likes and comments.

Reading rules: a ``followers`` post, and every post of a private account, is visible to its
author and their followers only (a 404 to anyone else, everywhere); explore and hashtag search
list public posts of public accounts only. A page of posts
costs one Query (or a few on explore), one BatchGetItem of posts with the caller's likes, and
one BatchGetItem of authors: media facts are copied into the post when it is made (they are
immutable once ready), so no media is read.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from typing import Any

from chalicelib import (
    access,
    clock,
    db,
    keys,
    media,
    moderation,
    relations,
    tasks,
    timelines,
    users,
)
from chalicelib.entities import (
    Follow,
    HashtagEntry,
    IdempotencyRecord,
    Like,
    Post,
    Profile,
    ReportCase,
    TimelineEntry,
)
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.identity import Identity
from chalicelib.ids import new_id
from chalicelib.models import (
    PostIn,
    PostMediaOut,
    PostOut,
    Renditions,
    UserSummary,
)

MAX_HASHTAGS = 30
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
_TAG = re.compile(r"(?<![\w#&])#(\w{1,100})")
_NOT_FOUND = "post not found"


def hashtags(caption: str) -> list[str]:
    """The caption's hashtags, lower-case, without ``#``, in order (30 at most), each once as
    its key sees it: ``#Café`` and ``#cafe`` fold to one key (``keys.hashtag_pk``), so only the
    first is kept (two writes of one key in a transaction would be refused). A tag that folds to
    nothing usable as a key is skipped."""
    tags: dict[str, str] = {}
    for tag in _TAG.findall(caption):
        tag = tag.lower()
        folded = keys.fold(tag)  # what keys.hashtag_pk writes
        if tag.isdigit() or not folded or "#" in folded:
            continue
        tags.setdefault(folded, tag)
    return list(tags.values())[:MAX_HASHTAGS]


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
        record_key = IdempotencyRecord.key_of(caller_id, "create_post", idempotency_key)
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
    ops = [
        db.tx_put(post, "attribute_not_exists(PK)"),
        db.tx_update(
            Profile.key_of(caller_id),
            "ADD postCount :one",
            "attribute_exists(PK) AND attribute_not_exists(deletedAt)",
            values={":one": 1},
            on_fail=NotFound("your profile is gone"),
        ),
        db.tx_put(timelines.timeline_item(caller_id, post_id, caller_id)),  # own posts in own feed
        *(media.attach_op(m.media_id, caller_id, f"post:{post_id}") for m in items),
    ]
    if post.visibility == "public":
        ops += [db.tx_put(_tagged(t, post)) for t in post.hashtags]
    view = _render_one(
        post,
        author.summary(),
        liked=False,
        restricted=post.visibility == "followers" or author.private,
    )
    if record_key is not None:
        duplicate = Conflict("duplicate request")
        record = IdempotencyRecord(
            user_id=caller_id,
            operation="create_post",
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            response=view.to_json(),
            ttl=int(time.time()) + IDEMPOTENCY_TTL_SECONDS,
        )
        ops.append(
            db.tx_put(
                record,
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


def _tagged(tag: str, post: Post) -> HashtagEntry:
    return HashtagEntry(tag=tag, post_id=post.post_id, author_id=post.author_id)


def _replay(record_key: tuple[str, str], request_hash: str) -> PostOut | None:
    record = db.get_store().get(record_key, IdempotencyRecord, consistent=True)
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise Conflict(
            "Idempotency-Key: already used for a different request",
            [{"field": "Idempotency-Key", "reason": "reused"}],
        )
    return PostOut.model_validate(record.response)


def edit_post(caller_id: str, post_id: str, caption: str) -> PostOut:
    """The author changes the caption (``editedAt``); hashtags follow it."""
    post = access.visible_post(caller_id, post_id)
    if post.author_id != caller_id:
        raise Forbidden("only the author can edit a post")
    new_tags = hashtags(caption)
    now = clock.now()
    ops = [
        db.tx_update(
            post.key,
            "SET caption = :caption, hashtags = :tags, editedAt = :now",
            "attribute_exists(PK)",
            values={":caption": caption, ":tags": new_tags, ":now": now},
            on_fail=NotFound(_NOT_FOUND),
        )
    ]
    if post.visibility == "public":
        # Compared by the folded form the keys use: "#Café" edited to "#cafe" is the same entry
        # (deleting and putting one key in a transaction would be refused).
        old = {keys.fold(t): t for t in post.hashtags}
        new = {keys.fold(t): t for t in new_tags}
        ops += [db.tx_delete(HashtagEntry.key_of(old[k], post_id)) for k in old.keys() - new]
        ops += [db.tx_put(_tagged(new[k], post)) for k in new.keys() - old]
    db.get_store().transact_write(ops)
    post = post.model_copy(update={"caption": caption, "hashtags": new_tags, "edited_at": now})
    return render(caller_id, [post])[0]


def delete_post(caller: Identity, post_id: str) -> None:
    """The author, or a moderator, deletes a post; its likes, comments, hashtags, feed copies,
    notifications and media go in the background (a job)."""
    post = access.visible_post(caller.user_id, post_id, moderator=caller.is_moderator)
    moderator = caller.is_moderator
    if post.author_id != caller.user_id and not moderator:
        raise Forbidden("only the author or a moderator can delete a post")
    db.get_store().transact_write(
        [
            db.tx_delete(post.key, "attribute_exists(PK)", on_fail=NotFound(_NOT_FOUND)),
            db.tx_update(
                Profile.key_of(post.author_id),
                "ADD postCount :minus",
                "attribute_exists(PK)",
                values={":minus": -1},
            ),
            tasks.job_op(tasks.DELETE_POST, post.author_id, post=post.model_dump(by_alias=True)),
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
    # Reports on it, and its open case, go; a resolved case stays as the moderators' record.
    reported = keys.reported_pk("post", post.post_id)
    store.delete_listed(reported, sk_prefix=keys.REPORT_PREFIX, before_page=spend)
    spend()
    store.delete(ReportCase.open_key("post", post.post_id))
    store.batch_write(
        deletes=[HashtagEntry.key_of(t, post.post_id) for t in post.hashtags]
        + [TimelineEntry.key_of(post.author_id, post.post_id), post.key]
    )
    cursor = None
    while True:  # feed copies: the author's followers
        spend()
        page = store.query_page(
            keys.followers_pk(post.author_id),
            index=keys.GSI1,
            limit=100,
            cursor=cursor,
            model=Follow,
        )
        store.batch_write(
            deletes=[TimelineEntry.key_of(e.follower_id, post.post_id) for e in page.items]
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


def get_post(caller_id: str, post_id: str, *, moderator: bool = False) -> PostOut:
    """A post the caller may see (a moderator sees every post, to act on reports)."""
    post = access.visible_post(caller_id, post_id, moderator=moderator)
    rendered = render(caller_id, [post])
    if rendered:
        return rendered[0]
    author = users.find_profile(post.author_id) if moderator else None
    if author is None:
        raise NotFound(_NOT_FOUND)
    # hidden from others, not moderators
    restricted = post.visibility == "followers" or author.private
    return _render_one(post, author.summary(), liked=False, restricted=restricted)


def render(
    caller_id: str,
    posts: list[Post],
    liked: set[str] | None = None,
    *,
    public_only: bool = False,
) -> list[PostOut]:
    """API views of the ``posts`` the caller may see now: one BatchGetItem of the authors and
    of the caller's follow edges to them (and one of the caller's likes unless ``liked`` is
    given). Left out: posts of authors who are gone or hidden from the caller, and
    followers-only posts or private accounts' posts of authors the caller does not follow now
    (a timeline keeps them). ``public_only`` (explore, hashtag search) lists public posts of
    public accounts only, and reads no edges."""
    if not posts:
        return []
    store = db.get_store()
    if liked is None:
        like_keys = {p.post_id: Like.key_of(p.post_id, caller_id) for p in posts}
        likes = store.batch_get(list(like_keys.values()), Like)
        liked = {post_id for post_id, key in like_keys.items() if key in likes}
    if public_only:
        posts = [p for p in posts if p.visibility == "public"]
    others = {p.author_id for p in posts if p.author_id != caller_id}
    authors, followed = users.summaries_and_follows(
        caller_id, [p.author_id for p in posts], () if public_only else others
    )
    views = []
    for p in posts:
        author = authors.get(p.author_id)
        if author is None:
            continue
        if public_only and author.private:
            continue
        restricted = p.visibility == "followers" or author.private
        if restricted and p.author_id in others and p.author_id not in followed:
            continue
        views.append(_render_one(p, author, p.post_id in liked, restricted=restricted))
    return views


def _render_one(post: Post, author: UserSummary, liked: bool, *, restricted: bool) -> PostOut:
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


def posts_and_likes(caller_id: str, post_ids: list[str]) -> tuple[list[Post], set[str]]:
    """Posts by id, in that order, and which of them the caller likes: one BatchGetItem."""
    wanted = [Post.key_of(p) for p in post_ids] + [Like.key_of(p, caller_id) for p in post_ids]
    found = db.get_store().batch_get(wanted)
    posts = [p for p in (found.get(Post.key_of(i)) for i in post_ids) if isinstance(p, Post)]
    liked = {p for p in post_ids if Like.key_of(p, caller_id) in found}
    return posts, liked


def user_posts(caller_id: str, handle: str, limit: int, cursor: str | None) -> db.Page[PostOut]:
    """A user's posts, newest first (followers-only ones for followers and the author); a 404
    when either of them blocks the other, a 403 (``private_account``) for a private account's
    outsiders."""
    author = users.visible_to(caller_id, handle)
    may_see_all = caller_id == author.user_id or access.follows(caller_id, author.user_id)
    if author.private and not may_see_all:
        raise access.private_account()
    page = db.get_store().query_page(
        keys.user_posts_pk(author.user_id), index=keys.GSI1, limit=limit, cursor=cursor, model=Post
    )
    posts = [p for p in page.items if may_see_all or p.visibility == "public"]
    return db.Page(render(caller_id, posts), page.next_cursor)


def search_tag(caller_id: str, tag: str, limit: int, cursor: str | None) -> db.Page[PostOut]:
    """Public posts with ``tag``, newest first."""
    tag = tag.removeprefix("#").lower()
    folded = keys.fold(tag)
    if not re.fullmatch(r"\w{1,100}", tag) or not folded or "#" in folded:
        raise Invalid(
            "tag: letters, digits or _ (without #)", [{"field": "tag", "reason": "format"}]
        )
    page = db.get_store().query_page(
        keys.hashtag_pk(tag), limit=limit, cursor=cursor, model=HashtagEntry
    )
    hidden = relations.viewer().hidden
    wanted = [i.post_id for i in page.items if i.author_id not in hidden]
    posts, liked = posts_and_likes(caller_id, wanted)
    return db.Page(render(caller_id, posts, liked, public_only=True), page.next_cursor)
