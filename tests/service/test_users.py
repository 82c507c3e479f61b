"""Profiles, merge patches, search and the follow graph on the table (moto in-process)."""

import pytest

from chalicelib import follows, users
from chalicelib.entities import Media
from chalicelib.errors import Conflict, Invalid, NotFound, TooLarge
from chalicelib.models import MePatch
from tests.factories import make_user


def patch(user_id, body, version=None):
    return users.update_me(user_id, MePatch.model_validate(body), version)


# Merge patch -----------------------------------------------------------------------------------
def test_patch_merges_nested_keys_removes_nulls_and_replaces_arrays(store):
    ana = make_user("ana")
    patch(
        ana,
        {
            "profile": {
                "bio": "hi",
                "location": {"city": "Oslo", "country": "NO"},
                "links": ["https://a.example"],
            },
            "settings": {"theme": "dark"},
        },
    )
    view = patch(
        ana,
        {
            "profile": {
                "location": {"city": "Rome", "country": None},
                "links": ["https://b.example"],
                "bio": None,
                "extra": {"nested": {"n": 1.5}},
            }
        },
    )
    assert view.profile == {
        "location": {"city": "Rome"},
        "links": ["https://b.example"],
        "extra": {"nested": {"n": 1.5}},
    }
    assert view.settings == {"theme": "dark"}
    assert view.version == 3
    stored = users.me(ana)
    assert stored.profile == view.profile and stored.version == 3


def test_patch_writes_one_update_of_the_changed_paths(store, dynamodb_calls):
    ana = make_user("ana")
    dynamodb_calls.clear()
    patch(ana, {"profile": {"bio": "x"}})
    assert dynamodb_calls == ["GetItem", "UpdateItem"]


def test_patch_of_the_name_moves_the_search_entries_in_one_transaction(store, dynamodb_calls):
    ana = make_user("ana", "Ana Smith")
    dynamodb_calls.clear()
    view = patch(ana, {"name": "Zoe Quinn"})
    assert view.name == "Zoe Quinn"
    assert dynamodb_calls == ["GetItem", "TransactWriteItems"]
    assert [u.username for u in users.search("zo", 20, None).items] == ["ana"]
    assert users.search("smi", 20, None).items == []


def test_if_match_makes_the_patch_conditional(store):
    ana = make_user("ana")
    assert patch(ana, {"profile": {"bio": "one"}}, version=1).version == 2
    with pytest.raises(Conflict) as raised:
        patch(ana, {"profile": {"bio": "two"}}, version=1)
    assert raised.value.details[0]["reason"] == "stale"
    assert users.me(ana).profile == {"bio": "one"}


def test_null_document_empties_it_and_name_cannot_be_removed(store):
    ana = make_user("ana")
    patch(ana, {"settings": {"a": 1}})
    assert patch(ana, {"settings": None}).settings == {}
    with pytest.raises(Invalid, match="name"):
        patch(ana, {"name": None})


def test_patch_over_16_kb_is_refused_and_changes_nothing(store):
    ana = make_user("ana")
    with pytest.raises(TooLarge):
        patch(ana, {"profile": {f"k{i}": "x" * 1000 for i in range(17)}})
    assert users.me(ana).version == 1


def test_avatar_must_be_a_ready_avatar_of_ones_own(store):
    # media ids are the app's own (ULIDs): letters and digits, as models.MediaId requires
    ana, bob = make_user("ana"), make_user("bob")
    for media_id, owner, purpose, status in [
        ("mOk", ana, "avatar", "ready"),
        ("mBob", bob, "avatar", "ready"),
        ("mPost", ana, "post", "ready"),
        ("mPending", ana, "avatar", "pending"),
    ]:
        store.put(Media(media_id=media_id, owner_id=owner, purpose=purpose, status=status))
    for refused in ("mBob", "mPost", "mPending", "mNone"):
        with pytest.raises(Invalid, match="avatar"):
            patch(ana, {"avatar": refused})
    assert patch(ana, {"avatar": "mOk"}).avatar == "mOk"
    assert patch(ana, {"avatar": None}).avatar is None


# Public profile and search ---------------------------------------------------------------------
def test_public_profile_takes_two_requests_and_hides_private_fields(store, dynamodb_calls):
    ana, bob = make_user("ana"), make_user("Bob")
    follows.follow(ana, "bob")
    dynamodb_calls.clear()
    view = users.public_profile(ana, "BOB")
    assert dynamodb_calls == ["GetItem", "BatchGetItem"]
    body = view.to_json()
    assert body["isFollowing"] is True and body["followerCount"] == 1
    assert "email" not in body and "settings" not in body
    assert users.public_profile(bob, "ana").is_following is False


def test_search_by_prefix_any_case_or_accent(store):
    make_user("elodie", "Élodie Durand")
    make_user("eloise", "Eloïse Martin")
    make_user("Martina", "Tina Roe")
    assert [u.username for u in users.search("ÉLO", 20, None).items] == ["elodie", "eloise"]
    assert {u.username for u in users.search("mart", 20, None).items} == {"eloise", "Martina"}
    assert [u.username for u in users.search("durand", 20, None).items] == ["elodie"]
    with pytest.raises(Invalid, match="q"):
        users.search("e", 20, None)


def test_search_pages(store):
    for i in range(7):
        make_user(f"user{i}")
    first = users.search("user", 3, None)
    second = users.search("user", 3, first.next_cursor)
    third = users.search("user", 3, second.next_cursor)
    names = [u.username for page in (first, second, third) for u in page.items]
    assert names == [f"user{i}" for i in range(7)] and third.next_cursor is None


# Follow graph ----------------------------------------------------------------------------------
def test_follow_is_one_transaction_and_idempotent(store, dynamodb_calls):
    ana, bob = make_user("ana"), make_user("bob")
    dynamodb_calls.clear()
    assert follows.follow(ana, "bob").follower_count == 1
    assert dynamodb_calls.count("TransactWriteItems") == 1
    assert follows.follow(ana, "BOB").follower_count == 1  # again: nothing moves
    assert users.get_profile(bob).follower_count == 1
    assert users.get_profile(ana).following_count == 1
    assert follows.unfollow(ana, "bob").follower_count == 0
    assert follows.unfollow(ana, "bob").follower_count == 0
    assert users.get_profile(bob).follower_count == 0
    assert users.get_profile(ana).following_count == 0


def test_self_follow_and_unknown_users(store):
    ana = make_user("ana")
    with pytest.raises(Invalid, match="yourself"):
        follows.follow(ana, "ANA")
    with pytest.raises(NotFound):
        follows.follow(ana, "ghost")


def test_follower_lists_newest_first_one_query_and_one_batch(store, dynamodb_calls):
    star = make_user("star")
    fans = [make_user(f"fan{i}") for i in range(5)]
    for fan in fans:
        follows.follow(fan, "star")
    outsider = make_user("outsider")
    dynamodb_calls.clear()
    page = follows.followers(outsider, "star", 3, None)
    # the handle, the list, then the listed profiles with the account's profile and the edge
    assert dynamodb_calls == ["GetItem", "Query", "BatchGetItem"]
    rest = follows.followers(star, "star", 3, page.next_cursor)
    assert [u.username for u in page.items + rest.items] == [f"fan{i}" for i in range(4, -1, -1)]
    assert rest.next_cursor is None
    assert [u.username for u in follows.following(outsider, "fan0", 10, None).items] == ["star"]
