"""The user routes over chalice.test.Client: shapes, status codes, headers."""

import json

import pytest

from tests.factories import log_in, sign_up
from tests.support import call, pool_users, set_limits, table_items


def test_me_and_public_profile_views(client, ana, bob):
    me = call(client, "GET", "/me", ana).json_body
    assert set(me) == {
        "userId",
        "username",
        "email",
        "name",
        "profile",
        "settings",
        "avatar",
        "avatarUrls",
        "version",
        "followerCount",
        "followingCount",
        "postCount",
        "private",
        "createdAt",
    }
    public = call(client, "GET", "/users/ana", bob)
    assert public.status_code == 200
    assert set(public.json_body) == {
        "userId",
        "username",
        "name",
        "profile",
        "avatar",
        "avatarUrls",
        "followerCount",
        "followingCount",
        "postCount",
        "isFollowing",
        "isFollowedBy",
        "requested",
        "blocking",
        "muting",
        "private",
        "createdAt",
    }
    assert call(client, "GET", "/users/nobody", bob).status_code == 404


def test_patch_me_with_merge_patch_and_if_match(client, ana):
    headers = {"Content-Type": "application/merge-patch+json"}
    first = call(
        client,
        "PATCH",
        "/me",
        ana,
        {"profile": {"bio": "hi", "links": []}},
        headers | {"If-Match": '"1"'},
    )
    assert first.status_code == 200
    assert first.json_body["profile"] == {"bio": "hi", "links": []}
    assert first.json_body["version"] == 2
    stale = call(client, "PATCH", "/me", ana, {"name": "X"}, headers | {"If-Match": "1"})
    assert stale.status_code == 409
    assert stale.json_body["Details"][0]["reason"] == "stale"
    bad = call(client, "PATCH", "/me", ana, {"name": "X"}, {"If-Match": "abc"})
    assert bad.status_code == 400 and bad.json_body["Message"].startswith("If-Match")
    assert call(client, "GET", "/me", ana).json_body["name"] == "Ana"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"profile": {"website": "javascript:x"}}, 400, "profile.website"),
        ({"email": "new@example.com"}, 400, "email"),
        ({"username": "other"}, 400, "username"),
        ({"profile": {f"k{i}": "x" * 1000 for i in range(17)}}, 413, "profile"),
        ({"profile": "not an object"}, 400, "profile"),
    ],
)
def test_patch_me_refuses_bad_input_and_changes_nothing(client, ana, body, status, field):
    response = call(client, "PATCH", "/me", ana, body)
    assert response.status_code == status
    assert response.json_body["Message"].startswith(f"{field}")
    assert call(client, "GET", "/me", ana).json_body["version"] == 1


def test_follow_routes(client, ana, bob):
    followed = call(client, "PUT", "/users/bob/follow", ana)
    assert followed.status_code == 200
    assert followed.json_body == {"following": True, "requested": False, "followerCount": 1}
    assert call(client, "PUT", "/users/BOB/follow", ana).json_body["followerCount"] == 1
    assert call(client, "GET", "/users/bob", ana).json_body["isFollowing"] is True
    followers = call(client, "GET", "/users/bob/followers", bob).json_body
    assert [u["username"] for u in followers["items"]] == ["ana"]
    assert followers["nextCursor"] is None
    assert (
        call(client, "GET", "/users/ana/following", bob).json_body["items"][0]["username"] == "bob"
    )
    assert call(client, "PUT", "/users/ana/follow", ana).status_code == 400
    assert call(client, "PUT", "/users/ghost/follow", ana).status_code == 404
    unfollowed = call(client, "DELETE", "/users/bob/follow", ana)
    assert unfollowed.json_body == {"following": False, "requested": False, "followerCount": 0}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?q=a", "q"),
        ("", "q"),
        ("?q=ana&limit=0", "limit"),
        ("?q=ana&limit=101", "limit"),
        ("?q=ana&limit=x", "limit"),
        ("?q=ana&cursor=tampered", "cursor"),
    ],
)
def test_list_parameters_are_validated(client, ana, query, field):
    response = call(client, "GET", f"/users{query}", ana)
    assert response.status_code == 400
    assert response.json_body["Message"].startswith(field)


def test_search_route(client, ana, bob):
    response = call(client, "GET", "/users?q=BO&limit=5", ana)
    assert response.status_code == 200
    assert response.json_body == {
        "items": [
            {
                "userId": response.json_body["items"][0]["userId"],
                "username": "bob",
                "name": "Ana",
                "avatar": None,
                "avatarUrls": None,
                "private": False,
            }
        ],
        "nextCursor": None,
    }


def test_delete_me_is_202_and_the_account_is_gone(client, ana, bob):
    response = call(client, "DELETE", "/me", ana)
    assert response.status_code == 202 and response.json_body["status"] == "deleting"
    gone = call(client, "GET", "/me", ana)  # the token of a deleted account opens nothing
    assert gone.status_code == 401 and gone.json_body["Code"] == "UnauthorizedError"
    assert call(client, "GET", "/users/ana", bob).status_code == 404
    login = client.http.post(
        "/auth/login",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"email": "ana@example.com", "password": "Correct-Horse-9"}),
    )
    assert login.status_code == 401


def test_export_starts_a_job(client, ana):
    response = call(client, "GET", "/me/export", ana)
    assert response.status_code == 202
    assert response.json_body["status"] == "pending" and response.json_body["jobId"]


# Username changes ------------------------------------------------------------------------------
def _rename(client, token, username):
    return call(client, "PUT", "/me/username", token, {"username": username})


def _handles():
    return sorted(i["PK"] for i in table_items() if i["PK"].startswith("HANDLE#"))


def test_change_username_moves_the_handle_search_and_token(client, cognito, ana, bob):
    # Taken, in any case, or malformed: a 409 or a 400, and nothing changes
    for taken in ("bob", "BOB"):
        answer = _rename(client, ana, taken)
        assert answer.status_code == 409 and answer.json_body["Details"][0]["reason"] == "taken"
    bad = _rename(client, ana, "a b")
    assert bad.status_code == 400 and bad.json_body["Details"][0]["field"] == "username"
    assert _handles() == ["HANDLE#ana", "HANDLE#bob"]
    # The same handle in another case keeps the reservation
    answer = _rename(client, ana, "Ana")
    assert answer.status_code == 200 and answer.json_body["username"] == "Ana"
    assert _handles() == ["HANDLE#ana", "HANDLE#bob"]
    # A new handle: bound, the old one freed, search and profile follow, version moves
    answer = _rename(client, ana, "ana.the.second")
    assert answer.status_code == 200
    assert answer.json_body["username"] == "ana.the.second" and answer.json_body["version"] == 3
    assert _handles() == ["HANDLE#ana.the.second", "HANDLE#bob"]
    assert call(client, "GET", "/users/ana", bob).status_code == 404
    assert call(client, "GET", "/users/ANA.the.second", bob).json_body["username"] == (
        "ana.the.second"
    )
    found = call(client, "GET", "/users?q=ana.th", bob).json_body["items"]
    assert [u["username"] for u in found] == ["ana.the.second"]
    # The same handle again is a no-op
    assert _rename(client, ana, "ana.the.second").json_body["version"] == 3
    # The ID token carries it from the next sign-in (or refresh)
    tokens = log_in(client).json_body
    session = call(client, "GET", "/auth/session", tokens["idToken"]).json_body
    assert session["username"] == "ana.the.second"
    # And the old handle is free for someone else
    assert sign_up(client, "carl@example.com", "ana").status_code == 201
    assert _handles() == ["HANDLE#ana", "HANDLE#ana.the.second", "HANDLE#bob"]


def test_username_changes_are_rate_limited(client, cognito, ana, bob, monkeypatch):
    set_limits(monkeypatch, rename_account="1/600")
    assert _rename(client, ana, "bob").status_code == 409  # a taken handle costs no change
    assert _rename(client, ana, "ana2").status_code == 200
    limited = _rename(client, ana, "ana3")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert _handles() == ["HANDLE#ana2", "HANDLE#bob"]  # nothing of "ana3" is left


def test_a_failed_change_undoes_the_reservation_and_the_pool(client, cognito, ana, monkeypatch):
    from chalicelib import users
    from chalicelib.errors import Conflict

    def fail(*_args, **_kwargs):
        raise Conflict("version: the profile changed; retry")

    monkeypatch.setattr(users, "rename", fail)
    assert _rename(client, ana, "ana2").status_code == 409
    assert _handles() == ["HANDLE#ana"]
    (account,) = pool_users(cognito)
    attributes = {a["Name"]: a["Value"] for a in account["Attributes"]}
    assert attributes["preferred_username"] == "ana"


def test_a_conditional_get_of_an_unchanged_profile_is_a_304(client, ana, bob):
    first = call(client, "GET", "/users/bob", ana)
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and first.status_code == 200
    again = call(client, "GET", "/users/bob", ana, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.body in (b"", "")
    assert again.headers["ETag"] == tag
    loose = call(client, "GET", "/users/bob", ana, headers={"If-None-Match": tag[2:]})
    assert loose.status_code == 304  # a strong spelling of the weak tag matches too
    call(client, "PATCH", "/me", bob, {"name": "Bob B"})
    changed = call(client, "GET", "/users/bob", ana, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json_body["name"] == "Bob B"


def test_avatars_come_inline_with_urls_that_stay_the_same(client, ana, bob):
    """A page of posts carries each author's avatar URLs (no media read per author), and the
    same request later returns byte-identical image URLs (signed as of the hour)."""
    from tests.factories import ready_media
    from tests.support import claims_of

    avatar = ready_media(claims_of(bob)["sub"], purpose="avatar")
    me = call(client, "PATCH", "/me", bob, {"avatar": avatar}).json_body
    assert set(me["avatarUrls"]) == {"thumb", "small", "large"}
    photo = ready_media(claims_of(bob)["sub"])
    call(client, "POST", "/posts", bob, {"caption": "hi", "mediaIds": [photo]})
    first = call(client, "GET", "/users/bob/posts", ana).json_body["items"][0]
    assert first["author"]["avatarUrls"] == me["avatarUrls"]
    again = call(client, "GET", "/users/bob/posts", ana).json_body["items"][0]
    assert again["author"]["avatarUrls"] == first["author"]["avatarUrls"]
    assert again["media"] == first["media"]  # image URLs identical across requests
    assert call(client, "GET", "/users/bob", ana).json_body["avatarUrls"] == me["avatarUrls"]
    cleared = call(client, "PATCH", "/me", bob, {"avatar": None}).json_body
    assert (cleared["avatar"], cleared["avatarUrls"]) == (None, None)
