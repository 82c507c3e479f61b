"""The load scenario (bench/load.py runs it headless against an embedded stack it started).

Each simulated user is one seeded account with a real ID token (LOAD_USERS: a JSON file of
`{username, idToken}` written by bench/load.py). The mix, by task weight: 70% reads (home feed,
a post, a profile, a user's posts), 30% writes (like, comment, new post), plus photo uploads
(presigned POST to S3, processed by the event pump) and follows. No think time: each user sends
its next request when the last one is answered (a closed loop measuring the stack's capacity).

Every request is appended to LOAD_LOG (JSON lines: time, kind, ms, status) so that bench/load.py
computes the figures per kind and per third of the run itself.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import threading
import time

import requests
from locust import HttpUser, constant, events, task

USERS = json.loads(open(os.environ["LOAD_USERS"], encoding="utf-8").read())  # noqa: SIM115
_next_user = itertools.count()
_log = open(os.environ["LOAD_LOG"], "a", encoding="utf-8")  # noqa: SIM115
_log_lock = threading.Lock()
_post_ids: list[str] = list(json.loads(os.environ.get("LOAD_POSTS", "[]")))
EXPECTED = {"POST": (200, 201, 202, 204), "GET": (200,), "PUT": (200,), "DELETE": (200, 204)}


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response, exception, **_):
    status = getattr(response, "status_code", 0) if response is not None else 0
    line = {"t": time.time(), "kind": name, "ms": response_time, "status": status}
    if exception is not None:
        line["error"] = str(exception)[:200]
    with _log_lock:
        _log.write(json.dumps(line) + "\n")
        _log.flush()


def _photo() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (1200, 900), (random.randrange(256), 90, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


PHOTO = _photo()


class Member(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        me = USERS[next(_next_user) % len(USERS)]
        self.username = me["username"]
        self.client.headers["Authorization"] = me["idToken"]
        self.ready_media: list[str] = []
        self.pending_media: list[str] = []

    def _call(self, method: str, path: str, kind: str, **kwargs):
        with self.client.request(method, path, name=kind, catch_response=True, **kwargs) as answer:
            if answer.status_code in EXPECTED[method]:
                answer.success()
            else:
                answer.failure(f"{answer.status_code} {answer.text[:200]}")
            return answer

    def _post_id(self) -> str | None:
        return random.choice(_post_ids) if _post_ids else None

    def _someone(self) -> str:
        return random.choice(USERS)["username"]

    # reads: 70 ----------------------------------------------------------------------------
    @task(28)
    def feed(self) -> None:
        answer = self._call("GET", "/feed?limit=20", "GET /feed")
        if answer.status_code == 200:
            for post in answer.json().get("items", [])[:5]:
                if len(_post_ids) < 5000:
                    _post_ids.append(post["postId"])

    @task(21)
    def post(self) -> None:
        post_id = self._post_id()
        if post_id:
            self._call("GET", f"/posts/{post_id}", "GET /posts/{id}")

    @task(14)
    def profile(self) -> None:
        self._call("GET", f"/users/{self._someone()}", "GET /users/{u}")

    @task(7)
    def user_posts(self) -> None:
        self._call("GET", f"/users/{self._someone()}/posts?limit=20", "GET /users/{u}/posts")

    # writes: 30 ---------------------------------------------------------------------------
    @task(15)
    def like(self) -> None:
        post_id = self._post_id()
        if post_id:
            self._call("PUT", f"/posts/{post_id}/like", "PUT /posts/{id}/like")

    @task(9)
    def comment(self) -> None:
        post_id = self._post_id()
        if post_id:
            body = {"text": f"nice one #load {random.randrange(10**6)}"}
            self._call("POST", f"/posts/{post_id}/comments", "POST /posts/{id}/comments", json=body)

    @task(6)
    def new_post(self) -> None:
        media = []
        if self.pending_media:
            media_id = self.pending_media.pop(0)
            view = self._call("GET", f"/media/{media_id}", "GET /media/{id}")
            if view.status_code == 200 and view.json().get("status") == "ready":
                media = [media_id]
        body = {"caption": f"load #bench {random.randrange(10**6)}", "mediaIds": media}
        answer = self._call("POST", "/posts", "POST /posts", json=body)
        if answer.status_code == 201:
            _post_ids.append(answer.json()["postId"])

    # plus uploads and follows -----------------------------------------------------------------
    @task(3)
    def upload(self) -> None:
        if len(self.pending_media) >= 5:
            return
        body = {"contentType": "image/jpeg", "contentLength": len(PHOTO), "purpose": "post"}
        answer = self._call("POST", "/media", "POST /media", json=body)
        if answer.status_code != 201:
            return
        form = answer.json()["upload"]
        started = time.perf_counter()
        # the upload itself goes to moto's S3 (as a browser's would), not through the API
        sent = requests.post(
            form["url"],
            data=form["fields"],
            files={"file": ("photo.jpg", PHOTO, "image/jpeg")},
            timeout=30,
        )
        ok = sent.status_code in (200, 204)
        events.request.fire(
            request_type="POST",
            name="S3 upload (presigned POST)",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            response=sent,
            exception=None if ok else RuntimeError(f"{sent.status_code}"),
            context={},
        )
        if ok:
            self.pending_media.append(answer.json()["mediaId"])

    @task(3)
    def follow(self) -> None:
        other = self._someone()
        if other != self.username:
            self._call("PUT", f"/users/{other}/follow", "PUT /users/{u}/follow")
