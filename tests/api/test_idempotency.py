"""Idempotency-Key on every create: posts, comments, uploads. The same key and body answer
the first answer and create nothing; another body under the key is a 409."""

import pytest

from tests.support import call

UPLOAD = {"contentType": "image/jpeg", "contentLength": 1000, "purpose": "post"}


def _post(client, token):
    return call(client, "POST", "/posts", token, {"caption": "hi"}).json_body["postId"]


def test_a_retried_comment_is_one_comment(client, ana, bob):
    post = _post(client, ana)
    key = {"Idempotency-Key": "c-1"}
    first = call(client, "POST", f"/posts/{post}/comments", bob, {"text": "nice"}, key)
    again = call(client, "POST", f"/posts/{post}/comments", bob, {"text": "nice"}, key)
    assert first.status_code == again.status_code == 201
    assert again.json_body == first.json_body
    assert call(client, "GET", f"/posts/{post}", bob).json_body["commentCount"] == 1
    other = call(client, "POST", f"/posts/{post}/comments", bob, {"text": "other"}, key)
    assert other.status_code == 409 and other.json_body["Details"][0]["reason"] == "reused"
    another_post = _post(client, ana)  # the same key on another post is another request
    elsewhere = call(client, "POST", f"/posts/{another_post}/comments", bob, {"text": "nice"}, key)
    assert elsewhere.status_code == 409
    assert call(client, "GET", f"/posts/{post}", bob).json_body["commentCount"] == 1


def test_a_retried_upload_request_is_one_media_and_one_slot(client, ana):
    key = {"Idempotency-Key": "u-1"}
    first = call(client, "POST", "/media", ana, UPLOAD, key)
    again = call(client, "POST", "/media", ana, UPLOAD, key)
    assert first.status_code == again.status_code == 201
    assert again.json_body["mediaId"] == first.json_body["mediaId"]
    assert again.json_body["upload"] == first.json_body["upload"]
    fresh = call(client, "POST", "/media", ana, UPLOAD)
    assert fresh.json_body["mediaId"] != first.json_body["mediaId"]
    changed = call(client, "POST", "/media", ana, UPLOAD | {"contentLength": 2000}, key)
    assert changed.status_code == 409


@pytest.mark.parametrize("key", ["", "a b", "x" * 129, "ü"])
def test_a_malformed_key_is_a_400_that_creates_nothing(client, ana, key):
    post = _post(client, ana)
    answer = call(
        client, "POST", f"/posts/{post}/comments", ana, {"text": "x"}, {"Idempotency-Key": key}
    )
    assert answer.status_code == 400 and answer.json_body["Message"].startswith("Idempotency-Key")
    assert call(client, "GET", f"/posts/{post}", ana).json_body["commentCount"] == 0
