"""The embedded stack refuses a forged or policy-breaking upload as S3 does (devstack/s3policy.py).

Each refusal is checked for S3's status, error code and message, and for the bucket's CORS
headers (a browser must be able to read the error); nothing refused is stored.
"""

import time
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests
from botocore.config import Config

from tests.e2e.stack import call
from tests.factories import jpeg, sign_up_and_log_in

ORIGIN = "http://127.0.0.1:9"  # any origin: the local bucket's CORS allows "*"
PHOTO = jpeg(64, 48)


@pytest.fixture(scope="module")
def token(stack):
    return sign_up_and_log_in(stack, "uploader@example.com", "uploader")["idToken"]


@pytest.fixture(scope="module")
def form(stack, token):
    """One presigned POST from `POST /media`, as the app builds it (reusable until it works)."""
    status, answer = call(
        f"{stack.api}/media",
        "POST",
        token=token,
        body={"contentType": "image/jpeg", "contentLength": len(PHOTO), "purpose": "post"},
    )
    assert status == 201, answer
    return answer


def s3(stack, access_key="testing", secret="testing"):
    return boto3.client(
        "s3",
        endpoint_url=stack.moto,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(signature_version="s3v4"),
    )


def post(url, fields, data=PHOTO, content_type="image/jpeg", file_field="file"):
    files = {file_field: ("photo.jpg", data, content_type)}
    return requests.post(url, data=fields, files=files, headers={"Origin": ORIGIN}, timeout=10)


def error_of(response):
    """(status, Code, Message, the whole document as a dict) of S3's error answer."""
    assert response.headers["Content-Type"] == "application/xml", response.text
    root = ET.fromstring(response.content)  # noqa: S314 (our own stack's answer)
    assert root.tag == "Error"
    doc = {child.tag: child.text for child in root}
    return response.status_code, doc["Code"], doc["Message"], doc


def stored(stack, bucket, key):
    try:
        s3(stack).head_object(Bucket=bucket, Key=key)
        return True
    except s3(stack).exceptions.ClientError:
        return False


def tampered(fields, **changes):
    out = dict(fields)
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


POLICY = "Invalid according to Policy: "


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "signature",
            (
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            ),
        ),
        (
            "content_type",
            (
                403,
                "AccessDenied",
                POLICY + 'Policy Condition failed: ["eq", "$Content-Type", "image/jpeg"]',
            ),
        ),
        ("key", (403, "AccessDenied", POLICY + 'Policy Condition failed: ["eq", "$key", ')),
        ("extra_field", (403, "AccessDenied", POLICY + "Extra input fields: acl")),
        (
            "too_large",
            (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"),
        ),
        (
            "too_small",
            (
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            ),
        ),
        ("no_policy", (403, "AccessDenied", "Access Denied")),
        ("no_file", (400, "InvalidArgument", "POST requires exactly one file upload per request.")),
    ],
)
def test_a_policy_breaking_upload_is_refused_as_s3_does(stack, form, case, expected):
    fields = form["upload"]["fields"]
    data, file_field = PHOTO, "file"
    if case == "signature":
        fields = tampered(fields, x_amz_signature="0" * 64)
    elif case == "content_type":
        fields = tampered(fields, **{"Content-Type": "image/png"})
    elif case == "key":
        fields = tampered(fields, key=fields["key"] + "-elsewhere")
    elif case == "extra_field":
        fields = tampered(fields, acl="public-read")
    elif case == "too_large":
        data = PHOTO + b"\0"
    elif case == "too_small":
        data = PHOTO[:-1]
    elif case == "no_policy":
        fields = tampered(fields, policy=None, x_amz_signature=None)
    elif case == "no_file":
        file_field = "attachment"  # a multipart form, but no part named `file`
    response = post(form["upload"]["url"], fields, data, file_field=file_field)
    status, code, message, doc = error_of(response)
    assert (status, code) == expected[:2]
    assert message.startswith(expected[2])
    if code == "EntityTooLarge":
        assert (doc["ProposedSize"], doc["MaxSizeAllowed"]) == (str(len(data)), str(len(PHOTO)))
    # a browser can read the error: the bucket's CORS headers are on it, as S3 puts them
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    bucket = form["upload"]["url"].rstrip("/").rsplit("/", 1)[1]
    assert not stored(stack, bucket, fields.get("key", form["upload"]["fields"]["key"]))


def test_an_expired_policy_is_refused(stack, form):
    bucket = form["upload"]["url"].rstrip("/").rsplit("/", 1)[1]
    key = form["upload"]["fields"]["key"]
    expired = s3(stack).generate_presigned_post(bucket, key, ExpiresIn=-60)
    status, code, message, _ = error_of(post(expired["url"], expired["fields"]))
    assert (status, code, message) == (403, "AccessDenied", POLICY + "Policy expired.")


def test_a_policy_signed_with_unknown_keys_is_refused(stack, form):
    bucket = form["upload"]["url"].rstrip("/").rsplit("/", 1)[1]
    key = form["upload"]["fields"]["key"]
    stranger = s3(stack, "AKIASTRANGER", "secret").generate_presigned_post(bucket, key)
    status, code, _, doc = error_of(post(stranger["url"], stranger["fields"]))
    assert (status, code, doc["AWSAccessKeyId"]) == (403, "InvalidAccessKeyId", "AKIASTRANGER")
    wrong_secret = s3(stack, "testing", "not-the-secret").generate_presigned_post(bucket, key)
    status, code, _, _ = error_of(post(wrong_secret["url"], wrong_secret["fields"]))
    assert (status, code) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_anonymous_writes_to_the_bucket_are_refused(stack, form, method):
    bucket = form["upload"]["url"].rstrip("/").rsplit("/", 1)[1]
    url = f"{stack.moto}/{bucket}/uploads/anonymous.jpg"
    response = requests.request(method, url, data=PHOTO, timeout=10)
    assert error_of(response)[:3] == (403, "AccessDenied", "Access Denied")
    assert not stored(stack, bucket, "uploads/anonymous.jpg")


def test_signed_writes_and_the_apps_own_form_still_work(stack, token, form):
    """The layer refuses only what S3 refuses: boto3's signed calls and the app's form pass."""
    bucket = form["upload"]["url"].rstrip("/").rsplit("/", 1)[1]
    s3(stack).put_object(Bucket=bucket, Key="exports/signed.json", Body=b"{}")
    assert stored(stack, bucket, "exports/signed.json")
    response = post(form["upload"]["url"], form["upload"]["fields"])
    assert response.status_code == 204, response.text
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert media_state(stack, token, form["mediaId"]) == "ready"


def media_state(stack, token, media_id):
    """The media's status once the pipeline has seen the upload (pending until then)."""
    deadline = time.monotonic() + 30  # a bound on waiting, not a timing assertion
    while True:
        status = call(f"{stack.api}/media/{media_id}", token=token)[1]["status"]
        if status != "pending" or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_a_broken_form_is_a_400_not_a_crash(stack, form):
    response = requests.post(
        form["upload"]["url"],
        data=b"--x\r\nnot a form part",
        headers={"Content-Type": "multipart/form-data; boundary=x", "Origin": ORIGIN},
        timeout=10,
    )
    assert error_of(response)[:2] == (400, "MalformedPOSTRequest")
