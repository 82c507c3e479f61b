"""Likes, comments and reports on posts.

Each like or comment moves the post's counter in the same transaction as the item it counts,
guarded by conditions, so a retried or concurrent request never double-counts; like and unlike
are idempotent. A report is kept once per user per post."""

from __future__ import annotations

from typing import Any

from chalicelib import access, clock, db, keys, moderation, users
from chalicelib.access import POST_NOT_FOUND
from chalicelib.errors import Conflict, EchomateError, Forbidden, NotFound
from chalicelib.identity import Identity
from chalicelib.ids import new_id
from chalicelib.models import CommentIn, CommentOut, LikeOut, ReportIn, UserSummary


def like(caller_id: str, post_id: str) -> LikeOut:
    """Like a post (idempotent): the like and the counter in one transaction."""
    post = access.visible_post(caller_id, post_id)
    already = Conflict("already liked")
    like_id = new_id()
    liked = db.get_store().transact_unless(
        [
            db.tx_put(
                {
                    keys.PK: keys.post_pk(post_id),
                    keys.SK: keys.like_sk(caller_id),
                    keys.GSI1PK: keys.likes_by_pk(caller_id),
                    keys.GSI1SK: like_id,
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
        ],
        unless=already,
    )
    return LikeOut(liked=True, like_count=post.like_count + liked)


def unlike(caller_id: str, post_id: str) -> LikeOut:
    """Take a like back (idempotent)."""
    post = access.visible_post(caller_id, post_id)
    absent = NotFound("not liked")
    unliked = db.get_store().transact_unless(
        remove_counted(post_id, keys.like_sk(caller_id), "likeCount", on_absent=absent),
        unless=absent,
    )
    return LikeOut(liked=False, like_count=max(0, post.like_count - unliked))


def remove_counted(
    post_id: str, sk: str, counter: str, *, on_absent: EchomateError
) -> list[db.TxOp]:
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
        on_fail=NotFound(POST_NOT_FOUND),
    )


def likers(caller_id: str, post_id: str, limit: int, cursor: str | None) -> db.Page[UserSummary]:
    """Who liked a post (by user id), with their summaries."""
    page = _children(caller_id, post_id, keys.LIKE_PREFIX, limit, cursor)
    return db.Page(users.summaries([i["userId"] for i in page.items]), page.next_cursor)


def _children(
    caller_id: str, post_id: str, prefix: str, limit: int, cursor: str | None
) -> db.Page[Any]:
    """A page of the likes or comments of a post the caller may see, in key order."""
    access.visible_post(caller_id, post_id)
    return db.get_store().query_page(
        keys.post_pk(post_id), sk_prefix=prefix, limit=limit, cursor=cursor, newest_first=False
    )


def add_comment(caller_id: str, post_id: str, body: CommentIn) -> CommentOut:
    """A comment, and the post's counter, in one transaction."""
    post = access.visible_post(caller_id, post_id)
    comment_id = new_id()
    item = {
        keys.PK: keys.post_pk(post_id),
        keys.SK: keys.comment_sk(comment_id),
        keys.GSI1PK: keys.comments_by_pk(caller_id),
        keys.GSI1SK: comment_id,
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


def comments(caller_id: str, post_id: str, limit: int, cursor: str | None) -> db.Page[CommentOut]:
    """Comments, oldest first, with their authors (one BatchGetItem)."""
    page = _children(caller_id, post_id, keys.COMMENT_PREFIX, limit, cursor)
    return page.map(
        lambda items: users.with_users(
            items,
            lambda c: c["authorId"],
            lambda c, author: CommentOut(
                comment_id=c["commentId"],
                post_id=post_id,
                author=author,
                text=c["text"],
                created_at=c["createdAt"],
            ),
        )
    )


def delete_comment(caller: Identity, post_id: str, comment_id: str) -> None:
    """The comment's author, the post's author or a moderator removes a comment."""
    post = access.visible_post(caller.user_id, post_id)
    if not comment_id or "#" in comment_id:
        raise NotFound("comment not found")
    comment = db.get_store().get(keys.post_pk(post_id), keys.comment_sk(comment_id))
    if comment is None:
        raise NotFound("comment not found")
    moderator = caller.is_moderator
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


# Reports ------------------------------------------------------------------------------------------
def report(caller_id: str, post_id: str, body: ReportIn) -> None:
    """Report a post once (a second report by the same user is a 409)."""
    post = access.visible_post(caller_id, post_id)
    report_id = new_id()
    db.get_store().put(
        {
            keys.PK: keys.post_pk(post_id),
            keys.SK: keys.report_sk(caller_id),
            keys.GSI1PK: keys.REPORTS_PK,
            keys.GSI1SK: report_id,
            keys.GSI2PK: keys.reports_by_pk(caller_id),
            keys.GSI2SK: report_id,
            "reportId": report_id,
            "postId": post_id,
            "postAuthorId": post.author_id,
            "reporterId": caller_id,
            "reason": body.reason,
            "createdAt": clock.now(),
        },
        condition="attribute_not_exists(PK)",
        on_fail=Conflict("you already reported this post", [{"reason": "duplicate"}]),
    )
