"""Rendition URLs are the same for a window (chalicelib.aws.presign_at): signed as of a fixed
instant, whatever the clock says while signing."""

import time
from urllib.parse import parse_qs, urlparse

import boto3
from botocore.config import Config

from chalicelib import aws


def _client():
    """As the app's S3 client signs: SigV4 (chalicelib.aws._config)."""
    return boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4"),
    )


def _sign(s3, key="media/u/m/large.jpg"):
    return s3.generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": key}, ExpiresIn=7200
    )


def test_the_same_instant_gives_the_same_url_and_says_when():
    s3 = _client()
    start = 1_796_270_400  # 2026-12-03T04:00:00Z
    first = aws.presign_at(start, lambda: _sign(s3))
    time.sleep(1.1)  # the real clock moves on
    assert aws.presign_at(start, lambda: _sign(s3)) == first
    query = parse_qs(urlparse(first).query)
    assert query["X-Amz-Date"] == ["20261203T040000Z"]
    assert query["X-Amz-Expires"] == ["7200"]


def test_another_window_or_object_gives_another_url_and_the_clock_comes_back():
    s3 = _client()
    start = 1_796_270_400
    first = aws.presign_at(start, lambda: _sign(s3))
    assert aws.presign_at(start + 3600, lambda: _sign(s3)) != first
    assert aws.presign_at(start, lambda: _sign(s3, "media/u/m/small.jpg")) != first
    outside = parse_qs(urlparse(_sign(s3)).query)["X-Amz-Date"][0]
    assert outside != "20261203T040000Z"  # signing outside presign_at uses the real clock
