"""Reports and the moderation log: who did what to whom, and when."""

from __future__ import annotations

from typing import Any

from chalicelib import clock, db, keys, users
from chalicelib.errors import Conflict
from chalicelib.ids import new_id
from chalicelib.models import ReportIn, ReportOut


def record(actor_id: str, action: str, target: str, **details: Any) -> None:
    """Log a moderation action (``delete_post``, ``delete_comment``, ``disable_user``)."""
    action_id = new_id()
    now = clock.now()
    db.get_store().put(
        {
            keys.PK: keys.moderation_log_pk(clock.month_bucket(now)),
            keys.SK: action_id,
            "actionId": action_id,
            "actorId": actor_id,
            "action": action,
            "target": target,
            "details": details,
            "createdAt": now,
        }
    )


def report(caller_id: str, post_id: str, body: ReportIn) -> None:
    """Report a post once (a second report by the same user is a 409)."""
    from chalicelib import posts

    post = posts.visible_post(caller_id, post_id)
    report_id = new_id()
    db.get_store().put(
        {
            keys.PK: keys.post_pk(post_id),
            keys.SK: keys.report_sk(caller_id),
            "GSI1PK": keys.REPORTS_PK,
            "GSI1SK": report_id,
            "GSI2PK": keys.reports_by_pk(caller_id),
            "GSI2SK": report_id,
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


def reports(limit: int, cursor: str | None) -> db.Page:
    """Every report, newest first, with its reporter."""
    page = db.get_store().query_page(keys.REPORTS_PK, index=keys.GSI1, limit=limit, cursor=cursor)
    reporters = users.summary_map(r["reporterId"] for r in page.items)
    return db.Page(
        [
            ReportOut(
                report_id=r["reportId"],
                post_id=r["postId"],
                reporter=reporters[r["reporterId"]],
                reason=r["reason"],
                created_at=r["createdAt"],
            )
            for r in page.items
            if r["reporterId"] in reporters
        ],
        page.next_cursor,
    )
