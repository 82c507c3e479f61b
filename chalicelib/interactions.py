"""Likes and comments on posts (reports are ``reports``).

Each like or comment moves the post's counter in the same transaction as the item it counts,
guarded by conditions, so a retried or concurrent request never double-counts; like and unlike
are idempotent."""

from __future__ import annotations

from typing import TypeVar

from chalicelib import access, clock, db, idempotency, keys, moderation, relations, users
from chalicelib.access import POST_NOT_FOUND
from chalicelib.entities import Comment, Like, Post, Profile
from chalicelib.errors import Conflict, EchomateError, Forbidden, NotFound
from chalicelib.identity import Identity
from chalicelib.ids import new_id
from chalicelib.models import CommentIn, CommentOut, LikeOut, MentionOut, UserSummary

C = TypeVar("C", Like, Comment)


def like(caller_id: str, post_id: str) -> LikeOut:
    """Like a post (idempotent): the like and the counter in one transaction."""
    post = access.visible_post(caller_id, post_id)
    already = Conflict("already liked")
    like_id = new_id()
    liked = db.get_store().transact_unless(
        [
            db.tx_put(
                Like(
                    like_id=like_id,
                    post_id=post_id,
                    user_id=caller_id,
                    author_id=post.author_id,
                    created_at=clock.now(),
                ),
                "attribute_not_exists(PK)",
                on_fail=already,
            ),
            _count(post_id, "likeCount", 1),
        ],
        unless=already,
    )
    return LikeOut(liked=True, like_count=post.like_count + liked)


def unlike(caller_id: str, post_id: str) -> LikeOut:
    """Take a like back (idempotent); also on a post the caller no longer sees, as long as
    their like is there (a 404 otherwise, as for any post they cannot see)."""
    try:
        post = access.visible_post(caller_id, post_id)
    except NotFound:
        post = access.find_post(post_id)
        if db.get_store().get(Like.key_of(post_id, caller_id), Like) is None:
            raise
    absent = NotFound("not liked")
    unliked = db.get_store().transact_unless(
        remove_counted(post_id, Like.key_of(post_id, caller_id), "likeCount", on_absent=absent),
        unless=absent,
    )
    return LikeOut(liked=False, like_count=max(0, post.like_count - unliked))


def remove_counted(
    post_id: str, key: tuple[str, str], counter: str, *, on_absent: EchomateError
) -> list[db.TxOp]:
    """The transaction that deletes a like or comment of a post (at ``key``) and moves the
    post's counter; a missing item raises ``on_absent``, a missing post the post's NotFound."""
    return [
        db.tx_delete(key, "attribute_exists(PK)", on_fail=on_absent),
        _count(post_id, counter, -1),
    ]


def _count(post_id: str, attribute: str, delta: int) -> db.TxOp:
    return db.tx_update(
        Post.key_of(post_id),
        "ADD #n :delta",
        "attribute_exists(PK)",
        values={":delta": delta},
        names={"#n": attribute},
        on_fail=NotFound(POST_NOT_FOUND),
    )


def likers(caller_id: str, post_id: str, limit: int, cursor: str | None) -> db.Page[UserSummary]:
    """Who liked a post (by user id), with their summaries."""
    page = _children(caller_id, post_id, Like, limit, cursor)
    return db.Page(users.summaries([i.user_id for i in page.items]), page.next_cursor)


def _children(
    caller_id: str, post_id: str, kind: type[C], limit: int, cursor: str | None
) -> db.Page[C]:
    """A page of the likes or comments of a post the caller may see, in key order."""
    access.visible_post(caller_id, post_id)
    prefix = keys.LIKE_PREFIX if kind is Like else keys.COMMENT_PREFIX
    return db.get_store().query_page(
        keys.post_pk(post_id),
        sk_prefix=prefix,
        limit=limit,
        cursor=cursor,
        newest_first=False,
        model=kind,
    )


def add_comment(
    caller_id: str, post_id: str, body: CommentIn, idempotency_key: str | None = None
) -> CommentOut:
    """A comment, and the post's counter, in one transaction; a reply also moves its top
    comment's ``replyCount`` (a reply to a reply attaches to the same top comment). With
    ``Idempotency-Key`` a retry returns the first answer and creates nothing."""
    once = idempotency.Key(caller_id, "create_comment", idempotency_key, body, scope=post_id)
    replay = once.replay(CommentOut)
    if replay is not None:
        return replay
    me = Profile.key_of(caller_id)
    seen = access.seen_post(caller_id, post_id, extra=[me])
    post = seen.post
    mentions = users.mentioned(body.text, "text")
    top = answered = None
    if body.reply_to is not None:
        answered = find_comment(post_id, body.reply_to)
        if answered is None or answered.author_id in relations.viewer().hidden:
            raise NotFound(
                "replyTo: comment not found", [{"field": "replyTo", "reason": "not_found"}]
            )
        top = answered.reply_to or answered.comment_id
    comment = Comment(
        comment_id=new_id(),
        post_id=post_id,
        author_id=caller_id,
        post_author_id=post.author_id,
        text=body.text,
        created_at=clock.now(),
        mentions=mentions,
        reply_to=top,
        replied_user_id=answered.author_id if answered else None,
    )
    ops = [db.tx_put(comment, "attribute_not_exists(PK)"), _count(post_id, "commentCount", 1)]
    if top is not None:
        ops.append(
            db.tx_update(
                Comment.key_of(post_id, top),
                "ADD replyCount :one",
                "attribute_exists(PK)",
                values={":one": 1},
                on_fail=NotFound(
                    "replyTo: comment not found", [{"field": "replyTo", "reason": "not_found"}]
                ),
            )
        )
    profile = seen.found.get(me)
    if not isinstance(profile, Profile):
        raise NotFound("your profile is gone")
    return once.write(ops, comment_view(comment, users.summary_of(profile)))


def find_comment(post_id: str, comment_id: str) -> Comment | None:
    """A comment of the post by id, top comment or reply (a GetItem, then a Query of the
    replies' index); None if there is none."""
    if not comment_id or "#" in comment_id or len(comment_id) > 64:
        return None
    store = db.get_store()
    comment = store.get(Comment.key_of(post_id, comment_id), Comment)
    if comment is not None:
        return comment
    found = keys.reply_id_pk(post_id, comment_id)
    page = store.query_page(found, index=keys.GSI3, limit=1, model=Comment)
    return page.items[0] if page.items else None


def replies(
    caller_id: str, post_id: str, comment_id: str, limit: int, cursor: str | None
) -> db.Page[CommentOut]:
    """The replies to a top comment, oldest first, with their authors (users hidden from the
    caller left out): the post's read, a GetItem of the comment, one Query, one BatchGetItem."""
    access.visible_post(caller_id, post_id)
    top = find_comment(post_id, comment_id)
    if top is None or top.reply_to or top.author_id in relations.viewer().hidden:
        raise NotFound("comment not found")
    page = db.get_store().query_page(
        keys.post_pk(post_id),
        sk_prefix=keys.replies_prefix(top.comment_id),
        limit=limit,
        cursor=cursor,
        newest_first=False,
        model=Comment,
    )
    return page.map(lambda items: users.with_users(items, lambda c: c.author_id, comment_view))


def comment_view(comment: Comment, author: UserSummary) -> CommentOut:
    return CommentOut(
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        author=author,
        text=comment.text,
        mentions=[
            MentionOut(user_id=m["userId"], username=m["username"]) for m in comment.mentions
        ],
        reply_to=comment.reply_to,
        reply_count=comment.reply_count,
        created_at=comment.created_at,
    )


def comments(caller_id: str, post_id: str, limit: int, cursor: str | None) -> db.Page[CommentOut]:
    """Comments, oldest first, with their authors (one BatchGetItem)."""
    page = _children(caller_id, post_id, Comment, limit, cursor)
    return page.map(lambda items: users.with_users(items, lambda c: c.author_id, comment_view))


def delete_comment(caller: Identity, post_id: str, comment_id: str) -> None:
    """The comment's author, the post's author or a moderator removes a comment (its author
    also on a post they no longer see). A top comment takes its replies with it, the post's
    count corrected for each; a reply moves its top comment's ``replyCount`` too."""
    post = access.find_post(post_id)
    comment = find_comment(post_id, comment_id)
    if comment is None or comment.author_id != caller.user_id:
        access.visible_post(caller.user_id, post_id, moderator=caller.is_moderator)
    if comment is None:
        raise NotFound("comment not found")
    moderator = caller.is_moderator
    if caller.user_id not in (comment.author_id, post.author_id) and not moderator:
        raise Forbidden("only the comment's author, the post's author or a moderator")
    store = db.get_store()
    gone = NotFound("comment not found")
    if comment.reply_to is None:
        # its replies first, a page at a time, each page with the post's count in one
        # transaction (a rerun after a failure finds fewer)
        while True:
            page = store.query_keys(
                keys.post_pk(post_id), sk_prefix=keys.replies_prefix(comment.comment_id)
            )
            if not page:
                break
            for chunk in [page[i : i + 25] for i in range(0, len(page), 25)]:
                store.transact_write(
                    [db.tx_delete(k) for k in chunk]
                    + [_count(post_id, "commentCount", -len(chunk))]
                )
        store.transact_write(remove_counted(post_id, comment.key, "commentCount", on_absent=gone))
    else:
        store.transact_write(
            [
                *remove_counted(post_id, comment.key, "commentCount", on_absent=gone),
                db.tx_update(
                    Comment.key_of(post_id, comment.reply_to),
                    "ADD replyCount :minus",
                    "attribute_exists(PK)",
                    values={":minus": -1},
                ),
            ]
        )
    if caller.user_id not in (comment.author_id, post.author_id):
        moderation.record(caller.user_id, "delete_comment", comment_id, post=post_id)
