"""Notifications: likes, comments and follows of the caller's things, follow requests to a
private account and their acceptance, newest first.

Written by the stream handler (``events``), never for acting on one's own things. A burst of
likes on one post is capped: each of the first ``LIKE_NOTIFICATION_CAP`` likes notifies, after
that only milestones (100, 1,000, ...), so a viral post cannot flood the list. Items expire after
90 days. ``read`` is derived from one timestamp on the profile (``POST /activity/read``), so
marking everything read is a single write.
"""

from __future__ import annotations

import time

from chalicelib import access, db, keys, relations, users
from chalicelib.entities import (
    Comment,
    Follow,
    FollowRequest,
    Like,
    Notification,
    NotifiedMark,
    Post,
    Profile,
)
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import ActivityOut, ActivityType

LIKE_NOTIFICATION_CAP = 50
TTL_SECONDS = 90 * 24 * 3600
#: a like or a follow by the same actor on the same target notifies once in this window
REPEAT_WINDOW_SECONDS = 24 * 3600


def notify_like(like_count: int) -> bool:
    """Whether the like that brought a post to ``like_count`` notifies its author."""
    if like_count <= LIKE_NOTIFICATION_CAP:
        return True
    return like_count >= 100 and str(like_count).rstrip("0") == "1"


def notification(
    owner_id: str,
    activity_id: str,
    kind: ActivityType,
    actor_id: str,
    created_at: str,
    post_id: str | None = None,
    comment_id: str | None = None,
) -> Notification:
    """One notification; ``activity_id`` comes from the source (like, comment or edge id), so
    a redelivered stream record rewrites the same item."""
    return Notification(
        owner_id=owner_id,
        activity_id=activity_id,
        type=kind,
        actor_id=actor_id,
        created_at=created_at,
        post_id=post_id,
        comment_id=comment_id,
        ttl=int(time.time()) + TTL_SECONDS,
    )


def list_activity(caller_id: str, limit: int, cursor: str | None) -> db.Page[ActivityOut]:
    """The caller's notifications, newest first, with their actors (one BatchGetItem)."""
    profile = users.get_profile(caller_id)
    read_up_to = profile.activity_read_up_to
    page = db.get_store().query_page(
        keys.activity_pk(caller_id), limit=limit, cursor=cursor, model=Notification
    )
    return page.map(lambda items: with_actors(items, read_up_to))


def with_actors(items: list[Notification], read_up_to: str) -> list[ActivityOut]:
    """The activity views of ``items``, each with its actor (one BatchGetItem; a notification
    whose actor is gone or disabled is left out), read when made at or before ``read_up_to``
    ("" for none read)."""
    return users.with_users(
        items,
        lambda n: n.actor_id,
        lambda n, actor: ActivityOut(
            type=n.type,
            actor=actor,
            post_id=n.post_id,
            comment_id=n.comment_id,
            created_at=n.created_at,
            read=n.created_at <= read_up_to,
        ),
    )


def mark_read(caller_id: str, up_to: str) -> None:
    """Everything created at or before ``up_to`` is read (the mark never moves back)."""
    unchanged = NotFound("already read")
    try:
        db.get_store().update(
            Profile.key_of(caller_id),
            "SET activityReadUpTo = :upto",
            condition="attribute_exists(PK) AND (attribute_not_exists(activityReadUpTo) "
            "OR activityReadUpTo < :upto)",
            values={":upto": up_to},
            on_fail=unchanged,
        )
    except NotFound as exc:
        if exc is not unchanged:
            raise


# From the stream -------------------------------------------------------------------------------
def _quiet(owner_id: str, actor_id: str) -> bool:
    """Whether ``actor_id`` may not notify ``owner_id``: either blocks the other, or the owner
    mutes the actor's notifications (one BatchGetItem)."""
    standing = relations.read_between(owner_id, actor_id)
    return actor_id in standing.hidden or actor_id in standing.quieted


def on_like(like: Like) -> None:
    if like.user_id == like.author_id or _quiet(like.author_id, like.user_id):
        return
    post = db.get_store().get(Post.key_of(like.post_id), Post)
    if post is None or not notify_like(post.like_count):
        return
    if not first_in_window(like.author_id, "like", like.user_id, like.post_id):
        return
    db.get_store().put(
        notification(
            like.author_id,
            like.like_id,
            "like",
            like.user_id,
            like.created_at,
            post_id=like.post_id,
        )
    )


def on_comment(comment: Comment) -> None:
    if comment.author_id == comment.post_author_id:
        return
    if comment.replied_user_id == comment.post_author_id:
        return  # a reply to the post's author: they get the ``reply`` notification
    if _quiet(comment.post_author_id, comment.author_id):
        return
    db.get_store().put(
        notification(
            comment.post_author_id,
            comment.comment_id,
            "comment",
            comment.author_id,
            comment.created_at,
            post_id=comment.post_id,
            comment_id=comment.comment_id,
        )
    )


def on_follow(edge: Follow) -> None:
    if not edge.edge_id or _quiet(edge.followee_id, edge.follower_id):
        return
    if not first_in_window(edge.followee_id, "follow", edge.follower_id, edge.followee_id):
        return
    db.get_store().put(
        notification(edge.followee_id, edge.edge_id, "follow", edge.follower_id, edge.created_at)
    )


def on_follow_accepted(edge: Follow) -> None:
    """The requester learns that the private account accepted them (once per edge)."""
    if not edge.accepted or _quiet(edge.follower_id, edge.followee_id):
        return
    db.get_store().put(
        notification(
            edge.follower_id,
            f"{edge.edge_id}#accepted",
            "follow_accepted",
            edge.followee_id,
            edge.created_at,
        )
    )


def on_follow_request(request: FollowRequest) -> None:
    """The owner of a private account learns of a request (once a window per requester)."""
    if _quiet(request.owner_id, request.requester_id):
        return
    if not first_in_window(request.owner_id, "request", request.requester_id, request.owner_id):
        return
    db.get_store().put(
        notification(
            request.owner_id,
            request.edge_id,
            "follow_request",
            request.requester_id,
            request.created_at,
        )
    )


def first_in_window(
    owner_id: str, kind: str, actor_id: str, target: str, *, now: float | None = None
) -> bool:
    """Whether this is the first ``kind`` notification from ``actor_id`` on ``target`` to
    ``owner_id`` within ``REPEAT_WINDOW_SECONDS`` (a conditional Put of a mark; TTL removes
    marks late, so an expired one is overwritten by the condition itself)."""
    now = time.time() if now is None else now
    mark = NotifiedMark(
        owner_id=owner_id,
        kind=kind,
        actor_id=actor_id,
        target=target,
        ttl=int(now) + REPEAT_WINDOW_SECONDS,
    )
    try:
        db.get_store().put(
            mark,
            condition="attribute_not_exists(PK) OR #ttl < :now",
            values={":now": int(now)},
            names={"#ttl": keys.TTL_ATTRIBUTE},
        )
    except Conflict:
        return False
    return True


def on_request_answered(request: FollowRequest) -> None:
    """A request accepted, rejected, withdrawn or dropped: its notification goes (an accepted
    one is followed by a ``follow`` notification of its own)."""
    db.get_store().delete(Notification.key_of(request.owner_id, request.edge_id))


def on_mentions(
    post_id: str,
    author_id: str,
    mentions: list[dict[str, str]],
    before: list[dict[str, str]],
    created_at: str,
    *,
    comment_id: str | None = None,
    told: set[str] | None = None,
) -> None:
    """Each user newly named in a caption or a comment learns of it (``mention``), unless they
    are its author, either blocks the other, they mute the author, or they cannot see the
    post. An edit notifies only those it adds; ``told`` (the post's author and the replied
    user, whom a comment notifies already) get no second notification."""
    known = {m["userId"] for m in before} | (told or set())
    for mention in mentions:
        user_id = mention["userId"]
        if user_id == author_id or user_id in known or _quiet(user_id, author_id):
            continue
        try:
            access.seen_post(user_id, post_id)
        except NotFound:
            continue
        db.get_store().put(
            notification(
                user_id,
                f"{comment_id or post_id}#mention",
                "mention",
                author_id,
                created_at,
                post_id=post_id,
                comment_id=comment_id,
            )
        )


def on_reply(comment: Comment) -> None:
    """Whoever wrote the comment answered learns of the reply (``reply``), unless it is their
    own, either blocks the other, or they mute the replier."""
    owner = comment.replied_user_id
    if not owner or owner == comment.author_id or _quiet(owner, comment.author_id):
        return
    db.get_store().put(
        notification(
            owner,
            f"{comment.comment_id}#reply",
            "reply",
            comment.author_id,
            comment.created_at,
            post_id=comment.post_id,
            comment_id=comment.comment_id,
        )
    )
