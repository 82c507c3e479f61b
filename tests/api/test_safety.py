"""Blocks and mutes through the routes: A blocks B and neither sees the other anywhere."""

import pytest

from chalicelib import relations
from tests.factories import confirmed_user
from tests.support import StreamPump, call


@pytest.fixture
def world(client, cognito):
    """ana and bob follow each other; carl follows ana. Each has a post with a hashtag; bob
    commented on and liked ana's post."""
    ana = confirmed_user(client)["idToken"]
    bob = confirmed_user(client, "bob@example.com", "bob")["idToken"]
    carl = confirmed_user(client, "carl@example.com", "carl")["idToken"]
    pump = StreamPump("echomate-test")
    for who, whom in ((ana, "bob"), (bob, "ana"), (carl, "ana")):
        assert call(client, "PUT", f"/users/{whom}/follow", who).status_code == 200
    posts = {}
    for name, token in (("ana", ana), ("bob", bob)):
        made = call(client, "POST", "/posts", token, {"caption": f"by {name} #shared"})
        posts[name] = made.json_body["postId"]
    call(client, "PUT", f"/posts/{posts['ana']}/like", bob)
    call(client, "POST", f"/posts/{posts['ana']}/comments", bob, {"text": "nice"})
    pump.pump()
    return {"ana": ana, "bob": bob, "carl": carl, "posts": posts, "pump": pump}


def _get(client, token, path):
    return call(client, "GET", path, token)


def _usernames(answer):
    items = answer.json_body["items"]
    return [i.get("username") or i.get("author", {}).get("username") for i in items]


def test_a_block_removes_follows_both_ways_with_their_counters(client, world):
    answer = call(client, "PUT", "/users/bob/block", world["ana"])
    assert answer.status_code == 200 and answer.json_body == {"blocking": True}
    assert call(client, "PUT", "/users/bob/block", world["ana"]).json_body == {"blocking": True}
    ana = _get(client, world["ana"], "/me").json_body
    assert (ana["followerCount"], ana["followingCount"]) == (1, 0)  # carl still follows ana
    assert _usernames(_get(client, world["ana"], "/users/ana/followers")) == ["carl"]
    bob_view = _get(client, world["ana"], "/users/bob").json_body
    assert (bob_view["blocking"], bob_view["isFollowing"], bob_view["isFollowedBy"]) == (
        True,
        False,
        False,
    )
    assert (bob_view["followerCount"], bob_view["followingCount"]) == (0, 0)


def test_the_blocked_user_gets_a_404_for_everything_of_the_blocker(client, world):
    call(client, "PUT", "/users/bob/block", world["ana"])
    post = world["posts"]["ana"]
    bob = world["bob"]
    for path in (
        "/users/ana",
        "/users/ana/posts",
        "/users/ana/followers",
        "/users/ana/following",
        f"/posts/{post}",
        f"/posts/{post}/comments",
        f"/posts/{post}/likes",
    ):
        assert _get(client, bob, path).status_code == 404, path
    assert call(client, "PUT", "/users/ana/follow", bob).status_code == 404
    assert call(client, "PUT", f"/posts/{post}/like", bob).status_code == 404
    comment = call(client, "POST", f"/posts/{post}/comments", bob, {"text": "hey"})
    assert comment.status_code == 404
    assert call(client, "PUT", "/users/bob/follow", world["ana"]).status_code == 409


def test_neither_sees_the_other_in_any_list(client, world):
    call(client, "PUT", "/users/bob/block", world["ana"])
    world["pump"].pump()
    for me, other in ((world["ana"], "bob"), (world["bob"], "ana")):
        for path in ("/feed", "/explore", "/search/posts?tag=shared", "/users?q=" + other[:2]):
            assert other not in _usernames(_get(client, me, path)), path
    ana, post = world["ana"], world["posts"]["ana"]
    assert _usernames(_get(client, ana, f"/posts/{post}/comments")) == []
    assert _usernames(_get(client, ana, f"/posts/{post}/likes")) == []
    activity = _get(client, ana, "/activity").json_body["items"]
    assert [a["actor"]["username"] for a in activity] == ["carl"]  # bob's like, comment, follow
    # carl sees both
    assert set(_usernames(_get(client, world["carl"], "/explore"))) == {"ana", "bob"}


def test_the_blocker_lists_and_undoes_blocks(client, world):
    call(client, "PUT", "/users/bob/block", world["ana"])
    call(client, "PUT", "/users/carl/block", world["ana"])
    assert _usernames(_get(client, world["ana"], "/me/blocks")) == ["carl", "bob"]
    assert call(client, "DELETE", "/users/bob/block", world["ana"]).json_body == {"blocking": False}
    assert call(client, "DELETE", "/users/bob/block", world["ana"]).status_code == 200
    assert _get(client, world["bob"], "/users/ana").status_code == 200
    assert _usernames(_get(client, world["ana"], "/me/blocks")) == ["carl"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("PUT", "/users/ana/block", 400),
        ("PUT", "/users/ana/mute", 400),
        ("PUT", "/users/nobody/block", 404),
        ("DELETE", "/users/nobody/mute", 404),
    ],
)
def test_bad_blocks_and_mutes_change_nothing(client, world, method, path, status):
    answer = call(client, method, path, world["ana"])
    assert answer.status_code == status
    assert set(answer.json_body) >= {"Code", "Message"}
    assert _get(client, world["ana"], "/me/blocks").json_body["items"] == []


def test_a_mute_hides_posts_and_notifications_and_the_muted_sees_nothing(client, world):
    answer = call(client, "PUT", "/users/bob/mute", world["ana"])
    assert answer.json_body == {"muting": True, "until": None}
    world["pump"].pump()
    ana, bob = world["ana"], world["bob"]
    assert "bob" not in _usernames(_get(client, ana, "/feed"))
    assert "bob" not in _usernames(_get(client, ana, "/explore"))
    assert _get(client, ana, "/users/bob").json_body["muting"] is True
    before = len(_get(client, ana, "/activity").json_body["items"])
    call(client, "POST", f"/posts/{world['posts']['ana']}/comments", bob, {"text": "again"})
    world["pump"].pump()
    assert len(_get(client, ana, "/activity").json_body["items"]) == before
    # bob sees no difference
    assert "ana" in _usernames(_get(client, bob, "/feed"))
    assert _get(client, bob, "/users/ana").json_body["isFollowedBy"] is True
    mutes = _get(client, ana, "/me/mutes").json_body["items"]
    assert [(m["user"]["username"], m["until"], m["notifications"]) for m in mutes] == [
        ("bob", None, True)
    ]
    assert call(client, "DELETE", "/users/bob/mute", ana).json_body["muting"] is False
    assert "bob" in _usernames(_get(client, ana, "/feed"))


def test_a_mute_for_a_time_ends_by_itself(client, world):
    answer = call(client, "PUT", "/users/bob/mute", world["ana"], {"durationSeconds": 60})
    assert answer.status_code == 200 and answer.json_body["until"].endswith("Z")
    import time

    from tests.support import claims_of

    ana_id = claims_of(world["ana"])["sub"]
    bob_id = claims_of(world["bob"])["sub"]
    assert bob_id in relations.of(ana_id).muting
    assert bob_id not in relations.of(ana_id, now=time.time() + 61).muting
    assert (
        call(client, "PUT", "/users/bob/mute", world["ana"], {"durationSeconds": 0}).status_code
        == 400
    )
