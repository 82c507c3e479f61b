"""Blocks over real HTTP on the embedded stack: after A blocks B, neither sees the other, and
B's actions on A's things are 404s that notify nothing (the event pump runs the stream)."""

import time

from tests.e2e.stack import call
from tests.factories import sign_up_and_log_in


def test_a_block_separates_two_users_everywhere(stack):
    api = stack.api
    ana = sign_up_and_log_in(stack, "blocker@example.com", "blocker")["idToken"]
    bob = sign_up_and_log_in(stack, "blockee@example.com", "blockee")["idToken"]
    assert call(f"{api}/users/blocker/follow", "PUT", bob)[0] == 200
    status, made = call(f"{api}/posts", "POST", ana, {"caption": "mine #blocktest"})
    assert status == 201
    assert call(f"{api}/users/blockee/block", "PUT", ana) == (200, {"blocking": True})
    assert call(f"{api}/users/blocker", token=bob)[0] == 404
    assert call(f"{api}/posts/{made['postId']}", token=bob)[0] == 404
    assert call(f"{api}/posts/{made['postId']}/like", "PUT", bob)[0] == 404
    assert call(f"{api}/users/blocker/follow", "PUT", bob)[0] == 404
    status, me = call(f"{api}/me", token=ana)
    assert status == 200 and me["followerCount"] == 0
    status, view = call(f"{api}/users/blockee", token=ana)
    assert status == 200 and view["blocking"] is True
    time.sleep(1.5)  # the event pump delivers what the stream has (nothing from bob)
    status, activity = call(f"{api}/activity", token=ana)
    assert status == 200 and all(a["actor"]["username"] != "blockee" for a in activity["items"])
    status, found = call(f"{api}/users?q=block", token=ana)
    assert [u["username"] for u in found["items"]] == ["blocker"]
    assert call(f"{api}/users/blockee/block", "DELETE", ana) == (200, {"blocking": False})
    assert call(f"{api}/users/blocker", token=bob)[0] == 200


def _wait_for(read, *, seconds: float = 5.0):
    """``read()`` until it returns something truthy (the event pump runs the stream)."""
    deadline = time.monotonic() + seconds
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_private_account_over_http(stack):
    api = stack.api
    owner = sign_up_and_log_in(stack, "hidden@example.com", "hiddenone")["idToken"]
    fan = sign_up_and_log_in(stack, "asker@example.com", "asker")["idToken"]
    status, me = call(f"{api}/me", "PATCH", owner, {"private": True})
    assert status == 200 and me["private"] is True
    status, made = call(f"{api}/posts", "POST", owner, {"caption": "for friends #privtest"})
    assert status == 201
    post = made["postId"]
    # an outsider: the profile, but not the posts
    status, view = call(f"{api}/users/hiddenone", token=fan)
    assert status == 200 and (view["private"], view["requested"]) == (True, False)
    assert call(f"{api}/posts/{post}", token=fan)[0] == 404
    status, refused = call(f"{api}/users/hiddenone/posts", token=fan)
    assert status == 403 and refused["Details"] == [{"reason": "private_account"}]
    status, tagged = call(f"{api}/search/posts?tag=privtest", token=fan)
    assert status == 200 and tagged["items"] == []
    # a request, seen by the owner, accepted
    asked = call(f"{api}/users/hiddenone/follow", "PUT", fan)
    assert asked == (200, {"following": False, "requested": True, "followerCount": 0})
    status, requests = call(f"{api}/me/follow-requests", token=owner)
    assert [r["user"]["username"] for r in requests["items"]] == ["asker"]
    assert _wait_for(
        lambda: [
            a
            for a in call(f"{api}/activity", token=owner)[1]["items"]
            if a["type"] == "follow_request"
        ]
    )
    accepted = call(f"{api}/me/follow-requests/asker/accept", "POST", owner)
    assert accepted == (200, {"follower": True, "followerCount": 1})
    assert call(f"{api}/posts/{post}", token=fan)[0] == 200
    assert _wait_for(
        lambda: [p for p in call(f"{api}/feed", token=fan)[1]["items"] if p["postId"] == post]
    ), "the accepted follower's feed is backfilled"
    kinds = _wait_for(lambda: [a["type"] for a in call(f"{api}/activity", token=fan)[1]["items"]])
    assert kinds == ["follow_accepted"]
    # removed again: hidden again
    assert call(f"{api}/me/followers/asker", "DELETE", owner)[0] == 204
    assert call(f"{api}/posts/{post}", token=fan)[0] == 404
    assert call(f"{api}/me/follow-requests/asker/accept", "POST", owner)[0] == 404


def test_reports_reach_the_queue_and_one_resolve_closes_them(stack):
    import subprocess
    import sys
    from pathlib import Path

    from tests.support import PASSWORD

    api = stack.api
    author = sign_up_and_log_in(stack, "troll@example.com", "trollish")["idToken"]
    one = sign_up_and_log_in(stack, "witness1@example.com", "witness1")["idToken"]
    two = sign_up_and_log_in(stack, "witness2@example.com", "witness2")["idToken"]
    sign_up_and_log_in(stack, "modder@example.com", "modder")
    granted = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack.grant",
            "modder",
            "moderators",
            "--state-dir",
            str(stack.outputs_file.parent),
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert granted.returncode == 0, granted.stderr
    _, login = call(
        f"{api}/auth/login", "POST", body={"email": "modder@example.com", "password": PASSWORD}
    )
    moderator = login["idToken"]
    status, made = call(f"{api}/posts", "POST", author, {"caption": "bait"})
    post = made["postId"]
    status, said = call(f"{api}/posts/{post}/comments", "POST", author, {"text": "rude"})
    comment = said["commentId"]
    for token in (one, two):
        assert call(f"{api}/posts/{post}/report", "POST", token, {"category": "spam"})[0] == 202
    path = f"{api}/posts/{post}/comments/{comment}/report"
    assert call(path, "POST", one, {"category": "harassment"})[0] == 202
    assert call(f"{api}/users/trollish/report", "POST", one, {"category": "hate"})[0] == 202
    assert call(f"{api}/admin/reports", token=one)[0] == 403
    status, queue = call(f"{api}/admin/reports?status=open", token=moderator)
    assert status == 200
    ours = {
        r["target"]["type"]: r
        for r in queue["items"]
        if r["target"]["owner"]["username"] == "trollish"
    }
    assert {t: r["reportCount"] for t, r in ours.items()} == {"post": 2, "comment": 1, "user": 1}
    resolve = f"{api}/admin/reports/{ours['post']['reportId']}/resolve"
    status, done = call(resolve, "POST", moderator, {"action": "remove", "note": "spam"})
    assert status == 200 and done["status"] == "resolved"
    assert call(f"{api}/posts/{post}", token=one)[0] == 404
    assert call(resolve, "POST", moderator, {"action": "dismiss"})[0] == 409
    status, queue = call(f"{api}/admin/reports", token=moderator)
    assert ours["post"]["reportId"] not in [r["reportId"] for r in queue["items"]]
    status, resolved = call(f"{api}/admin/reports?status=resolved", token=moderator)
    assert [
        r["action"] for r in resolved["items"] if r["reportId"] == ours["post"]["reportId"]
    ] == ["remove"]
