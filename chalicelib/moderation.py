"""Moderation: the log of who did what to whom and when, the report queue, and disabling
accounts (admins)."""

from __future__ import annotations

from typing import Any

from chalicelib import clock, cognito, db, keys, users
from chalicelib.config import get_settings
from chalicelib.entities import ModerationEntry, Report
from chalicelib.errors import Invalid
from chalicelib.identity import Identity
from chalicelib.ids import new_id
from chalicelib.models import DisabledOut, ReportOut


def record(actor_id: str, action: str, target: str, **details: Any) -> None:
    """Log a moderation action (``delete_post``, ``delete_comment``, ``disable_user``)."""
    db.get_store().put(
        ModerationEntry(
            action_id=new_id(),
            actor_id=actor_id,
            action=action,
            target=target,
            details=details,
            created_at=clock.now(),
        )
    )


def reports(limit: int, cursor: str | None) -> db.Page[ReportOut]:
    """Every report, newest first, with its reporter."""
    page = db.get_store().query_page(
        keys.REPORTS_PK, index=keys.GSI1, limit=limit, cursor=cursor, model=Report
    )
    return page.map(
        lambda items: users.with_users(
            items,
            lambda r: r.reporter_id,
            lambda r, reporter: ReportOut(
                report_id=r.report_id,
                post_id=r.post_id,
                reporter=reporter,
                reason=r.reason,
                created_at=r.created_at,
            ),
        )
    )


def disable_user(caller: Identity, handle: str) -> DisabledOut:
    """An admin disables an account: no more sign-in or refresh, every session signed out."""
    profile = users.profile_by_handle(handle)
    if profile.user_id == caller.user_id:
        raise Invalid("username: you cannot disable your own account")
    pool = get_settings().user_pool_id
    cognito.call("admin_disable_user", UserPoolId=pool, Username=profile.email)
    cognito.call("admin_user_global_sign_out", UserPoolId=pool, Username=profile.email)
    users.mark_disabled(profile, caller.user_id)
    record(caller.user_id, "disable_user", profile.user_id)
    return DisabledOut(user_id=profile.user_id, username=profile.username, disabled=True)
