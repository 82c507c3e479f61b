"""Background jobs: account deletion, post deletion, data export and feed refills, driven by
the table's stream.

A job is an item (``JOB#<id>``). Writing it, or touching it, puts a record on the stream, and
the stream handler runs the job for as long as the invocation allows. Each step works in small
pages and is idempotent, so a job killed halfway simply continues on the next run: a job that
runs out of time touches its item (``nudges``), which triggers the next run; a scheduled sweep
touches jobs left pending for a while (a crashed run), so nothing is left half-done.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib import (
    aws,
    clock,
    cognito,
    db,
    follows,
    interactions,
    keys,
    media,
    posts,
    tasks,
    timelines,
    users,
)
from chalicelib.config import get_settings
from chalicelib.entities import (
    Comment,
    Entity,
    Follow,
    Handle,
    Job,
    Like,
    Media,
    Post,
    Profile,
)
from chalicelib.errors import EchomateError, NotFound
from chalicelib.ids import new_id
from chalicelib.models import DeletionOut, ExportOut

log = logging.getLogger(__name__)
T = TypeVar("T")
E = TypeVar("E", bound=Entity)

_PAGE = 25
_DONE_TTL_SECONDS = 30 * 24 * 3600
_EXPORT_REUSE_SECONDS = 24 * 3600
_EXPORT_URL_SECONDS = 3600
_STALE_SECONDS = 15 * 60


class OutOfTime(Exception):
    """The invocation's budget is spent; the job continues on its next run."""


class Budget:
    """How much work a run may still do (time, and for tests a number of operations)."""

    def __init__(self, seconds: float, max_operations: int | None = None) -> None:
        self._deadline = time.monotonic() + seconds
        self._left = max_operations

    def spend(self) -> None:
        if time.monotonic() > self._deadline or self._left == 0:
            raise OutOfTime
        if self._left is not None:
            self._left -= 1


# Starting jobs ---------------------------------------------------------------------------------


def start_account_deletion(user_id: str) -> DeletionOut:
    """Delete the caller's account: the Cognito user goes now (no more sign-in), everything
    else in the background. Idempotent: a second call finds the deletion under way."""
    profile = users.find_profile(user_id)
    if profile is None:
        raise NotFound("user not found")
    if not profile.deleted_at:
        job_id = new_id()
        try:
            db.get_store().transact_write(
                [
                    db.tx_update(
                        profile.key,
                        "SET deletedAt = :now, deletionJob = :job",
                        "attribute_exists(PK) AND attribute_not_exists(deletedAt)",
                        values={":now": clock.now(), ":job": job_id},
                    ),
                    db.tx_update(
                        Handle.key_of(profile.username),
                        "SET #status = :deleting",
                        "userId = :user",
                        values={":deleting": "deleting", ":user": user_id},
                        names={"#status": "status"},
                    ),
                    db.tx_put(
                        tasks.job_item(
                            job_id,
                            tasks.DELETE_ACCOUNT,
                            user_id,
                            email=profile.email,
                            handle=profile.username,
                        )
                    ),
                ]
            )
        except EchomateError:
            log.info("account deletion of %s already under way", user_id)
    cognito.delete_user(profile.email)
    return DeletionOut(user_id=user_id, status="deleting")


def request_export(user_id: str) -> ExportOut:
    """The caller's latest export if it is recent (pending or ready), else a new one."""
    store = db.get_store()
    users.get_profile(user_id)
    latest = store.query_page(keys.user_jobs_pk(user_id), index=keys.GSI2, limit=10, model=Job)
    for job in latest.items:
        recent = time.time() - clock.epoch(job.created_at) < _EXPORT_REUSE_SECONDS
        if job.kind == tasks.EXPORT and job.status in ("pending", "ready") and recent:
            return _export_view(job)
    job = tasks.job_item(new_id(), tasks.EXPORT, user_id)
    store.put(job, condition="attribute_not_exists(PK)")
    return _export_view(job)


def _export_view(job: Job) -> ExportOut:
    view = ExportOut(job_id=job.job_id, status=job.status, created_at=job.created_at)
    if job.status == "ready":
        view.url = aws.client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": get_settings().media_bucket,
                "Key": job.object_key,
                "ResponseContentDisposition": "attachment; filename=echomate-export.json",
            },
            ExpiresIn=_EXPORT_URL_SECONDS,
        )
        view.expires_in = _EXPORT_URL_SECONDS
    return view


# Running jobs ----------------------------------------------------------------------------------
def run_job(job_id: str, budget: Budget) -> bool:
    """Advance job ``job_id``; True when it is finished. Out of time, it touches its item so
    the stream brings it back."""
    store = db.get_store()
    job = store.get(Job.key_of(job_id), Job, consistent=True)
    if job is None or job.status != "pending":
        return True
    steps: dict[str, Callable[[Job, Budget], dict[str, Any]]] = {
        tasks.DELETE_ACCOUNT: _delete_account,
        tasks.DELETE_POST: _delete_post,
        tasks.EXPORT: _export,
        tasks.REFILL_FEEDS: _refill_feeds,
    }
    try:
        result = steps[job.kind](job, budget)
    except OutOfTime:
        store.update(
            job.key,
            "ADD nudges :one SET updatedAt = :now",
            values={":one": 1, ":now": clock.now()},
        )
        return False
    if job.kind in (tasks.DELETE_ACCOUNT, tasks.DELETE_POST):
        # Nothing of what was deleted may remain, not even the record of the deletion.
        store.delete(job.key)
        log.info("%s job %s finished", job.kind, job_id)
        return True
    sets = ["#status = :done", "finishedAt = :now", "#ttl = :ttl"]
    sets += [f"{name} = :{name}" for name in result]
    store.update(
        job.key,
        "SET " + ", ".join(sets) + " REMOVE #i1pk, #i1sk",
        values={
            ":done": "ready",
            ":now": clock.now(),
            ":ttl": int(time.time()) + _DONE_TTL_SECONDS,
            **{f":{name}": value for name, value in result.items()},
        },
        names={"#status": "status", "#ttl": keys.TTL_ATTRIBUTE},
    )
    return True


def sweep_stale_jobs(limit: int = 50) -> int:
    """Touch jobs pending for a while (their run crashed) so the stream runs them again."""
    store = db.get_store()
    cutoff = new_id(time.time() - _STALE_SECONDS)
    page = store.query_page(
        keys.PENDING_JOBS_PK, index=keys.GSI1, limit=limit, newest_first=False, model=Job
    )
    touched = 0
    for job in page.items:
        if job.job_id >= cutoff:
            break
        store.update(
            job.key,
            "ADD nudges :one SET updatedAt = :now",
            values={":one": 1, ":now": clock.now()},
        )
        touched += 1
    return touched


# Account deletion ------------------------------------------------------------------------------
def _delete_account(job: Job, budget: Budget) -> dict[str, Any]:
    user_id = job.user_id
    budget.spend()
    if job.email:
        cognito.delete_user(job.email)
    store = db.get_store()
    # Their posts first (removing their feed copies needs the follow edges), and what they
    # did on others' posts.
    _drain(
        lambda: store.query_page(
            keys.user_posts_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Post
        ),
        lambda post: posts.purge_post(post, budget.spend),
        budget,
    )
    _drain(
        lambda: store.query_page(
            keys.likes_by_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Like
        ),
        lambda like: _drop_counted(like.post_id, like.key, "likeCount"),
        budget,
    )
    _drain(
        lambda: store.query_page(
            keys.comments_by_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Comment
        ),
        lambda comment: _drop_counted(comment.post_id, comment.key, "commentCount"),
        budget,
    )
    # Edges out: the followee loses a follower. Edges in: the follower follows one fewer.
    _drain(
        lambda: store.query_page(
            keys.following_pk(user_id), index=keys.GSI2, limit=_PAGE, model=Follow
        ),
        lambda edge: _drop_edge(user_id, edge.followee_id, followee_side=True),
        budget,
    )
    _drain(
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
    # Their feed, notifications and reports.
    for partition, index in (
        (keys.timeline_pk(user_id), None),
        (keys.activity_pk(user_id), None),
        (keys.reports_by_pk(user_id), keys.GSI2),
    ):
        store.delete_listed(partition, index=index, before_page=budget.spend)
    # Their media: objects and items.
    _drain(
        lambda: store.query_page(
            keys.user_media_pk(user_id), index=keys.GSI1, limit=_PAGE, model=Media
        ),
        media.purge,
        budget,
    )
    # The user's other jobs and exported archives.
    _drain(
        lambda: store.query_page(
            keys.user_jobs_pk(user_id), index=keys.GSI2, limit=_PAGE, model=Job
        ),
        lambda other: _forget_job(other, keep=job.job_id),
        budget,
    )
    _delete_objects(f"exports/{user_id}/", budget)
    budget.spend()
    store.delete(Profile.key_of(user_id))
    return {}


# Feeds of an account that is no longer big ------------------------------------------------------
def _refill_feeds(job: Job, budget: Budget) -> dict[str, Any]:
    """Copy the account's latest posts (those made while it was too big to fan out among them)
    into each follower's timeline, a page of followers at a time. The page reached is kept on
    the job, so a run out of time continues there; copies are idempotent puts."""
    store = db.get_store()
    account = job.user_id
    budget.spend()
    latest = store.query_page(
        keys.user_posts_pk(account), index=keys.GSI1, limit=timelines.BACKFILL_POSTS, model=Post
    )
    post_ids = [p.post_id for p in latest.items]
    cursor = job.cursor
    while post_ids:
        budget.spend()
        page = store.query_page(
            keys.followers_pk(account), index=keys.GSI1, limit=_PAGE, cursor=cursor, model=Follow
        )
        timelines.add_to_timelines([edge.follower_id for edge in page.items], post_ids, account)
        cursor = page.next_cursor
        if cursor is None:
            break
        store.update(
            job.key,
            "SET #cursor = :c",
            values={":c": cursor},
            names={"#cursor": "cursor"},
        )
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


def _delete_post(job: Job, budget: Budget) -> dict[str, Any]:
    posts.purge_post(Post.model_validate(job.post), budget.spend)
    return {}


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


def _drain(
    fetch: Callable[[], db.Page[T]], act: Callable[[T], bool | None], budget: Budget
) -> None:
    """Act on pages of items until none is left (or only items ``act`` keeps: it said False)."""
    while True:
        budget.spend()
        page = fetch()
        acted = False
        for item in page.items:
            budget.spend()
            acted = act(item) is not False or acted
        if not acted:
            return


# Export ----------------------------------------------------------------------------------------
def _export(job: Job, budget: Budget) -> dict[str, Any]:
    user_id = job.user_id
    profile = users.find_profile(user_id)
    archive: dict[str, Any] = {
        "exportedAt": clock.now(),
        "profile": profile.me().to_json() if profile else None,
        "following": _collect(keys.following_pk(user_id), keys.GSI2, budget, _edge_row, Follow),
        "followers": _collect(keys.followers_pk(user_id), keys.GSI1, budget, _edge_row, Follow),
        "media": _collect(keys.user_media_pk(user_id), keys.GSI1, budget, _media_row, Media),
        "posts": _collect(keys.user_posts_pk(user_id), keys.GSI1, budget, _post_row, Post),
        "comments": _collect(
            keys.comments_by_pk(user_id),
            keys.GSI1,
            budget,
            lambda c: c.model_dump(
                by_alias=True, include={"comment_id", "post_id", "text", "created_at"}
            ),
            Comment,
        ),
        "likes": _collect(
            keys.likes_by_pk(user_id),
            keys.GSI1,
            budget,
            lambda like: like.model_dump(by_alias=True, include={"post_id", "created_at"}),
            Like,
        ),
    }
    key = f"exports/{user_id}/{job.job_id}.json"
    budget.spend()
    aws.client("s3").put_object(
        Bucket=get_settings().media_bucket,
        Key=key,
        ContentType="application/json",
        Body=json.dumps(archive, ensure_ascii=False, indent=1).encode(),
    )
    return {"objectKey": key}


def _collect(
    partition: str,
    index: str,
    budget: Budget,
    row: Callable[[E], dict[str, Any]],
    model: type[E],
) -> list[dict[str, Any]]:
    """Every item of a partition, each turned into an archive row."""
    rows, cursor = [], None
    store = db.get_store()
    while True:
        budget.spend()
        page = store.query_page(partition, index=index, limit=100, cursor=cursor, model=model)
        rows += [row(item) for item in page.items]
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def _edge_row(edge: Follow) -> dict[str, Any]:
    return edge.model_dump(by_alias=True, include={"follower_id", "followee_id", "created_at"})


def _post_row(post: Post) -> dict[str, Any]:
    return post.model_dump(
        by_alias=True,
        include={"post_id", "caption", "hashtags", "visibility", "created_at", "edited_at"},
    ) | {"mediaIds": [m["mediaId"] for m in post.media]}


def _media_row(item: Media) -> dict[str, Any]:
    return {
        "mediaId": item.media_id,
        "status": item.status,
        "purpose": item.purpose,
        "createdAt": item.created_at,
        "objects": sorted(r["key"] for r in (item.renditions or {}).values()),
    }
