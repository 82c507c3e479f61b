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
