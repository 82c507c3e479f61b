"""Background jobs as stored: how a feature starts one (the runner is ``jobs``).

A job is an item (``JOB#<id>``) whose stream records drive it. Features start a job in the same
transaction as the change that needs it (``job_op``); they never import the runner."""

from __future__ import annotations

from typing import Any

from chalicelib import clock, db
from chalicelib.entities import Job
from chalicelib.ids import new_id

DELETE_ACCOUNT, DELETE_POST, EXPORT = "delete_account", "delete_post", "export"


REFILL_FEEDS = "refill_feeds"


def job_item(job_id: str, kind: str, user_id: str, **extra: Any) -> Job:
    """A new pending job; ``extra`` are the kind's own fields (``Job``)."""
    return Job(job_id=job_id, kind=kind, user_id=user_id, created_at=clock.now(), **extra)


def job_op(kind: str, user_id: str, **extra: Any) -> db.TxOp:
    """The transaction step that starts a job (with the change that needs it)."""
    return db.tx_put(job_item(new_id(), kind, user_id, **extra), "attribute_not_exists(PK)")
