"""Feeds of an account that is no longer big: its recent posts (made while it was too big to
fan out) copied into each follower's timeline."""

from __future__ import annotations

from typing import Any

from chalicelib import db, keys, timelines
from chalicelib.entities import Follow, Job, Post
from chalicelib.jobs.budget import Budget

_PAGE = 25


def refill_feeds(job: Job, budget: Budget) -> dict[str, Any]:
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
