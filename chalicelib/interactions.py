"""Likes and comments on posts (reports are ``reports``).

Each like or comment moves the post's counter in the same transaction as the item it counts,
guarded by conditions, so a retried or concurrent request never double-counts; like and unlike
are idempotent."""

from __future__ import annotations

from typing import TypeVar

from chalicelib import access, clock, db, keys, moderation, users
from chalicelib.access import POST_NOT_FOUND
from chalicelib.entities import Comment, Like, Post
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


def add_comment(caller_id: str, post_id: str, body: CommentIn) -> CommentOut:
    """A comment, and the post's counter, in one transaction."""
    post = access.visible_post(caller_id, post_id)
    mentions = users.mentioned(body.text, "text")
    comment_id = new_id()
    comment = Comment(
        comment_id=comment_id,
        post_id=post_id,
        author_id=caller_id,
        post_author_id=post.author_id,
        text=body.text,
        created_at=clock.now(),
        mentions=mentions,
    )
    db.get_store().transact_write(
        [db.tx_put(comment, "attribute_not_exists(PK)"), _count(post_id, "commentCount", 1)]
    )
    return _comment_view(comment, users.get_profile(caller_id).summary())


def _comment_view(comment: Comment, author: UserSummary) -> CommentOut:
    return CommentOut(
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        author=author,
        text=comment.text,
        mentions=[
            MentionOut(user_id=m["userId"], username=m["username"]) for m in comment.mentions
        ],
        created_at=comment.created_at,
    )


def comments(caller_id: str, post_id: str, limit: int, cursor: str | None) -> db.Page[CommentOut]:
    """Comments, oldest first, with their authors (one BatchGetItem)."""
    page = _children(caller_id, post_id, Comment, limit, cursor)
    return page.map(lambda items: users.with_users(items, lambda c: c.author_id, _comment_view))


def delete_comment(caller: Identity, post_id: str, comment_id: str) -> None:
    """The comment's author, the post's author or a moderator removes a comment (its author
    also on a post they no longer see)."""
    post = access.find_post(post_id)
    if not comment_id or "#" in comment_id:
        raise NotFound("comment not found")
    comment = db.get_store().get(Comment.key_of(post_id, comment_id), Comment)
    if comment is None or comment.author_id != caller.user_id:
        access.visible_post(caller.user_id, post_id, moderator=caller.is_moderator)
    if comment is None:
        raise NotFound("comment not found")
    moderator = caller.is_moderator
    if caller.user_id not in (comment.author_id, post.author_id) and not moderator:
        raise Forbidden("only the comment's author, the post's author or a moderator")
    db.get_store().transact_write(
        remove_counted(
            post_id, comment.key, "commentCount", on_absent=NotFound("comment not found")
        )
    )
    if caller.user_id not in (comment.author_id, post.author_id):
        moderation.record(caller.user_id, "delete_comment", comment_id, post=post_id)
