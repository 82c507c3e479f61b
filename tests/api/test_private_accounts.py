"""Private accounts through the routes: posts for the account and its accepted followers only,
follows that are requests, accepted or rejected by the owner."""

import pytest

from tests.factories import confirmed_user, ready_media
from tests.support import StreamPump, call, claims_of


@pytest.fixture
def private(client, cognito):
    """ana is private with a public and a followers-only post (one with a photo, one hashtag
    each); carl followed her before; bob and dave do not follow her."""
    ana = confirmed_user(client)["idToken"]
    bob = confirmed_user(client, "bob@example.com", "bob")["idToken"]
    carl = confirmed_user(client, "carl@example.com", "carl")["idToken"]
    dave = confirmed_user(client, "dave@example.com", "dave")["idToken"]
    pump = StreamPump("echomate-test")
    assert call(client, "PUT", "/users/ana/follow", carl).json_body["following"] is True
    photo = ready_media(claims_of(ana)["sub"])
    public = call(
        client, "POST", "/posts", ana, {"caption": "out #quiet", "mediaIds": [photo]}
    ).json_body["postId"]
    friends = call(
        client, "POST", "/posts", ana, {"caption": "in #quiet", "visibility": "followers"}
    ).json_body["postId"]
    made = call(client, "PATCH", "/me", ana, {"private": True}, {"If-Match": "*"})
    assert made.status_code == 200 and made.json_body["private"] is True
    pump.pump()
    return {
        "ana": ana,
        "bob": bob,
        "carl": carl,
        "dave": dave,
        "pump": pump,
        "posts": [public, friends],
        "photo": photo,
    }


def _get(client, token, path):
    return call(client, "GET", path, token)


def _authors(answer):
    return [i["author"]["username"] for i in answer.json_body["items"]]


def _hidden_from(client, token, world):
    """Every route that shows ana's posts: all of them must hide both posts from ``token``."""
    for post in world["posts"]:
        for path in (f"/posts/{post}", f"/posts/{post}/comments", f"/posts/{post}/likes"):
            assert _get(client, token, path).status_code == 404, path
        assert call(client, "PUT", f"/posts/{post}/like", token).status_code == 404
        commented = call(client, "POST", f"/posts/{post}/comments", token, {"text": "hi"})
        assert commented.status_code == 404
    assert _get(client, token, f"/media/{world['photo']}").status_code == 404
    for path in ("/explore", "/search/posts?tag=quiet", "/feed"):
        assert "ana" not in _authors(_get(client, token, path)), path
    listed = _get(client, token, "/users/ana/posts")
    assert listed.status_code == 403
    assert listed.json_body["Details"] == [{"reason": "private_account"}]
    for path in ("/users/ana/followers", "/users/ana/following"):
        refused = _get(client, token, path)
        assert refused.status_code == 403 and refused.json_body["Code"] == "ForbiddenError"


def test_a_private_accounts_posts_are_hidden_from_outsiders_on_every_route(client, private):
    _hidden_from(client, private["bob"], private)
    profile = _get(client, private["bob"], "/users/ana").json_body
    assert (profile["private"], profile["requested"], profile["isFollowing"]) == (
        True,
        False,
        False,
    )
    assert (profile["name"], profile["postCount"], profile["followerCount"]) == ("Ana", 2, 1)
    found = _get(client, private["bob"], "/users?q=an").json_body["items"]
    assert [u["private"] for u in found if u["username"] == "ana"] == [True]


def test_a_follower_still_sees_everything_but_explore_and_hashtags(client, private):
    carl = private["carl"]
    for post in private["posts"]:
        assert _get(client, carl, f"/posts/{post}").status_code == 200
    assert _get(client, carl, f"/media/{private['photo']}").status_code == 200
    assert len(_get(client, carl, "/users/ana/posts").json_body["items"]) == 2
    assert _authors(_get(client, carl, "/feed")) == ["ana", "ana"]
    assert [
        u["username"] for u in _get(client, carl, "/users/ana/followers").json_body["items"]
    ] == ["carl"]
    for path in ("/explore", "/search/posts?tag=quiet"):
        assert "ana" not in _authors(_get(client, carl, path)), path
    assert call(client, "PUT", f"/posts/{private['posts'][0]}/like", carl).status_code == 200


def test_a_follow_is_a_request_until_the_owner_accepts_it(client, private):
    ana, bob, pump = private["ana"], private["bob"], private["pump"]
    asked = call(client, "PUT", "/users/ana/follow", bob)
    assert asked.status_code == 200
    assert asked.json_body == {"following": False, "requested": True, "followerCount": 1}
    assert call(client, "PUT", "/users/ana/follow", bob).json_body == asked.json_body
    assert _get(client, bob, "/users/ana").json_body["requested"] is True
    _hidden_from(client, bob, private)  # a request sees nothing yet
    pump.pump()
    requests = _get(client, ana, "/me/follow-requests").json_body
    assert [r["user"]["username"] for r in requests["items"]] == ["bob"]
    assert requests["items"][0]["createdAt"]
    activity = _get(client, ana, "/activity").json_body["items"]
    assert [(a["type"], a["actor"]["username"]) for a in activity] == [
        ("follow_request", "bob"),
        ("follow", "carl"),
    ]

    accepted = call(client, "POST", "/me/follow-requests/bob/accept", ana)
    assert accepted.status_code == 200
    assert accepted.json_body == {"follower": True, "followerCount": 2}
    pump.pump()
    assert _get(client, ana, "/me/follow-requests").json_body["items"] == []
    view = _get(client, bob, "/users/ana").json_body
    assert (view["isFollowing"], view["requested"]) == (True, False)
    assert _get(client, bob, "/me").json_body["followingCount"] == 1
    for post in private["posts"]:
        assert _get(client, bob, f"/posts/{post}").status_code == 200
    assert _authors(_get(client, bob, "/feed")) == ["ana", "ana"]  # backfilled
    bob_activity = _get(client, bob, "/activity").json_body["items"]
    assert [(a["type"], a["actor"]["username"]) for a in bob_activity] == [
        ("follow_accepted", "ana")
    ]
    ana_activity = [
        (a["type"], a["actor"]["username"])
        for a in _get(client, ana, "/activity").json_body["items"]
    ]
    assert ana_activity == [("follow", "bob"), ("follow", "carl")]  # the request's is gone
    # accepting again is answered as done; the edge and the counters stay
    assert call(client, "POST", "/me/follow-requests/bob/accept", ana).status_code == 200
    assert _get(client, ana, "/me").json_body["followerCount"] == 2


def test_withdrawing_and_rejecting_requests(client, private):
    ana, bob, dave = private["ana"], private["bob"], private["dave"]
    call(client, "PUT", "/users/ana/follow", bob)
    withdrawn = call(client, "DELETE", "/users/ana/follow", bob)
    assert withdrawn.json_body == {"following": False, "requested": False, "followerCount": 1}
    assert _get(client, ana, "/me/follow-requests").json_body["items"] == []
    private["pump"].pump()
    assert _get(client, ana, "/activity").json_body["items"][0]["type"] == "follow"  # carl's

    call(client, "PUT", "/users/ana/follow", dave)
    rejected = call(client, "POST", "/me/follow-requests/dave/reject", ana)
    assert rejected.status_code == 204
    assert _get(client, dave, "/users/ana").json_body["requested"] is False
    _hidden_from(client, dave, private)
    assert _get(client, ana, "/me").json_body["followerCount"] == 1


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/me/follow-requests/bob/accept", 404),  # bob asked nothing
        ("POST", "/me/follow-requests/bob/reject", 404),
        ("POST", "/me/follow-requests/nobody/accept", 404),
        ("DELETE", "/me/followers/nobody", 404),
        ("DELETE", "/me/followers/ana", 400),
    ],
)
def test_bad_request_answers_change_nothing(client, private, method, path, status):
    answer = call(client, method, path, private["ana"])
    assert answer.status_code == status
    assert set(answer.json_body) >= {"Code", "Message"}
    me = _get(client, private["ana"], "/me").json_body
    assert (me["followerCount"], me["followingCount"]) == (1, 0)
    assert _get(client, private["bob"], "/users/ana").json_body["isFollowing"] is False


def test_private_must_be_true_or_false(client, private):
    for value in (None, "yes", 1):
        answer = call(client, "PATCH", "/me", private["ana"], {"private": value})
        assert answer.status_code == 400, value
    assert _get(client, private["ana"], "/me").json_body["private"] is True


def test_removing_a_follower_hides_the_posts_again(client, private):
    ana, carl = private["ana"], private["carl"]
    assert call(client, "DELETE", "/me/followers/carl", ana).status_code == 204
    assert call(client, "DELETE", "/me/followers/carl", ana).status_code == 204  # idempotent
    private["pump"].pump()
    assert _get(client, ana, "/me").json_body["followerCount"] == 0
    assert _get(client, carl, "/me").json_body["followingCount"] == 0
    _hidden_from(client, carl, private)


def test_going_public_shows_the_posts_and_keeps_pending_requests(client, private):
    ana, bob, dave = private["ana"], private["bob"], private["dave"]
    call(client, "PUT", "/users/ana/follow", dave)
    call(client, "PATCH", "/me", ana, {"private": False})
    public, friends = private["posts"]
    assert _get(client, bob, f"/posts/{public}").status_code == 200
    assert _get(client, bob, f"/posts/{friends}").status_code == 404  # still followers-only
    assert _authors(_get(client, bob, "/users/ana/posts")) == ["ana"]
    assert "ana" in _authors(_get(client, bob, "/search/posts?tag=quiet"))
    assert "ana" in _authors(_get(client, bob, "/explore"))
    # dave's request waits; following now answers it
    assert [
        r["user"]["username"] for r in _get(client, ana, "/me/follow-requests").json_body["items"]
    ] == ["dave"]
    assert call(client, "PUT", "/users/ana/follow", dave).json_body["following"] is True
    assert _get(client, ana, "/me/follow-requests").json_body["items"] == []


def test_a_block_drops_pending_requests_both_ways(client, private):
    ana, bob = private["ana"], private["bob"]
    call(client, "PUT", "/users/ana/follow", bob)
    assert call(client, "PUT", "/users/bob/block", ana).status_code == 200
    assert _get(client, ana, "/me/follow-requests").json_body["items"] == []
    assert call(client, "POST", "/me/follow-requests/bob/accept", ana).status_code == 404
    assert call(client, "PUT", "/users/ana/follow", bob).status_code == 404  # blocked: no request
    assert _get(client, ana, "/me/follow-requests").json_body["items"] == []
    call(client, "DELETE", "/users/bob/block", ana)
    assert _get(client, bob, "/users/ana").json_body["requested"] is False
