"""Deleting an account or a post: everything it owns, and everything pointing at it, goes,
a page at a time, each step idempotent (a run out of time continues on the next one)."""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib import aws, cognito, db, follows, interactions, keys, media, posts, push, realtime
from chalicelib.config import get_settings
from chalicelib.entities import (
    Block,
    BlockedBy,
    Comment,
    Entity,
    Follow,
    Handle,
    Job,
    Like,
    Media,
    Mute,
    Post,
    Profile,
    UploadSlots,
)
from chalicelib.errors import EchomateError, NotFound
from chalicelib.jobs.budget import Budget, drain

_PAGE = 25


def delete_account(job: Job, budget: Budget) -> dict[str, Any]:
    user_id = job.user_id
    budget.spend()
    if job.email:
        cognito.delete_user(job.email)
    store = db.get_store()
    # Their posts first (removing their feed copies needs the follow edges), and what they
    # did on others' posts.
    drain(
        lambda: store.query_page(
            keys.user_posts_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Post
        ),
        lambda post: posts.purge_post(post, budget.spend),
        budget,
    )
    drain(
        lambda: store.query_page(
            keys.likes_by_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Like
        ),
        lambda like: _drop_counted(like.post_id, like.key, "likeCount"),
        budget,
    )
    drain(
        lambda: store.query_page(
            keys.comments_by_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Comment
        ),
        _drop_comment,
        budget,
    )
    # Edges out: the followee loses a follower. Edges in: the follower follows one fewer.
    drain(
        lambda: store.query_page(
            keys.following_pk(user_id), index=keys.GSI2, limit=_PAGE, model=Follow
        ),
        lambda edge: _drop_edge(user_id, edge.followee_id, followee_side=True),
        budget,
    )
    drain(
        lambda: store.query_page(
            keys.followers_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Follow
        ),
        lambda edge: _drop_edge(edge.follower_id, user_id, followee_side=False),
        budget,
    )
    # Their search entries; the profile goes last.
    store.delete_listed(
        keys.user_pk(user_id), sk_prefix=keys.SEARCH_ITEM_PREFIX, before_page=budget.spend
    )
    budget.spend()
    if job.handle:
        store.delete(
            Handle.key_of(job.handle), condition="userId = :user", values={":user": user_id}
        )
    # Their blocks and mutes, and others' blocks and mutes of them (a block's two halves).
    drain(
        lambda: store.query_page(
            keys.user_pk(user_id), sk_prefix=keys.RELATION_PREFIX, limit=_PAGE
        ),
        _drop_relation,
        budget,
    )
    drain(
        lambda: store.query_page(
            keys.muted_by_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Mute
        ),
        lambda mute: store.delete(mute.key),
        budget,
    )
    # Follow requests: those waiting for them (under their profile), and theirs to others.
    store.delete_listed(
        keys.user_pk(user_id), sk_prefix=keys.FOLLOW_REQUEST_PREFIX, before_page=budget.spend
    )
    store.delete_listed(keys.requests_by_pk(user_id), index=keys.GSI2, before_page=budget.spend)
    # Their feed, their notifications, the notifications they caused others, their reports.
    for partition, index in (
        (keys.timeline_pk(user_id), None),
        (keys.activity_pk(user_id), None),
        (keys.notified_pk(user_id), None),
        (keys.actor_activity_pk(user_id), keys.GSI2),
        (keys.reports_by_pk(user_id), keys.GSI2),
    ):
        store.delete_listed(partition, index=index, before_page=budget.spend)
    # Their media: objects and items.
    drain(
        lambda: store.query_page(
            keys.user_media_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Media
        ),
        media.purge,
        budget,
    )
    # The user's other jobs and exported archives.
    drain(
        lambda: store.query_page(
            keys.user_jobs_pk(user_id), index=keys.GSI2, limit=_PAGE, model=Job
        ),
        lambda other: _forget_job(other, keep=job.job_id),
        budget,
    )
    _delete_objects(f"exports/{user_id}/", budget)
    # Their phones and open connections.
    push.drop_all(user_id)
    realtime.forget_user(user_id)
    store.delete_listed(keys.push_window_pk(user_id), before_page=budget.spend)
    budget.spend()
    store.delete(UploadSlots.key_of(user_id))
    store.delete(Profile.key_of(user_id))
    return {}


def delete_post(job: Job, budget: Budget) -> dict[str, Any]:
    posts.purge_post(Post.model_validate(job.post), budget.spend)
    return {}


def _drop_counted(post_id: str, key: tuple[str, str], counter: str) -> None:
    """Delete a like or comment (at ``key`` under the post) of the user and move the post's
    counter (if the post is still there)."""
    gone = NotFound("already removed")
    try:
        db.get_store().transact_write(
            interactions.remove_counted(post_id, key, counter, on_absent=gone)
        )
    except NotFound as exc:
        if exc is not gone:  # the post is gone: just the item
            db.get_store().delete(key)


def _drop_comment(comment: Comment) -> None:
    """Delete a comment of the user; a reply also moves its top comment's ``replyCount``, and
    a top comment's replies by others stay (the top comment shows as gone)."""
    _drop_counted(comment.post_id, comment.key, "commentCount")
    if comment.reply_to:
        with contextlib.suppress(EchomateError):
            db.get_store().update(
                Comment.key_of(comment.post_id, comment.reply_to),
                "ADD replyCount :minus",
                condition="attribute_exists(PK) AND replyCount > :zero",
                values={":minus": -1, ":zero": 0},
            )


def _forget_job(job: Job, *, keep: str) -> bool:
    if job.job_id == keep:
        return False
    db.get_store().delete(job.key)
    return True


def _delete_objects(prefix: str, budget: Budget) -> None:
    s3 = aws.client("s3")
    bucket = get_settings().media_bucket
    while True:
        budget.spend()
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1000)
        objects = [{"Key": o["Key"]} for o in listed.get("Contents", [])]
        if not objects:
            return
        s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})


def _drop_edge(follower_id: str, followee_id: str, *, followee_side: bool) -> None:
    # The deleted user's own counter no longer matters; the other side's must stay exact.
    store = db.get_store()
    gone = NotFound("edge already removed")
    try:
        store.transact_write(
            follows.remove_edge(
                follower_id,
                followee_id,
                on_absent=gone,
                counters=(followee_side, not followee_side),
            )
        )
    except NotFound:
        return  # removed by an earlier run
    except EchomateError:
        # the other side's profile is gone too (deleted meanwhile): just drop the edge
        store.delete(Follow.key_of(follower_id, followee_id))


def _drop_relation(item: Entity) -> None:
    """Delete a block (with its mirror under the other user) or a mute."""
    store = db.get_store()
    if isinstance(item, Block):
        store.batch_write(deletes=[item.key, BlockedBy.key_of(item.blocked_id, item.blocker_id)])
    elif isinstance(item, BlockedBy):
        store.batch_write(deletes=[item.key, Block.key_of(item.blocker_id, item.blocked_id)])
    else:
        store.delete(item.key)
