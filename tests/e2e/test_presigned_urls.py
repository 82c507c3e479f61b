"""Presigned links (renditions, exports) are checked as S3 checks them: a tampered link is a 403
SignatureDoesNotMatch and a link kept past its expiry a 403 "Request has expired"
(devstack/s3policy.py); a fresh, untouched link works."""

import datetime
from unittest import mock

import boto3
import pytest
import requests
from botocore.config import Config

from tests.e2e.test_upload_policy import ORIGIN, error_of


@pytest.fixture(scope="module")
def rendition(stack):
    """A fresh object in the media bucket and a presigned GET of it, as the app makes them."""
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.moto,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),
    )
    bucket = stack.settings()["MEDIA_BUCKET"]
    s3.put_object(Bucket=bucket, Key="media/u/m/thumb.jpg", Body=b"jpeg", ContentType="image/jpeg")
    s3.put_object(Bucket=bucket, Key="media/u/m/large.jpg", Body=b"JPEG", ContentType="image/jpeg")
    return s3, bucket


def presign(s3, bucket, key, at=None, expires=3600):
    if at is None:
        return s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
        )
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        return s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
        )


def test_an_untouched_link_works(rendition):
    s3, bucket = rendition
    answer = requests.get(presign(s3, bucket, "media/u/m/thumb.jpg"), timeout=10)
    assert (answer.status_code, answer.content) == (200, b"jpeg")


@pytest.mark.parametrize("tamper", ["signature", "key", "expiry"])
def test_a_tampered_link_is_refused(rendition, tamper):
    s3, bucket = rendition
    url = presign(s3, bucket, "media/u/m/thumb.jpg")
    if tamper == "signature":
        url = url[:-1] + ("0" if url[-1] != "0" else "1")
    elif tamper == "key":  # another object with the same signature
        url = url.replace("thumb.jpg", "large.jpg")
    else:  # a longer life than the one signed
        url = url.replace("X-Amz-Expires=3600", "X-Amz-Expires=604800")
    answer = requests.get(url, headers={"Origin": ORIGIN}, timeout=10)
    assert error_of(answer)[:2] == (403, "SignatureDoesNotMatch")
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN  # readable by JS


def test_an_expired_link_is_refused(rendition):
    s3, bucket = rendition
    two_hours_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    url = presign(s3, bucket, "media/u/m/thumb.jpg", at=two_hours_ago, expires=3600)
    status, code, message, doc = error_of(requests.get(url, timeout=10))
    assert (status, code, message) == (403, "AccessDenied", "Request has expired")
    assert doc["X-Amz-Expires"] == "3600"
