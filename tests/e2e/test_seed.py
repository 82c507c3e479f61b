"""`make seed` (devstack/seed.py) against the running stack: logins printed, data usable."""

import subprocess
import sys

from tests.e2e.stack import ROOT, call


def test_seed_creates_users_who_can_sign_in_and_see_each_other(stack):
    run = subprocess.run(
        [sys.executable, "-m", "devstack.seed", "--api", stack.api, "--users", "2", "--posts", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "ana.demo@example.com" in run.stdout and "ben.demo@example.com" in run.stdout
    assert "gone when `make dev` stops" in run.stdout
    password = next(line for line in run.stdout.splitlines() if "password for all" in line)
    password = password.rsplit(": ", 1)[1].rstrip(")")
    status, tokens = call(
        f"{stack.api}/auth/login",
        "POST",
        body={"email": "ana.demo@example.com", "password": password},
    )
    assert status == 200, tokens
    _, me = call(f"{stack.api}/me", token=tokens["idToken"])
    assert (me["followingCount"], me["followerCount"], me["postCount"]) == (1, 1, 1)
    _, ben = call(f"{stack.api}/users/ben.demo/posts", token=tokens["idToken"])
    (post,) = ben["items"]
    assert post["likeCount"] == 1 and post["commentCount"] == 1
    assert post["media"][0]["renditions"]["small"].startswith("http://127.0.0.1:")

    again = subprocess.run(  # a second run signs the same users in and adds posts
        [sys.executable, "-m", "devstack.seed", "--api", stack.api, "--users", "1", "--posts", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert call(f"{stack.api}/me", token=tokens["idToken"])[1]["postCount"] == 2
