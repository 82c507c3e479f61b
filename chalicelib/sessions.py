"""Sessions that really end: a token is honoured only while its account stands.

API Gateway's Cognito authorizer checks a token's signature and expiry, never whether the
account was disabled, deleted or signed out since: an ID token lives an hour. So every private
request also checks the caller's profile: refused (401) when the account is disabled, being
deleted or gone, not confirmed, or when the token was issued before the account's
``tokensValidAfter`` (set by sign-out, password changes and resets).

Cost: the profile is read through ``accounts``' per-instance cache, so a busy caller costs one
GetItem per instance every ``accounts.CACHE_SECONDS``, and a change takes at most that long to
reach every instance (the instance that made it forgets at once).
"""

from __future__ import annotations

import math
import time

from chalicelib import accounts, clock, db
from chalicelib.entities import Profile
from chalicelib.errors import NotFound, Unauthorized


def check(
    user_id: str, issued_at: int, session_id: str | None, *, now: float | None = None
) -> None:
    """Unauthorized unless the account ``user_id`` stands and its token (issued at
    ``issued_at`` by the sign-in ``session_id``) is still honoured."""
    profile = accounts.cached_profile(user_id, now=now)
    if profile is None or profile.deleted_at:
        raise Unauthorized("the account no longer exists")
    if profile.disabled:
        raise Unauthorized("the account is disabled")
    if not profile.confirmed:
        raise Unauthorized("the account is not confirmed")
    if revoked(profile, issued_at, session_id):
        raise Unauthorized("the session has ended: sign in again")


def revoked(profile: Profile, issued_at: int, session_id: str | None) -> bool:
    """Whether a token issued at ``issued_at`` by ``session_id`` was issued before the
    account's sessions were ended."""
    cutoff = profile.tokens_valid_after
    if cutoff is None:
        return False
    if session_id is not None and session_id == profile.kept_session:
        return False  # the session that changed the password goes on
    if issued_at < math.floor(cutoff):
        return True
    # iat has whole seconds: within the second of the cut, only the session that signed out
    # (its tokens share its origin_jti) is known to be older
    same_second = issued_at == math.floor(cutoff)
    return same_second and session_id is not None and session_id == profile.revoked_session


def end_sessions(user_id: str, *, ending: str | None = None, keeping: str | None = None) -> None:
    """Refuse every ID token of ``user_id`` issued until now: the signing-out session
    ``ending`` included, the session ``keeping`` (that changed the password) excepted."""
    db.get_store().update(
        Profile.key_of(user_id),
        "SET tokensValidAfter = :now, revokedSession = :ending, keptSession = :keeping, "
        "updatedAt = :at",
        condition="attribute_exists(PK)",
        values={
            ":now": time.time(),
            ":ending": ending or "-",
            ":keeping": keeping or "-",
            ":at": clock.now(),
        },
        on_fail=NotFound("user not found"),
    )
    accounts.forget(user_id)
