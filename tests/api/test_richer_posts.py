"""Richer posting through the routes (API v1.2): alt text and focus, mentions, bookmarks,
editing with history, sensitive media."""

import pytest

from tests.factories import confirmed_user, ready_media
from tests.support import StreamPump, call, claims_of


@pytest.fixture
def people(client, cognito):
    """ana, bob (follows ana) and carl."""
    ana = confirmed_user(client)["idToken"]
    bob = confirmed_user(client, "bob@example.com", "bob")["idToken"]
    carl = confirmed_user(client, "carl@example.com", "carl")["idToken"]
    assert call(client, "PUT", "/users/ana/follow", bob).status_code == 200
    return {"ana": ana, "bob": bob, "carl": carl, "pump": StreamPump("echomate-test")}


def _post(client, token, **body):
    answer = call(client, "POST", "/posts", token, {"caption": "hi", **body})
    assert answer.status_code == 201, answer.json_body
    return answer.json_body


def _get(client, token, path):
    return call(client, "GET", path, token)


# Alt text and focus ----------------------------------------------------------------------------
def test_alt_text_is_set_at_upload_and_changed_after_publishing(client, people):
    ana = people["ana"]
    asked = call(
        client,
        "POST",
        "/media",
        ana,
        {
            "contentType": "image/jpeg",
            "contentLength": 1000,
            "purpose": "post",
            "description": "a cat on a mat",
            "focus": {"x": 0.5, "y": -0.25},
        },
    )
    assert asked.status_code == 201
    photo = ready_media(claims_of(ana)["sub"])
    made = _post(client, ana, mediaIds=[photo])
    assert made["media"][0]["description"] is None
    changed = call(client, "PATCH", f"/media/{photo}", ana, {"description": "sunset, Lisbon"})
    assert changed.status_code == 200 and changed.json_body["description"] == "sunset, Lisbon"
    seen = _get(client, people["bob"], f"/posts/{made['postId']}").json_body
    assert seen["media"][0]["description"] == "sunset, Lisbon"
    assert _get(client, people["bob"], f"/media/{photo}").json_body["description"] == (
        "sunset, Lisbon"
    )
    removed = call(client, "PATCH", f"/media/{photo}", ana, {"description": None})
    assert removed.json_body["description"] is None
    assert (
        call(client, "PATCH", f"/media/{photo}", people["bob"], {"description": "x"}).status_code
        == 403
    )


def test_a_new_focus_re_renders_only_the_thumb(client, people):
    ana = people["ana"]
    photo = ready_media(claims_of(ana)["sub"])
    made = _post(client, ana, mediaIds=[photo])
    before = _get(client, ana, f"/posts/{made['postId']}").json_body["media"][0]
    moved = call(client, "PATCH", f"/media/{photo}", ana, {"focus": {"x": 1, "y": 1}})
    assert moved.status_code == 200 and moved.json_body["focus"] == {"x": 1.0, "y": 1.0}
    people["pump"].pump()
    after = _get(client, ana, f"/posts/{made['postId']}").json_body["media"][0]
    assert after["focus"] == {"x": 1.0, "y": 1.0}
    path = lambda url: url.split("?")[0]  # noqa: E731
    assert path(after["renditions"]["thumb"]) != path(before["renditions"]["thumb"])
    assert "thumb-" in path(after["renditions"]["thumb"])
    for name in ("small", "large"):
        assert path(after["renditions"][name]) == path(before["renditions"][name])


@pytest.mark.parametrize(
    "body",
    [
        {"focus": {"x": 2, "y": 0}},
        {"focus": {"x": 0}},
        {"description": "x" * 1501},
        {"description": "\u202eevil"},
        {},
    ],
)
def test_bad_media_descriptions_change_nothing(client, people, body):
    photo = ready_media(claims_of(people["ana"])["sub"])
    answer = call(client, "PATCH", f"/media/{photo}", people["ana"], body)
    assert answer.status_code == 400, answer.json_body
    view = _get(client, people["ana"], f"/media/{photo}").json_body
    assert (view["description"], view["focus"]) == (None, None)


# Mentions --------------------------------------------------------------------------------------
def test_mentions_resolve_and_notify_those_who_may_see_the_post(client, people):
    ana, bob, carl = people["ana"], people["bob"], people["carl"]
    made = _post(client, ana, caption="hi @BOB and @carl and @nobody, also me@mail.com")
    assert [(m["username"], m["userId"]) for m in made["mentions"]] == [
        ("bob", claims_of(bob)["sub"]),
        ("carl", claims_of(carl)["sub"]),
    ]
    hidden = _post(client, ana, caption="friends only @carl @bob", visibility="followers")
    people["pump"].pump()
    bob_seen = [(a["type"], a["postId"]) for a in _get(client, bob, "/activity").json_body["items"]]
    assert ("mention", made["postId"]) in bob_seen and ("mention", hidden["postId"]) in bob_seen
    carl_seen = [
        (a["type"], a["postId"]) for a in _get(client, carl, "/activity").json_body["items"]
    ]
    assert carl_seen == [("mention", made["postId"])]  # carl cannot see the followers-only one


def test_a_blocked_users_mention_notifies_nothing(client, people):
    assert call(client, "PUT", "/users/ana/block", people["carl"]).status_code == 200
    _post(client, people["ana"], caption="@carl look")
    people["pump"].pump()
    assert _get(client, people["carl"], "/activity").json_body["items"] == []


def test_comment_mentions_notify_too(client, people):
    made = _post(client, people["ana"])
    said = call(
        client, "POST", f"/posts/{made['postId']}/comments", people["bob"], {"text": "@carl see"}
    )
    assert said.status_code == 201
    assert [m["username"] for m in said.json_body["mentions"]] == ["carl"]
    people["pump"].pump()
    items = _get(client, people["carl"], "/activity").json_body["items"]
    assert [(a["type"], a["commentId"]) for a in items] == [
        ("mention", said.json_body["commentId"])
    ]


def test_more_than_twenty_mentions_is_a_400(client, people):
    caption = " ".join(f"@user{i}" for i in range(21))
    answer = call(client, "POST", "/posts", people["ana"], {"caption": caption})
    assert answer.status_code == 400 and answer.json_body["Message"].startswith("caption")


# Bookmarks -------------------------------------------------------------------------------------
def test_bookmarks_are_idempotent_private_and_newest_first(client, people):
    ana, bob = people["ana"], people["bob"]
    first, second = _post(client, ana), _post(client, ana)
    for post in (first, second, first):
        answer = call(client, "PUT", f"/posts/{post['postId']}/bookmark", bob)
        assert answer.status_code == 200 and answer.json_body == {"bookmarked": True}
    saved = _get(client, bob, "/me/bookmarks").json_body["items"]
    assert [p["postId"] for p in saved] == [second["postId"], first["postId"]]
    assert all(p["bookmarkedByMe"] for p in saved)
    assert _get(client, bob, f"/posts/{first['postId']}").json_body["bookmarkedByMe"] is True
    assert _get(client, ana, f"/posts/{first['postId']}").json_body["bookmarkedByMe"] is False
    assert _get(client, ana, "/me/bookmarks").json_body["items"] == []
    people["pump"].pump()
    feed = _get(client, bob, "/feed").json_body["items"]
    assert {p["postId"]: p["bookmarkedByMe"] for p in feed} == {
        first["postId"]: True,
        second["postId"]: True,
    }
    for _ in range(2):
        gone = call(client, "DELETE", f"/posts/{first['postId']}/bookmark", bob)
        assert gone.status_code == 200 and gone.json_body == {"bookmarked": False}
    assert [p["postId"] for p in _get(client, bob, "/me/bookmarks").json_body["items"]] == [
        second["postId"]
    ]


def test_bookmarks_leave_with_the_post_and_with_visibility(client, people):
    ana, bob = people["ana"], people["bob"]
    made = _post(client, ana, visibility="followers")
    call(client, "PUT", f"/posts/{made['postId']}/bookmark", bob)
    call(client, "DELETE", "/users/ana/follow", bob)
    assert _get(client, bob, "/me/bookmarks").json_body["items"] == []  # no longer visible
    assert (
        call(client, "PUT", f"/posts/{made['postId']}/bookmark", people["carl"]).status_code == 404
    )
    assert call(client, "PUT", "/posts/nope/bookmark", bob).status_code == 404


# Editing and history ---------------------------------------------------------------------------
def test_editing_keeps_every_version_in_order(client, people):
    ana, bob = people["ana"], people["bob"]
    one, two = (ready_media(claims_of(ana)["sub"]) for _ in range(2))
    made = _post(client, ana, caption="v1 #first", mediaIds=[one])
    assert made["version"] == 1
    second = call(
        client,
        "PATCH",
        f"/posts/{made['postId']}",
        ana,
        {"caption": "v2 #second", "mediaIds": [two, one], "sensitive": True, "spoilerText": "cw"},
        {"If-Match": '"1"'},
    )
    assert second.status_code == 200, second.json_body
    body = second.json_body
    assert (body["version"], body["caption"], body["hashtags"]) == (2, "v2 #second", ["second"])
    assert [m["mediaId"] for m in body["media"]] == [two, one]
    assert (body["sensitive"], body["spoilerText"]) == (True, "cw") and body["editedAt"]
    third = call(client, "PATCH", f"/posts/{made['postId']}", ana, {"mediaIds": [two]})
    assert third.json_body["version"] == 3
    stale = call(
        client, "PATCH", f"/posts/{made['postId']}", ana, {"caption": "x"}, {"If-Match": "2"}
    )
    assert stale.status_code == 409
    history = _get(client, bob, f"/posts/{made['postId']}/history").json_body["items"]
    assert [(v["version"], v["caption"], len(v["media"])) for v in history] == [
        (1, "v1 #first", 1),
        (2, "v2 #second", 2),
    ]
    assert history[0]["editedAt"] == made["createdAt"]
    tagged = _get(client, bob, "/search/posts?tag=first").json_body["items"]
    assert tagged == []


def test_an_edit_to_followers_only_leaves_explore_and_hashtags(client, people):
    ana, carl = people["ana"], people["carl"]
    made = _post(client, ana, caption="open #sky")
    assert made["postId"] in [
        p["postId"] for p in _get(client, carl, "/explore").json_body["items"]
    ]
    edited = call(client, "PATCH", f"/posts/{made['postId']}", ana, {"visibility": "followers"})
    assert edited.status_code == 200
    for path in ("/explore", "/search/posts?tag=sky"):
        assert made["postId"] not in [
            p["postId"] for p in _get(client, carl, path).json_body["items"]
        ]
    assert _get(client, carl, f"/posts/{made['postId']}/history").status_code == 404
    assert _get(client, people["bob"], f"/posts/{made['postId']}").status_code == 200  # follower


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"caption": None}, 400),
        ({"visibility": "friends"}, 400),
        ({"mediaIds": ["nope"]}, 400),
        ({"sensitive": "yes"}, 400),
        ({"caption": "x" * 2201}, 400),
    ],
)
def test_bad_edits_change_nothing(client, people, body, status):
    made = _post(client, people["ana"], caption="same")
    answer = call(client, "PATCH", f"/posts/{made['postId']}", people["ana"], body)
    assert answer.status_code == status, answer.json_body
    view = _get(client, people["ana"], f"/posts/{made['postId']}").json_body
    assert (view["caption"], view["version"]) == ("same", 1)


def test_only_the_author_edits(client, people):
    made = _post(client, people["ana"])
    assert (
        call(
            client, "PATCH", f"/posts/{made['postId']}", people["bob"], {"caption": "x"}
        ).status_code
        == 403
    )


def test_sensitive_posts_and_the_show_sensitive_setting(client, people):
    made = _post(client, people["ana"], sensitive=True, spoilerText="spiders")
    view = _get(client, people["bob"], f"/posts/{made['postId']}").json_body
    assert (view["sensitive"], view["spoilerText"]) == (True, "spiders")
    assert _post(client, people["ana"])["sensitive"] is False
    saved = call(client, "PATCH", "/me", people["bob"], {"settings": {"showSensitive": True}})
    assert saved.json_body["settings"]["showSensitive"] is True


# Followed hashtags -------------------------------------------------------------------------------
def test_followed_hashtags_join_the_feed_once_and_never_from_blocked_users(client, people):
    ana, bob, carl = people["ana"], people["bob"], people["carl"]
    assert call(client, "PUT", "/tags/Sun/follow", carl).json_body == {"following": True}
    assert call(client, "PUT", "/tags/%23sun/follow", carl).status_code == 200  # idempotent
    listed = _get(client, carl, "/me/followed-tags").json_body["items"]
    assert [t["tag"] for t in listed] == ["sun"] and listed[0]["followedAt"]
    by_ana = _post(client, ana, caption="morning #sun")
    by_bob = _post(client, bob, caption="evening #SUN #sea")
    _post(client, bob, caption="no tag")
    hidden = _post(client, ana, caption="friends #sun", visibility="followers")
    call(client, "PUT", "/users/bob/follow", carl)  # carl follows bob too: bob's post once
    people["pump"].pump()
    feed = [p["postId"] for p in _get(client, carl, "/feed").json_body["items"]]
    assert by_ana["postId"] in feed and hidden["postId"] not in feed
    assert feed.count(by_bob["postId"]) == 1
    about = _get(client, carl, "/tags/sun").json_body
    assert about == {"tag": "sun", "postCount": 2, "following": True}
    assert _get(client, ana, "/tags/sea").json_body == {
        "tag": "sea",
        "postCount": 1,
        "following": False,
    }
    call(client, "PUT", "/users/ana/block", carl)
    people["pump"].pump()
    feed = [p["postId"] for p in _get(client, carl, "/feed").json_body["items"]]
    assert by_ana["postId"] not in feed
    assert call(client, "DELETE", "/tags/sun/follow", carl).json_body == {"following": False}
    assert call(client, "DELETE", "/tags/sun/follow", carl).status_code == 200
    assert _get(client, carl, "/me/followed-tags").json_body["items"] == []


def test_a_tags_count_follows_edits_and_deletions(client, people):
    ana = people["ana"]
    made = _post(client, ana, caption="#moon")
    assert _get(client, ana, "/tags/moon").json_body["postCount"] == 1
    call(client, "PATCH", f"/posts/{made['postId']}", ana, {"caption": "#stars"})
    assert _get(client, ana, "/tags/moon").json_body["postCount"] == 0
    assert _get(client, ana, "/tags/stars").json_body["postCount"] == 1
    assert call(client, "DELETE", f"/posts/{made['postId']}", ana).status_code == 204
    people["pump"].pump()
    people["pump"].pump()
    assert _get(client, ana, "/tags/stars").json_body["postCount"] == 0


@pytest.mark.parametrize("tag", ["a-b", "%20", "x" * 101, "x" * 5000, "two words"])
def test_bad_tags_are_400s_and_change_nothing(client, people, tag):
    answer = call(client, "PUT", f"/tags/{tag}/follow", people["ana"])
    assert answer.status_code == 400, answer.json_body
    assert _get(client, people["ana"], "/me/followed-tags").json_body["items"] == []


def test_following_is_capped(client, people, monkeypatch):
    from chalicelib import tags

    monkeypatch.setattr(tags, "MAX_FOLLOWED_TAGS", 2)
    for tag in ("one", "two"):
        assert call(client, "PUT", f"/tags/{tag}/follow", people["ana"]).status_code == 200
    refused = call(client, "PUT", "/tags/three/follow", people["ana"])
    assert refused.status_code == 409 and refused.json_body["Details"][0]["reason"] == "too_many"
    assert call(client, "PUT", "/tags/one/follow", people["ana"]).status_code == 200


# Replies -----------------------------------------------------------------------------------------
def _comment(client, token, post, text, reply_to=None):
    body = {"text": text} | ({"replyTo": reply_to} if reply_to else {})
    answer = call(client, "POST", f"/posts/{post}/comments", token, body)
    assert answer.status_code == 201, answer.json_body
    return answer.json_body


def test_a_reply_to_a_reply_lands_under_the_top_comment(client, people):
    ana, bob, carl = people["ana"], people["bob"], people["carl"]
    post = _post(client, ana)["postId"]
    top = _comment(client, bob, post, "first!")
    reply = _comment(client, carl, post, "no, me", top["commentId"])
    deeper = _comment(client, ana, post, "both of you", reply["commentId"])
    assert reply["replyTo"] == deeper["replyTo"] == top["commentId"]
    listed = _get(client, bob, f"/posts/{post}/comments").json_body["items"]
    assert [(c["commentId"], c["replyCount"]) for c in listed] == [(top["commentId"], 2)]
    replies = _get(client, bob, f"/posts/{post}/comments/{top['commentId']}/replies").json_body
    assert [c["commentId"] for c in replies["items"]] == [reply["commentId"], deeper["commentId"]]
    assert _get(client, bob, f"/posts/{post}").json_body["commentCount"] == 3
    people["pump"].pump()
    bob_seen = [
        (a["type"], a["commentId"]) for a in _get(client, bob, "/activity").json_body["items"]
    ]
    assert ("reply", reply["commentId"]) in bob_seen
    carl_seen = [
        (a["type"], a["commentId"]) for a in _get(client, carl, "/activity").json_body["items"]
    ]
    assert carl_seen == [("reply", deeper["commentId"])]
    ana_seen = [a["type"] for a in _get(client, ana, "/activity").json_body["items"]]
    assert ana_seen.count("comment") == 2  # bob's and carl's, not her own


def test_deleting_a_top_comment_takes_its_replies_and_counts(client, people):
    ana, bob = people["ana"], people["bob"]
    post = _post(client, ana)["postId"]
    top = _comment(client, bob, post, "top")
    one = _comment(client, ana, post, "r1", top["commentId"])
    _comment(client, bob, post, "r2", top["commentId"])
    assert (
        call(client, "DELETE", f"/posts/{post}/comments/{one['commentId']}", ana).status_code == 204
    )
    listed = _get(client, bob, f"/posts/{post}/comments").json_body["items"]
    assert listed[0]["replyCount"] == 1
    assert (
        call(client, "DELETE", f"/posts/{post}/comments/{top['commentId']}", bob).status_code == 204
    )
    assert _get(client, bob, f"/posts/{post}").json_body["commentCount"] == 0
    assert _get(client, bob, f"/posts/{post}/comments").json_body["items"] == []
    gone = _get(client, bob, f"/posts/{post}/comments/{top['commentId']}/replies")
    assert gone.status_code == 404


@pytest.mark.parametrize("reply_to", ["nope", "x" * 65])
def test_a_reply_to_nothing_changes_nothing(client, people, reply_to):
    post = _post(client, people["ana"])["postId"]
    answer = call(
        client,
        "POST",
        f"/posts/{post}/comments",
        people["bob"],
        {"text": "hm", "replyTo": reply_to},
    )
    assert answer.status_code in (400, 404) and set(answer.json_body) >= {"Code", "Message"}
    assert _get(client, people["bob"], f"/posts/{post}").json_body["commentCount"] == 0


def test_a_blocked_users_reply_notifies_nothing(client, people):
    ana, bob, carl = people["ana"], people["bob"], people["carl"]
    post = _post(client, ana)["postId"]
    top = _comment(client, bob, post, "mine")
    call(client, "PUT", "/users/carl/block", bob)
    refused = call(
        client,
        "POST",
        f"/posts/{post}/comments",
        carl,
        {"text": "hey", "replyTo": top["commentId"]},
    )
    assert refused.status_code == 404  # bob's comment is hidden from carl
    people["pump"].pump()
    assert [a["type"] for a in _get(client, bob, "/activity").json_body["items"]] == []
