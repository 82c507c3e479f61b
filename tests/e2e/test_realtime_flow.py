"""Real time over the embedded stack, as a frontend uses it: a WebSocket held open on the
stack's WebSocket API (devstack/websocket.py, running the app's own handlers), pushes from the
event pump's stream handler through the management API stand-in, refusals and cleanup."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.stack import call
from tests.factories import sign_up_and_log_in
from tests.support import claims_of, tampered


def _messages(socket, seconds: float) -> list[dict]:
    """What arrives on ``socket`` within ``seconds``."""
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            got.append(json.loads(socket.recv(timeout=left)))
        except TimeoutError:
            break
    return got


def _first(socket, kind: str, seconds: float) -> tuple[dict | None, float]:
    started = time.monotonic()
    deadline = started + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            break
        if message.get("type") == kind:
            return message, time.monotonic() - started
    return None, seconds


@pytest.fixture(scope="module")
def people(stack):
    ana = sign_up_and_log_in(stack, "wsana@example.com", "wsana")["idToken"]
    bob = sign_up_and_log_in(stack, "wsbob@example.com", "wsbob")["idToken"]
    status, made = call(f"{stack.api}/posts", "POST", ana, {"caption": "live"})
    assert status == 201
    return {"ana": ana, "bob": bob, "post": made["postId"], "ws": stack.settings()["WEBSOCKET_URL"]}


def test_a_like_reaches_the_open_socket_within_two_seconds(stack, people):
    with connect(f"{people['ws']}?token={people['ana']}") as socket:
        socket.send(json.dumps({"action": "ping"}))
        assert json.loads(socket.recv(timeout=5)) == {"type": "pong"}
        liked = call(f"{stack.api}/posts/{people['post']}/like", "PUT", people["bob"])
        assert liked[0] == 200
        pushed, after = _first(socket, "activity", 5)
        assert pushed is not None, "no activity pushed within 5 s"
        assert (pushed["item"]["type"], pushed["item"]["actor"]["username"]) == ("like", "wsbob")
        assert pushed["item"]["postId"] == people["post"]
        print(f"like → activity push: {after:.2f} s")
        assert after < 2.0, f"the push took {after:.2f} s"


@pytest.mark.parametrize("case", ["forged", "missing", "garbage"])
def test_a_bad_token_cannot_connect(people, case):
    token = {
        "forged": tampered(people["ana"], sub="00000000-0000-0000-0000-000000000000"),
        "missing": None,
        "garbage": "abc.def.ghi",
    }[case]
    url = people["ws"] if token is None else f"{people['ws']}?token={token}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10)
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["Code"] == "UnauthorizedError"


def test_a_watched_post_streams_its_comments(stack, people):
    with connect(f"{people['ws']}?token={people['bob']}") as socket:
        socket.send(json.dumps({"action": "subscribe", "postId": people["post"]}))
        assert json.loads(socket.recv(timeout=5)) == {
            "type": "subscribed",
            "postId": people["post"],
        }
        body = {"text": "hello live"}
        assert (
            call(f"{stack.api}/posts/{people['post']}/comments", "POST", people["ana"], body)[0]
            == 201
        )
        pushed, _ = _first(socket, "comment", 5)
        assert pushed is not None and pushed["comment"]["text"] == "hello live"


def test_a_closed_connection_is_cleaned_up(stack, people):
    settings = stack.settings()
    table = boto3.resource(
        "dynamodb",
        endpoint_url=stack.moto,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).Table(settings["TABLE_NAME"])
    key = {"PK": f"WSUSER#{claims_of(people['ana'])['sub']}", "SK": "CONNECTIONS"}
    with connect(f"{people['ws']}?token={people['ana']}") as socket:
        socket.send(json.dumps({"action": "ping"}))
        socket.recv(timeout=5)
        assert len(table.get_item(Key=key)["Item"]["connections"]) >= 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not table.get_item(Key=key).get("Item", {}).get("connections"):
            break
        time.sleep(0.1)
    assert not table.get_item(Key=key).get("Item", {}).get("connections")


def test_after_a_block_the_blocked_users_actions_push_nothing(stack, people):
    carl = sign_up_and_log_in(stack, "wscarl@example.com", "wscarl")["idToken"]
    dave = sign_up_and_log_in(stack, "wsdave@example.com", "wsdave")["idToken"]
    status, made = call(f"{stack.api}/posts", "POST", carl, {"caption": "quiet"})
    assert status == 201
    assert call(f"{stack.api}/users/wsdave/block", "PUT", carl)[0] == 200
    with connect(f"{people['ws']}?token={carl}") as socket:
        assert call(f"{stack.api}/posts/{made['postId']}/like", "PUT", dave)[0] == 404
        comment = {"text": "hey @wscarl"}
        assert call(f"{stack.api}/posts/{made['postId']}/comments", "POST", dave, comment)[0] == 404
        assert call(f"{stack.api}/users/wscarl/follow", "PUT", dave)[0] == 404
        status, _ = call(f"{stack.api}/posts", "POST", dave, {"caption": "hi @wscarl"})
        assert status == 201
        assert _messages(socket, 2.5) == []


def test_a_phone_registers_once(stack, people):
    body = {"platform": "fcm", "token": "e2e-registration-token-1"}
    first = call(f"{stack.api}/me/push-subscriptions", "POST", people["ana"], body)
    again = call(f"{stack.api}/me/push-subscriptions", "POST", people["ana"], body)
    assert first[0] == again[0] == 201 and first[1] == again[1]
    status, listed = call(f"{stack.api}/me/push-subscriptions", token=people["ana"])
    assert status == 200 and listed["items"] == [first[1]]
