"""The media pipeline on moto S3 and DynamoDB: uploads, processing, delivery, cleanup."""

import io
import time

import boto3
import pytest
from PIL import Image

from chalicelib import media
from chalicelib.entities import Media
from chalicelib.errors import Conflict, Forbidden, NotFound, TooLarge, UnsupportedMedia
from chalicelib.models import MediaRequestIn
from tests.factories import BUCKET, jpeg, objects, upload


def test_upload_request_pins_key_type_and_length(store):
    out = media.request_upload(
        "u1", MediaRequestIn(content_type="image/jpeg", content_length=1234, purpose="post")
    )
    fields = out.upload.fields
    assert fields["key"] == f"uploads/u1/{out.media_id}"
    assert fields["Content-Type"] == "image/jpeg"
    import base64
    import json

    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1234, 1234] in policy["conditions"]
    assert {"key": fields["key"]} in policy["conditions"]
    assert out.expires_in == 600
    assert media.get_for("u1", out.media_id).status == "pending"


@pytest.mark.parametrize(
    ("content_type", "length", "purpose", "error"),
    [
        ("image/gif", 10, "post", UnsupportedMedia),
        ("application/pdf", 10, "post", UnsupportedMedia),
        ("image/jpeg", 20 * 1024 * 1024 + 1, "post", TooLarge),
        ("image/jpeg", 5 * 1024 * 1024 + 1, "avatar", TooLarge),
    ],
)
def test_upload_request_refuses_types_and_sizes(store, content_type, length, purpose, error):
    with pytest.raises(error):
        media.request_upload(
            "u1", MediaRequestIn(content_type=content_type, content_length=length, purpose=purpose)
        )


def test_pending_uploads_are_limited(store, monkeypatch):
    monkeypatch.setenv("MEDIA_MAX_PENDING", "2")
    from chalicelib import config

    config.get_settings.cache_clear()
    request = MediaRequestIn(content_type="image/png", content_length=10, purpose="post")
    media.request_upload("u1", request)
    media.request_upload("u1", request)
    with pytest.raises(Conflict, match="unfinished uploads"):
        media.request_upload("u1", request)
    media.request_upload("u2", request)  # per user


def test_processing_makes_oriented_renditions_without_metadata(store):
    media_id, key = upload("u1", jpeg(1600, 1200, orientation=6, gps=True))
    assert media.process_upload(BUCKET, key) == "ready"
    view = media.get_for("u1", media_id)
    assert (view.status, view.width, view.height) == ("ready", 1200, 1600)  # rotated
    assert view.blurhash and view.renditions.large.startswith("https://")
    assert key not in objects()  # the raw upload (with its GPS) is gone
    s3 = boto3.client("s3")
    sizes = {}
    for name in ("thumb", "small", "large"):
        stored = s3.get_object(Bucket=BUCKET, Key=media.rendition_key("u1", media_id, name))
        assert stored["ContentType"] == "image/jpeg"
        assert "immutable" in stored["CacheControl"]
        data = stored["Body"].read()
        assert b"Exif" not in data
        sizes[name] = Image.open(io.BytesIO(data)).size
    assert sizes == {"thumb": (320, 320), "small": (480, 640), "large": (810, 1080)}


def test_redelivered_event_is_a_no_op(store):
    _, key = upload("u1", jpeg())
    assert media.process_upload(BUCKET, key) == "ready"
    assert media.process_upload(BUCKET, key) == "skipped"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"this is not a picture at all", "not_an_image"),
        (jpeg()[:5000], "truncated"),
    ],
)
def test_bad_uploads_are_rejected_and_deleted(store, data, reason):
    media_id, key = upload("u1", data)
    assert media.process_upload(BUCKET, key) == f"rejected:{reason}"
    view = media.get_for("u1", media_id)
    assert (view.status, view.reject_reason, view.renditions) == ("rejected", reason, None)
    assert objects() == []


def test_a_lie_about_the_size_is_rejected(store):
    data = jpeg()
    _, key = upload("u1", data, length=len(data) - 1)
    assert media.process_upload(BUCKET, key) == "rejected:size_mismatch"


def test_unrequested_uploads_are_removed(store):
    boto3.client("s3").put_object(Bucket=BUCKET, Key="uploads/u1/01UNKNOWN", Body=b"x")
    assert media.process_upload(BUCKET, "uploads/u1/01UNKNOWN") == "skipped"
    assert objects() == []


def test_others_see_ready_media_only_and_cannot_delete(store):
    pending_id, _ = upload("u1", jpeg())
    with pytest.raises(NotFound):
        media.get_for("u2", pending_id)
    ready_id, key = upload("u1", jpeg())
    media.process_upload(BUCKET, key)
    assert media.get_for("u2", ready_id).status == "ready"
    with pytest.raises(Forbidden):
        media.delete("u2", ready_id)
    media.delete("u1", ready_id)
    assert not [k for k in objects() if ready_id in k]
    with pytest.raises(NotFound):
        media.get_for("u1", ready_id)


def test_cdn_urls_when_a_distribution_is_configured(store, monkeypatch):
    monkeypatch.setenv("MEDIA_CDN_DOMAIN", "d111.cloudfront.example")
    from chalicelib import config

    config.get_settings.cache_clear()
    media_id, key = upload("u1", jpeg())
    media.process_upload(BUCKET, key)
    assert media.get_for("u1", media_id).renditions.thumb == (
        f"https://d111.cloudfront.example/media/u1/{media_id}/thumb.jpg"
    )
    restricted = media.render(media.get_media(media_id), restricted=True)
    assert "X-Amz-Signature=" in restricted.renditions.thumb  # followers-only: presigned


def test_cleanup_removes_old_pending_and_unattached_media_only(store):
    stale_pending, _ = upload("u1", jpeg())
    unattached, key = upload("u1", jpeg())
    media.process_upload(BUCKET, key)
    in_use, key = upload("u1", jpeg(), purpose="avatar")
    media.process_upload(BUCKET, key)
    store.transact_write([media.attach_op(in_use, "u1", "avatar")])
    assert media.cleanup() == 0  # nothing is a day old yet
    removed = media.cleanup(now=time.time() + 2 * 86400)
    assert removed == 2
    assert media.get_media(in_use).attached_to == "avatar"
    for gone in (stale_pending, unattached):
        assert store.get(Media.key_of(gone), Media) is None
    assert all(in_use in k for k in objects())
    assert media.cleanup(now=time.time() + 2 * 86400) == 0  # safe to re-run


def test_a_rendition_url_is_signed_once_per_window(store, monkeypatch):
    from chalicelib import aws, media

    signed = []
    real = aws.presign_at
    monkeypatch.setattr(aws, "presign_at", lambda at, sign: signed.append(at) or real(at, sign))
    key = "media/u/once/large.jpg"
    first = media.rendition_url(key)
    assert media.rendition_url(key) == first and len(signed) == 1
    monkeypatch.setattr(media.time, "time", lambda: signed[0] + media.URL_WINDOW_SECONDS + 1)
    assert media.rendition_url(key) != first and len(signed) == 2  # the next window
