"""Users: handles, profiles, and account state.

A handle is reserved in the table before the Cognito account exists (a conditional write, so two
racing sign-ups can't both get it), then bound to the new user in the same transaction that
creates the profile. A reservation whose sign-up died halfway expires by TTL, and can be taken
over after ``STALE_RESERVATION_SECONDS``: no orphan holds a handle for good.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from chalicelib import db, keys
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import MeOut, Profile, iso_timestamp

STALE_RESERVATION_SECONDS = 15 * 60
_RESERVATION_TTL_SECONDS = 24 * 3600


def _taken(handle: str) -> Conflict:
    return Conflict(f"username: {handle} is taken", [{"field": "username", "reason": "taken"}])


def reserve_handle(handle: str, *, now: float | None = None) -> str:
    """Hold ``handle`` for a sign-up in progress; returns the reservation id. 409 if taken."""
    now = time.time() if now is None else now
    store = db.get_store()
    reservation = secrets.token_hex(8)
    item = {
        keys.PK: keys.handle_pk(handle),
        keys.SK: keys.HANDLE_SK,
        "handle": handle,
        "status": "pending",
        "reservation": reservation,
        "reservedAt": int(now),
        keys.TTL_ATTRIBUTE: int(now) + _RESERVATION_TTL_SECONDS,
    }
    try:
        store.put(item, condition="attribute_not_exists(PK)", on_fail=_taken(handle))
    except Conflict:
        # A sign-up that died between reserving and binding leaves a pending reservation;
        # take it over once it is stale (conditionally, so only one taker wins).
        store.put(
            item,
            condition="#status = :pending AND reservedAt < :stale",
            values={":pending": "pending", ":stale": int(now) - STALE_RESERVATION_SECONDS},
            names={"#status": "status"},
            on_fail=_taken(handle),
        )
    return reservation


def release_handle(handle: str, reservation: str) -> None:
    """Give up a reservation (the sign-up failed); a no-op if it is no longer ours."""
    db.get_store().delete(
        keys.handle_pk(handle),
        keys.HANDLE_SK,
        condition="reservation = :reservation",
        values={":reservation": reservation},
    )


def create_profile(user_id: str, handle: str, email: str, name: str, reservation: str) -> Profile:
    """The new user's profile, and the handle bound to them, in one transaction."""
    profile = Profile(
        user_id=user_id,
        username=handle,
        email=email,
        name=name,
        created_at=iso_timestamp(datetime.now(UTC)),
    )
    item = {
        keys.PK: keys.user_pk(user_id),
        keys.SK: keys.PROFILE_SK,
        **profile.model_dump(by_alias=True, exclude_none=True),
    }
    db.get_store().transact_write(
        [
            db.tx_put(item, "attribute_not_exists(PK)", on_fail=Conflict("user already exists")),
            db.tx_update(
                {keys.PK: keys.handle_pk(handle), keys.SK: keys.HANDLE_SK},
                "SET userId = :user, #status = :active REMOVE #ttl",
                "reservation = :reservation",
                values={":user": user_id, ":active": "active", ":reservation": reservation},
                names={"#status": "status", "#ttl": keys.TTL_ATTRIBUTE},
                on_fail=_taken(handle),
            ),
        ]
    )
    return profile


def get_profile(user_id: str) -> Profile:
    """The profile of ``user_id``; NotFound if there is none."""
    profile = db.get_store().get(keys.user_pk(user_id), keys.PROFILE_SK, Profile)
    if profile is None:
        raise NotFound("user not found")
    return profile


def me(user_id: str) -> MeOut:
    """The caller's own profile."""
    return get_profile(user_id).me()


def find_profile(user_id: str) -> Profile | None:
    """The profile of ``user_id``, or None."""
    return db.get_store().get(keys.user_pk(user_id), keys.PROFILE_SK, Profile)


def profile_by_handle(handle: str) -> Profile:
    """The profile holding ``handle`` (any case); NotFound if no active user has it."""
    if not keys.fold(handle) or "#" in handle:
        raise NotFound("user not found")
    reservation = db.get_store().get(keys.handle_pk(handle), keys.HANDLE_SK)
    if not reservation or reservation.get("status") != "active":
        raise NotFound("user not found")
    return get_profile(reservation["userId"])


def mark_disabled(profile: Profile, by_user_id: str) -> None:
    """Record that ``profile`` was disabled, by whom and when (idempotent)."""
    db.get_store().update(
        keys.user_pk(profile.user_id),
        keys.PROFILE_SK,
        "SET disabled = :yes, disabledAt = :at, disabledBy = :by",
        condition="attribute_exists(PK)",
        values={":yes": True, ":at": iso_timestamp(datetime.now(UTC)), ":by": by_user_id},
        on_fail=NotFound("user not found"),
    )
