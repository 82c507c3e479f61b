"""Notifications: likes, comments and follows of the caller's things, newest first.

Written by the stream handler (``events``), never for acting on one's own things. A burst of
likes on one post is capped: each of the first ``LIKE_NOTIFICATION_CAP`` likes notifies, after
that only milestones (100, 1,000, ...), so a viral post cannot flood the list. Items expire after
90 days. ``read`` is derived from one timestamp on the profile (``POST /activity/read``), so
marking everything read is a single write.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from chalicelib import db, keys, users
from chalicelib.errors import NotFound
from chalicelib.models import ActivityOut

LIKE_NOTIFICATION_CAP = 50
TTL_SECONDS = 90 * 24 * 3600


def notify_like(like_count: int) -> bool:
    """Whether the like that brought a post to ``like_count`` notifies its author."""
    if like_count <= LIKE_NOTIFICATION_CAP:
        return True
    return like_count >= 100 and str(like_count).rstrip("0") == "1"


def notification(
    owner_id: str,
    activity_id: str,
    kind: str,
    actor_id: str,
    created_at: str,
    post_id: str | None = None,
    comment_id: str | None = None,
) -> dict[str, Any]:
    """The item of one notification; ``activity_id`` comes from the source (like, comment or
    edge id), so a redelivered stream record rewrites the same item."""
    item = {
        keys.PK: keys.activity_pk(owner_id),
        keys.SK: activity_id,
        "type": kind,
        "actorId": actor_id,
        "createdAt": created_at,
        keys.TTL_ATTRIBUTE: int(time.time()) + TTL_SECONDS,
    }
    if post_id:
        item |= {
            "postId": post_id,
            keys.GSI1PK: keys.post_activity_pk(post_id),
            keys.GSI1SK: activity_id,
        }
    if comment_id:
        item["commentId"] = comment_id
    return item


def list_activity(caller_id: str, limit: int, cursor: str | None) -> db.Page[ActivityOut]:
    """The caller's notifications, newest first, with their actors (one BatchGetItem)."""
    profile = users.get_profile(caller_id)
    read_up_to = profile.activity_read_up_to
    page = db.get_store().query_page(keys.activity_pk(caller_id), limit=limit, cursor=cursor)
    return page.map(
        lambda items: users.with_users(
            items,
            lambda a: a["actorId"],
            lambda a, actor: ActivityOut(
                type=a["type"],
                actor=actor,
                post_id=a.get("postId"),
                comment_id=a.get("commentId"),
                created_at=a["createdAt"],
                read=a["createdAt"] <= read_up_to,
            ),
        )
    )


def mark_read(caller_id: str, up_to: str) -> None:
    """Everything created at or before ``up_to`` is read (the mark never moves back)."""
    unchanged = NotFound("already read")
    try:
        db.get_store().update(
            keys.user_pk(caller_id),
            keys.PROFILE_SK,
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
def on_like(like: Mapping[str, Any]) -> None:
    if like["userId"] == like["authorId"]:
        return
    post = db.get_store().get(keys.post_pk(like["postId"]), keys.POST_SK)
    if post is None or not notify_like(post.get("likeCount", 0)):
        return
    db.get_store().put(
        notification(
            like["authorId"],
            like["likeId"],
            "like",
            like["userId"],
            like["createdAt"],
            post_id=like["postId"],
        )
    )


def on_comment(comment: Mapping[str, Any]) -> None:
    if comment["authorId"] == comment["postAuthorId"]:
        return
    db.get_store().put(
        notification(
            comment["postAuthorId"],
            comment["commentId"],
            "comment",
            comment["authorId"],
            comment["createdAt"],
            post_id=comment["postId"],
            comment_id=comment["commentId"],
        )
    )


def on_follow(edge: Mapping[str, Any]) -> None:
    edge_id = keys.edge_id_of(edge.get(keys.GSI1SK, ""))
    if not edge_id:
        return
    db.get_store().put(
        notification(edge["followeeId"], edge_id, "follow", edge["followerId"], edge["createdAt"])
    )
