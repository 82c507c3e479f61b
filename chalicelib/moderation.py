"""Moderation: the log of who did what to whom and when, and disabling accounts (admins). The
report queue is ``reports``."""

from __future__ import annotations

from typing import Any

from chalicelib import clock, cognito, db, users
from chalicelib.config import get_settings
from chalicelib.entities import ModerationEntry, Profile
from chalicelib.errors import Invalid
from chalicelib.identity import Identity
from chalicelib.ids import new_id
from chalicelib.models import DisabledOut


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


def disable_user(caller: Identity, handle: str) -> DisabledOut:
    """An admin disables an account: no more sign-in or refresh, every session signed out."""
    profile = users.profile_by_handle(handle)
    disable_profile(caller, profile)
    return DisabledOut(user_id=profile.user_id, username=profile.username, disabled=True)


def disable_profile(caller: Identity, profile: Profile) -> None:
    """Disable the account of ``profile`` (not the caller's own), and log it."""
    if profile.user_id == caller.user_id:
        raise Invalid("username: you cannot disable your own account")
    pool = get_settings().user_pool_id
    cognito.call("admin_disable_user", UserPoolId=pool, Username=profile.email)
    cognito.call("admin_user_global_sign_out", UserPoolId=pool, Username=profile.email)
    users.mark_disabled(profile, caller.user_id)
    record(caller.user_id, "disable_user", profile.user_id)
