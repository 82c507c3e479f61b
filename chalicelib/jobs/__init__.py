"""Background jobs: account deletion, post deletion, data export and feed refills, driven by
the table's stream.

A job is an item (``Job``). Writing it, or touching it, puts a record on the stream, and the
stream handler runs the job for as long as the invocation allows. Each step works in small pages
and is idempotent, so a job killed halfway simply continues on the next run: a job that runs out
of time touches its item (``nudges``), which triggers the next run; a scheduled sweep touches
jobs left pending for a while (a crashed run), so nothing is left half-done.

This module starts and runs jobs; each kind's work is in its own module (``deletion``,
``export``, ``refill``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from chalicelib import accounts, aws, clock, cognito, db, keys, tasks, users
from chalicelib.config import get_settings
from chalicelib.entities import Handle, Job
from chalicelib.errors import EchomateError, NotFound
from chalicelib.ids import new_id
from chalicelib.jobs import deletion, export, refill
from chalicelib.jobs.budget import Budget, OutOfTime
from chalicelib.models import DeletionOut, ExportOut

log = logging.getLogger(__name__)

_DONE_TTL_SECONDS = 30 * 24 * 3600
_EXPORT_REUSE_SECONDS = 24 * 3600
_EXPORT_URL_SECONDS = 3600
_STALE_SECONDS = 15 * 60


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
    accounts.forget(user_id)  # refused here at once, elsewhere within the standing cache's time
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
                "ResponseContentDisposition": "attachment; filename=echomate-export.zip",
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
        tasks.DELETE_ACCOUNT: deletion.delete_account,
        tasks.DELETE_POST: deletion.delete_post,
        tasks.EXPORT: export.export,
        tasks.REFILL_FEEDS: refill.refill_feeds,
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
