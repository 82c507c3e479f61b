"""A smoke test of a deployed stage, the way the web frontend uses it; cleans up after itself.

    python -m infra.smoke --api <the stage's Rest API URL, as `chalice deploy` prints it>
    make smoke API=<url>

Health; an account (SMOKE_EMAIL and SMOKE_PASSWORD: a confirmed test account, as on staging where
Cognito e-mails real codes; without them it signs up and confirms a new account, which only the
embedded stack allows, and deletes it at the end); a photo uploaded through the presigned POST
and processed by the upload handler; a post with it; the post in the feed (the stream handler's
fan-out); the post deleted. Each step prints its time; the exit status is 1 on any failure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen


class SmokeFailed(Exception):
    """A step did not answer as the frontend needs."""


class Client:
    """JSON over HTTP to one API, with the caller's ID token once logged in."""

    def __init__(self, api: str) -> None:
        self.api = api.rstrip("/")
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = self.token
        data = json.dumps(body).encode() if body is not None else None
        request = Request(self.api + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urlopen(request, timeout=30) as answer:  # noqa: S310 (the URL given)
                status, raw = answer.status, answer.read()
        except HTTPError as error:
            status, raw = error.code, error.read()
        if status != expect:
            raise SmokeFailed(f"{method} {path}: {status} (expected {expect}) {raw[:300]!r}")
        return json.loads(raw) if raw else None


def photo() -> bytes:
    """A small JPEG, made here (Pillow is a dependency of the app)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 120, 200)).save(out, "JPEG", quality=85)
    return out.getvalue()


def upload(form: dict[str, Any], data: bytes) -> None:
    """The browser's multipart POST to the presigned form."""
    import requests

    sent = requests.post(
        form["url"],
        data=form["fields"],
        files={"file": ("smoke.jpg", data, "image/jpeg")},
        timeout=60,
    )
    if sent.status_code not in (200, 204):
        raise SmokeFailed(f"presigned POST: {sent.status_code} {sent.text[:300]}")


def wait_for(what: str, condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SmokeFailed(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.5)


def run(api: str, email: str | None, password: str | None, wait: float = 60) -> list[str]:
    """Every step against ``api``; the lines it reports. Cleans up what it created."""
    client = Client(api)
    lines: list[str] = []
    cleanup: list[tuple[str, str, int]] = []  # (method, path, expected status), newest first
    started = time.monotonic()

    def step(text: str) -> None:
        lines.append(f"{time.monotonic() - started:6.1f}s  {text}")
        print(f"smoke: {lines[-1]}", flush=True)

    try:
        health = client.call("GET", "/health")
        step(f"health: {health['status']}, version {health['version']}")
        if email and password:
            step(f"test account {email}")
        else:
            email, password = f"smoke-{secrets.token_hex(4)}@example.com", "Smoke-test-1234"
            username = f"smoke_{secrets.token_hex(4)}"
            body = {"email": email, "password": password, "username": username, "name": "Smoke"}
            client.call("POST", "/auth/signup", body, expect=201)
            client.call("POST", "/auth/confirm", {"email": email, "code": "123456"})
            cleanup.insert(0, ("DELETE", "/me", 202))
            step(f"signed up and confirmed {email}")
        tokens = client.call("POST", "/auth/login", {"email": email, "password": password})
        if "idToken" not in tokens:
            raise SmokeFailed(f"login: no tokens (a challenge? {sorted(tokens)})")
        client.token = tokens["idToken"]
        step("logged in")

        data = photo()
        media = client.call(
            "POST",
            "/media",
            {"contentType": "image/jpeg", "contentLength": len(data), "purpose": "post"},
            expect=201,
        )
        media_id = media["mediaId"]
        cleanup.insert(0, ("DELETE", f"/media/{media_id}", 204))
        upload(media["upload"], data)
        step(f"uploaded {len(data)} bytes as {media_id}")

        def ready() -> bool:
            status = client.call("GET", f"/media/{media_id}")["status"]
            if status not in ("pending", "ready"):
                raise SmokeFailed(f"media {media_id}: {status}")
            return bool(status == "ready")

        wait_for("the upload processed", ready, wait)
        step("upload processed: renditions ready")

        post = client.call(
            "POST",
            "/posts",
            {"caption": "smoke test #smoke", "mediaIds": [media_id], "visibility": "public"},
            expect=201,
        )
        post_id = post["postId"]
        cleanup[0] = ("DELETE", f"/posts/{post_id}", 204)  # the post takes its media along
        step(f"posted {post_id}")

        def in_feed() -> bool:
            return any(p["postId"] == post_id for p in client.call("GET", "/feed")["items"])

        wait_for("the post in the feed", in_feed, wait)
        step("the post is in the feed")
    finally:
        for method, path, status in cleanup:
            try:
                client.call(method, path, expect=status)
                step(f"cleaned up: {method} {path}")
            except (SmokeFailed, OSError) as error:
                step(f"cleanup failed: {error}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", required=True, help="the stage's URL (chalice url --stage ...)")
    parser.add_argument("--wait", type=float, default=60, help="seconds for async steps")
    args = parser.parse_args(argv)
    try:
        run(args.api, os.environ.get("SMOKE_EMAIL"), os.environ.get("SMOKE_PASSWORD"), args.wait)
    except (SmokeFailed, OSError) as failure:
        print(f"smoke test FAILED: {failure}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
