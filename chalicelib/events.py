"""The table's stream, turned into background work: feed fan-out and backfill, notifications,
big-account flags, and jobs. Every consumer is idempotent (Lambda and the local event pump may
deliver a record twice) and cheap to skip (records are routed by their keys alone)."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib import activity, db, jobs, keys, posts, users
from chalicelib.config import get_settings
from chalicelib.errors import Conflict
from chalicelib.models import Post

log = logging.getLogger(__name__)


def dispatch(records: Iterable[Any], seconds: float) -> None:
    """Route each stream record to its consumer."""
    for record in records:
        new, old = _plain(record.new_image), _plain(record.old_image)
        image = new or old
        pk, sk = image.get(keys.PK, ""), image.get(keys.SK, "")
        kind = record.event_name
        if pk.startswith("JOB#"):
            if kind != "REMOVE" and new.get("status") == "pending":
                jobs.run_job(new["jobId"], jobs.Budget(seconds))
        elif pk.startswith("POST#") and sk == keys.POST_SK and kind == "INSERT":
            fan_out(Post.model_validate(db.from_item(new)))
        elif pk.startswith("POST#") and sk.startswith(keys.LIKE_PREFIX) and kind == "INSERT":
            _notify_like(new)
        elif pk.startswith("POST#") and sk.startswith(keys.COMMENT_PREFIX) and kind == "INSERT":
            _notify_comment(new)
        elif pk.startswith("USER#") and sk.startswith(keys.FOLLOW_PREFIX):
            if kind == "INSERT":
                backfill(new["followerId"], new["followeeId"])
                _notify_follow(new)
            elif kind == "REMOVE":
                unfill(old["followerId"], old["followeeId"])
        elif pk.startswith("USER#") and sk == keys.PROFILE_SK and kind == "MODIFY":
            flag_big_account(new)


def _plain(image: Mapping[str, Any] | None) -> dict[str, Any]:
    if not image:
        return {}
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return db.plain({k: deserializer.deserialize(v) for k, v in image.items()})


# Feed ------------------------------------------------------------------------------------------
def fan_out(post: Post) -> int:
    """Copy a new post into each follower's timeline, unless the author is a big account
    (their posts are merged at read time). Returns how many timelines got it."""
    store = db.get_store()
    if _trim_due(post.author_id, post.post_id):  # the post is in its author's own timeline too
        store.trim(keys.timeline_pk(post.author_id), posts.LIST_CAP)
    author = users.find_profile(post.author_id)
    if author is None or author.follower_count >= get_settings().fanout_max_followers:
        return 0
    cursor, copied = None, 0
    while True:
        page = store.query_page(
            keys.followers_pk(post.author_id), index=keys.GSI1, limit=100, cursor=cursor
        )
        followers = [e["followerId"] for e in page.items]
        store.batch_write(
            puts=[
                item
                for follower in followers
                for item in posts.timeline_items(follower, [post.post_id], post.author_id)
            ]
        )
        for follower in followers:
            if _trim_due(follower, post.post_id):
                store.trim(keys.timeline_pk(follower), posts.LIST_CAP)
        copied += len(page.items)
        if page.next_cursor is None:
            return copied
        cursor = page.next_cursor


def _trim_due(owner_id: str, post_id: str) -> bool:
    """Whether this copy of a post trims its timeline: 1 in TIMELINE_TRIM_ONE_IN, spread evenly
    and the same on a redelivery. Timelines stay near LIST_CAP (the feed reads no deeper) at an
    amortised cost of a fraction of a Query per copy; the 30-day TTL removes the rest."""
    digest = zlib.crc32(f"{owner_id}|{post_id}".encode())
    return digest % posts.TIMELINE_TRIM_ONE_IN == 0


def backfill(follower_id: str, followee_id: str) -> None:
    """A new follow brings the followee's latest posts into the follower's timeline."""
    followee = users.find_profile(followee_id)
    if followee is None or followee.follower_count >= get_settings().fanout_max_followers:
        return
    page = db.get_store().query_page(
        keys.user_posts_pk(followee_id), index=keys.GSI1, limit=posts.BACKFILL_POSTS
    )
    if page.items:
        posts.add_to_timelines([follower_id], [p["postId"] for p in page.items], followee_id)


def unfill(follower_id: str, followee_id: str) -> None:
    """An unfollow takes the followee's recent posts out of the follower's timeline."""
    page = db.get_store().query_page(
        keys.user_posts_pk(followee_id), index=keys.GSI1, limit=posts.BACKFILL_POSTS
    )
    db.get_store().batch_write(
        deletes=[(keys.timeline_pk(follower_id), p["postId"]) for p in page.items]
    )


def flag_big_account(profile: Mapping[str, Any]) -> None:
    """Keep the set of accounts too big to fan out (with hysteresis, so an account at the
    threshold does not flip on every follow)."""
    threshold = get_settings().fanout_max_followers
    count = profile.get("followerCount", 0)
    flagged = profile.get("GSI3PK") == keys.BIG_ACCOUNTS_PK
    store = db.get_store()
    user_pk = keys.user_pk(profile["userId"])
    if count >= threshold and not flagged:
        store.update(
            user_pk,
            keys.PROFILE_SK,
            "SET GSI3PK = :big, GSI3SK = :id",
            condition="attribute_exists(PK)",
            values={":big": keys.BIG_ACCOUNTS_PK, ":id": profile["userId"]},
        )
    elif count < threshold // 2 and flagged:
        # Its posts made while big were never fanned out: a job copies its recent posts into its
        # followers' timelines, started with the change (a redelivered record finds it done).
        done = Conflict("already a small account")
        try:
            store.transact_write(
                [
                    db.tx_update(
                        {keys.PK: user_pk, keys.SK: keys.PROFILE_SK},
                        "REMOVE GSI3PK, GSI3SK",
                        "attribute_exists(GSI3PK)",
                        on_fail=done,
                    ),
                    jobs.job_op(jobs.REFILL_FEEDS, profile["userId"]),
                ]
            )
        except Conflict as exc:
            if exc is not done:
                raise


# Notifications ---------------------------------------------------------------------------------
def _notify_like(like: Mapping[str, Any]) -> None:
    if like["userId"] == like["authorId"]:
        return
    post = db.get_store().get(keys.post_pk(like["postId"]), keys.POST_SK)
    if post is None or not activity.notify_like(post.get("likeCount", 0)):
        return
    db.get_store().put(
        activity.notification(
            like["authorId"],
            like["likeId"],
            "like",
            like["userId"],
            like["createdAt"],
            post_id=like["postId"],
        )
    )


def _notify_comment(comment: Mapping[str, Any]) -> None:
    if comment["authorId"] == comment["postAuthorId"]:
        return
    db.get_store().put(
        activity.notification(
            comment["postAuthorId"],
            comment["commentId"],
            "comment",
            comment["authorId"],
            comment["createdAt"],
            post_id=comment["postId"],
            comment_id=comment["commentId"],
        )
    )


def _notify_follow(edge: Mapping[str, Any]) -> None:
    edge_id = edge.get("GSI1SK", "").split("#", 1)[0]
    if not edge_id:
        return
    db.get_store().put(
        activity.notification(
            edge["followeeId"], edge_id, "follow", edge["followerId"], edge["createdAt"]
        )
    )
