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
