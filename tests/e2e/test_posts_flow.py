"""Feed fan-out and likes under concurrency, over HTTP on the embedded stack."""

import time
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.stack import call
from tests.factories import sign_up_and_log_in


def _feed(stack, token):
    return [p["postId"] for p in call(f"{stack.api}/feed?limit=50", token=token)[1]["items"]]


def _within(condition, seconds):
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def test_post_reaches_a_followers_feed_and_leaves_it(stack):
    api = stack.api
    author = sign_up_and_log_in(stack, "author@example.com", "author")["idToken"]
    reader = sign_up_and_log_in(stack, "reader@example.com", "reader")["idToken"]
    assert call(f"{api}/users/author/follow", "PUT", token=reader)[0] == 200
    status, made = call(f"{api}/posts", "POST", token=author, body={"caption": "fresh #news"})
    assert status == 201
    arrived = _within(lambda: made["postId"] in _feed(stack, reader), 2)
    assert call(f"{api}/posts/{made['postId']}", "DELETE", token=author)[0] == 204
    left = _within(lambda: made["postId"] not in _feed(stack, reader), 2)
    assert arrived < 2 and left < 2


def test_thirty_concurrent_likes_from_three_users_count_three(stack):
    api = stack.api
    owner = sign_up_and_log_in(stack, "liked@example.com", "liked")["idToken"]
    fans = [
        sign_up_and_log_in(stack, f"liker{i}@example.com", f"liker{i}")["idToken"] for i in range(3)
    ]
    _, made = call(f"{api}/posts", "POST", token=owner, body={"caption": "like me"})
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(
            pool.map(
                lambda token: call(f"{api}/posts/{made['postId']}/like", "PUT", token=token)[0],
                fans * 10,
            )
        )
    assert statuses == [200] * 30
    _, post = call(f"{api}/posts/{made['postId']}", token=owner)
    _, likers = call(f"{api}/posts/{made['postId']}/likes", token=owner)
    assert post["likeCount"] == 3 == len(likers["items"])


def test_richer_posting_over_http(stack):
    """v1.2 as a frontend uses it: a mention that notifies, a bookmark, an edit with its
    history, a sensitive post."""
    api = stack.api
    writer = sign_up_and_log_in(stack, "writer12@example.com", "writer12")["idToken"]
    friend = sign_up_and_log_in(stack, "friend12@example.com", "friend12")["idToken"]
    status, made = call(
        f"{api}/posts",
        "POST",
        writer,
        {"caption": "hello @Friend12 #v12", "sensitive": True, "spoilerText": "loud"},
    )
    assert status == 201 and [m["username"] for m in made["mentions"]] == ["friend12"]
    assert (made["sensitive"], made["spoilerText"], made["version"]) == (True, "loud", 1)
    post = made["postId"]
    _within(
        lambda: any(
            a["type"] == "mention" and a["postId"] == post
            for a in call(f"{api}/activity", token=friend)[1]["items"]
        ),
        3,
    )
    assert call(f"{api}/posts/{post}/bookmark", "PUT", friend) == (200, {"bookmarked": True})
    status, saved = call(f"{api}/me/bookmarks", token=friend)
    assert [p["postId"] for p in saved["items"]] == [post] and saved["items"][0]["bookmarkedByMe"]
    status, edited = call(f"{api}/posts/{post}", "PATCH", writer, {"caption": "edited"})
    assert status == 200 and (edited["version"], edited["caption"]) == (2, "edited")
    status, history = call(f"{api}/posts/{post}/history", token=friend)
    assert status == 200
    assert [(v["version"], v["caption"]) for v in history["items"]] == [(1, "hello @Friend12 #v12")]


def test_alt_text_replies_and_followed_tags_over_http(stack):
    """The rest of v1.2 as a frontend uses it: a photo described at upload and again after
    publishing, a reply to a reply that lands under its top comment, a followed hashtag that
    brings a stranger's post into the feed."""
    import requests

    from tests.factories import jpeg

    api = stack.api
    maker = sign_up_and_log_in(stack, "maker12@example.com", "maker12")["idToken"]
    fan = sign_up_and_log_in(stack, "fan12@example.com", "fan12")["idToken"]
    data = jpeg(800, 600)
    status, asked = call(
        f"{api}/media",
        "POST",
        maker,
        {
            "contentType": "image/jpeg",
            "contentLength": len(data),
            "purpose": "post",
            "description": "a test card",
            "focus": {"x": -0.5, "y": 0.5},
        },
    )
    assert status == 201
    form = asked["upload"]
    sent = requests.post(
        form["url"], data=form["fields"], files={"file": ("p.jpg", data, "image/jpeg")}, timeout=30
    )
    assert sent.status_code in (200, 204)
    media_id = asked["mediaId"]
    _within(lambda: call(f"{api}/media/{media_id}", token=maker)[1]["status"] == "ready", 5)
    assert call(f"{api}/tags/e2etag/follow", "PUT", fan) == (200, {"following": True})
    status, made = call(
        f"{api}/posts", "POST", maker, {"caption": "new #E2ETag", "mediaIds": [media_id]}
    )
    assert status == 201 and made["media"][0]["description"] == "a test card"
    post = made["postId"]
    status, media = call(f"{api}/media/{media_id}", "PATCH", maker, {"description": "a card"})
    assert status == 200 and media["description"] == "a card"
    _within(lambda: post in _feed(stack, fan), 3)  # by the followed tag, not the author
    status, seen = call(f"{api}/posts/{post}", token=fan)
    assert seen["media"][0]["description"] == "a card"
    status, tag = call(f"{api}/tags/e2etag", token=fan)
    assert tag == {"tag": "e2etag", "postCount": 1, "following": True}
    status, top = call(f"{api}/posts/{post}/comments", "POST", fan, {"text": "first"})
    status, reply = call(
        f"{api}/posts/{post}/comments", "POST", maker, {"text": "hi", "replyTo": top["commentId"]}
    )
    status, deeper = call(
        f"{api}/posts/{post}/comments", "POST", fan, {"text": "yo", "replyTo": reply["commentId"]}
    )
    assert status == 201 and deeper["replyTo"] == top["commentId"]
    status, listed = call(f"{api}/posts/{post}/comments", token=fan)
    assert [(c["commentId"], c["replyCount"]) for c in listed["items"]] == [(top["commentId"], 2)]
    status, replies = call(f"{api}/posts/{post}/comments/{top['commentId']}/replies", token=fan)
    assert [c["commentId"] for c in replies["items"]] == [reply["commentId"], deeper["commentId"]]
    _within(
        lambda: any(a["type"] == "reply" for a in call(f"{api}/activity", token=fan)[1]["items"]),
        3,
    )
