"""The /media routes over chalice.test.Client."""

import boto3
import pytest

from chalicelib import media
from tests.factories import BUCKET, jpeg
from tests.support import call


def ask(client, token, **changes):
    body = {"contentType": "image/jpeg", "contentLength": 1000, "purpose": "post"} | changes
    return call(client, "POST", "/media", token, body)


def test_upload_request_answers_a_presigned_post(client, ana):
    response = ask(client, ana)
    assert response.status_code == 201
    body = response.json_body
    assert set(body) == {"mediaId", "upload", "expiresIn"}
    assert body["upload"]["fields"]["key"].endswith(body["mediaId"])
    assert call(client, "GET", f"/media/{body['mediaId']}", ana).json_body["status"] == "pending"


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"contentType": "image/gif"}, 415, "contentType"),
        ({"contentLength": 30 * 1024 * 1024}, 413, "contentLength"),
        ({"contentLength": 0}, 400, "contentLength"),
        ({"purpose": "banner"}, 400, "purpose"),
    ],
)
def test_upload_request_refusals(client, ana, changes, status, field):
    response = ask(client, ana, **changes)
    assert response.status_code == status
    assert response.json_body["Message"].startswith(field)


def test_others_cannot_see_pending_or_delete(client, ana, bob):
    media_id = ask(client, ana).json_body["mediaId"]
    assert call(client, "GET", f"/media/{media_id}", bob).status_code == 404
    assert call(client, "DELETE", f"/media/{media_id}", bob).status_code == 404
    assert call(client, "GET", "/media/no-such-id", ana).status_code == 404
    assert call(client, "DELETE", f"/media/{media_id}", ana).status_code == 204
    assert call(client, "GET", f"/media/{media_id}", ana).status_code == 404


def test_ready_avatar_in_use_cannot_be_deleted(client, ana, bob):
    data = jpeg()
    answer = ask(client, ana, purpose="avatar", contentLength=len(data)).json_body
    key = answer["upload"]["fields"]["key"]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=data)
    assert media.process_upload(BUCKET, key) == "ready"
    media_id = answer["mediaId"]
    assert call(client, "GET", f"/media/{media_id}", bob).json_body["status"] == "ready"
    assert call(client, "DELETE", f"/media/{media_id}", bob).status_code == 403
    patched = call(client, "PATCH", "/me", ana, {"avatar": media_id})
    assert patched.status_code == 200 and patched.json_body["avatar"] == media_id
    conflict = call(client, "DELETE", f"/media/{media_id}", ana)
    assert conflict.status_code == 409
    assert call(client, "PATCH", "/me", ana, {"avatar": None}).json_body["avatar"] is None
    assert call(client, "DELETE", f"/media/{media_id}", ana).status_code == 204
