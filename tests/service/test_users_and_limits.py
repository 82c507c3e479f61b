"""Handle reservations and abuse counters on the table (moto in-process)."""

import time

import pytest

from chalicelib import keys, ratelimit, users
from chalicelib.entities import Handle, Profile
from chalicelib.errors import Conflict, NotFound, RateLimited


def test_a_handle_is_reserved_once_case_insensitively(store):
    users.reserve_handle("Ana")
    with pytest.raises(Conflict, match="username"):
        users.reserve_handle("ana")


def test_a_stale_pending_reservation_is_taken_over(store):
    old = users.reserve_handle("ana", now=time.time() - users.STALE_RESERVATION_SECONDS - 5)
    new = users.reserve_handle("ANA")
    assert new != old
    users.release_handle("ana", old)  # the dead sign-up's release no longer frees it
    assert store.get(Handle.key_of("ana"), Handle).reservation == new


def test_a_bound_handle_is_never_taken_over(store):
    reservation = users.reserve_handle("ana", now=time.time() - 10 * 24 * 3600)
    users.create_profile("u-1", "ana", "ana@example.com", "Ana", reservation)
    with pytest.raises(Conflict):
        users.reserve_handle("ana")
    assert users.profile_by_handle("ANA").user_id == "u-1"


def test_release_frees_the_handle(store):
    reservation = users.reserve_handle("ana")
    users.release_handle("ana", reservation)
    assert store.get(Handle.key_of("ana"), Handle) is None
    users.reserve_handle("ana")


def test_profile_creation_needs_the_reservation(store):
    users.reserve_handle("ana")
    with pytest.raises(Conflict):
        users.create_profile("u-1", "ana", "ana@example.com", "Ana", "not-the-reservation")
    assert store.get(Profile.key_of("u-1"), Profile) is None


def test_unknown_handle_is_not_found(store):
    with pytest.raises(NotFound):
        users.profile_by_handle("nobody")
    users.reserve_handle("pending")
    with pytest.raises(NotFound):
        users.profile_by_handle("pending")


def test_rate_limit_counts_per_window(store, monkeypatch):
    monkeypatch.setenv("RATE_LIMITS", '{"login_ip": "3/60"}')
    from chalicelib import config

    config.get_settings.cache_clear()
    start = 1_800_000_000.0  # the start of a 60 s window
    for offset in range(3):
        ratelimit.hit("login_ip", "10.0.0.1", now=start + offset)
    with pytest.raises(RateLimited) as raised:
        ratelimit.hit("login_ip", "10.0.0.1", now=start + 20)
    assert raised.value.retry_after == 40
    ratelimit.hit("login_ip", "10.0.0.2", now=start + 20)  # another subject
    ratelimit.hit("login_ip", "10.0.0.1", now=start + 60)  # the next window
    counters = [
        i
        for i in store.query_page(
            keys.rate_limit_pk("login_ip", ratelimit._digest("10.0.0.1")), limit=10
        ).items
    ]
    assert sorted(c.hits for c in counters) == [1, 3]
    assert "10.0.0.1" not in str(counters)  # addresses are not stored
