"""Follow counters under concurrency, account deletion and export, over HTTP on the stack."""

import io
import json
import random
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from urllib.request import urlopen

import boto3
import pytest

from tests.e2e.stack import call
from tests.factories import sign_up_and_log_in

KEY_ATTRIBUTES = ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK")


def _scan(stack):
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.moto, region_name="us-east-1")
    pages = dynamodb.get_paginator("scan").paginate(TableName=stack.settings()["TABLE_NAME"])
    return [item for page in pages for item in page["Items"]]


def _wait(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_follow_counters_stay_exact_under_concurrent_calls(stack):
    api = stack.api
    sign_up_and_log_in(stack, "idol@example.com", "idol")
    fans = [
        sign_up_and_log_in(stack, f"fan{i}@example.com", f"fan_{i}")["idToken"] for i in range(4)
    ]
    rng = random.Random(7)
    calls = [(token, rng.choice(["PUT", "DELETE"])) for token in fans for _ in range(5)]
    rng.shuffle(calls)

    def send(args):
        token, method = args
        return call(f"{api}/users/idol/follow", method, token=token)[0]

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(send, calls))
    assert statuses == [200] * 20

    _, idol = call(f"{api}/users/idol", token=fans[0])
    _, followers = call(f"{api}/users/idol/followers?limit=100", token=fans[0])
    assert idol["followerCount"] == len(followers["items"])
    for token in fans:
        _, me = call(f"{api}/me", token=token)
        _, following = call(f"{api}/users/{me['username']}/following", token=token)
        assert me["followingCount"] == len(following["items"]) in (0, 1)


def test_deleted_account_disappears_within_seconds(stack):
    api = stack.api
    gone = sign_up_and_log_in(stack, "gone@example.com", "gone_user")
    friend = sign_up_and_log_in(stack, "friend@example.com", "friend")
    assert call(f"{api}/users/friend/follow", "PUT", token=gone["idToken"])[0] == 200
    assert call(f"{api}/users/gone_user/follow", "PUT", token=friend["idToken"])[0] == 200
    _, me = call(f"{api}/me", token=gone["idToken"])
    user_id = me["userId"]

    started = time.monotonic()
    assert call(f"{api}/me", "DELETE", token=gone["idToken"])[0] == 202

    def nothing_left():
        return not [
            i
            for i in _scan(stack)
            if any(
                user_id in i.get(a, {}).get("S", "") or "gone_user" in i.get(a, {}).get("S", "")
                for a in KEY_ATTRIBUTES
            )
        ]

    assert _wait(nothing_left, 10), "items of the deleted user remain"
    elapsed = time.monotonic() - started
    _, friend_me = call(f"{api}/me", token=friend["idToken"])
    assert (friend_me["followerCount"], friend_me["followingCount"]) == (0, 0)
    assert elapsed < 10


def test_export_becomes_a_downloadable_archive(stack):
    api = stack.api
    tokens = sign_up_and_log_in(stack, "export@example.com", "exporter")
    status, job = call(f"{api}/me/export", token=tokens["idToken"])
    assert status == 202 and job["status"] == "pending"
    assert _wait(lambda: call(f"{api}/me/export", token=tokens["idToken"])[0] == 200, 10)
    _, ready = call(f"{api}/me/export", token=tokens["idToken"])
    assert ready["jobId"] == job["jobId"] and ready["url"].startswith("http://127.0.0.1:")
    with urlopen(ready["url"], timeout=10) as response:  # presigned GET on the moto server
        assert "echomate-export.zip" in response.headers["Content-Disposition"]
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    assert archive.testzip() is None
    assert json.loads(archive.read("profile.json"))["profile"]["username"] == "exporter"
    assert "@exporter" in archive.read("index.html").decode()


def test_a_conditional_get_over_http(stack):
    """The embedded API sends the ETag and answers a matching If-None-Match with an empty
    304, as a browser's cache revalidation expects."""
    from urllib.error import HTTPError
    from urllib.request import Request

    token = sign_up_and_log_in(stack, "etag@example.com", "etagger")["idToken"]
    with urlopen(Request(f"{stack.api}/me", headers={"Authorization": token}), timeout=10) as r:
        tag = r.headers["ETag"]
        assert r.status == 200 and tag.startswith('W/"')
    again = Request(f"{stack.api}/me", headers={"Authorization": token, "If-None-Match": tag})
    with pytest.raises(HTTPError) as answer:  # urllib raises on 304
        urlopen(again, timeout=10)
    assert answer.value.code == 304 and answer.value.read() == b""
