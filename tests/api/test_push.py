"""Mobile push through the routes and the stream, with SNS played by moto: what was published
is read from moto's platform endpoints."""

from __future__ import annotations

import json

import pytest

from chalicelib import config, db
from chalicelib.entities import PushWindow
from tests.factories import confirmed_user
from tests.support import StreamPump, call, claims_of


def published(endpoint_arn: str | None = None) -> list[dict]:
    """What SNS delivered to platform endpoints (one endpoint, or all), oldest first."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    endpoints = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].platform_endpoints
    return [
        json.loads(message)
        for arn, endpoint in endpoints.items()
        if endpoint_arn in (None, arn)
        for message in endpoint.messages.values()
    ]


def endpoints() -> dict:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].platform_endpoints


@pytest.fixture
def world(client, cognito, platforms):
    ana = confirmed_user(client)["idToken"]
    bob = confirmed_user(client, "bob@example.com", "bob")["idToken"]
    pump = StreamPump("echomate-test")
    post = call(client, "POST", "/posts", ana, {"caption": "sun"}).json_body["postId"]
    pump.pump()
    return {"ana": ana, "bob": bob, "pump": pump, "post": post}


def _register(client, token, platform="apns", device_token="a1b2c3d4e5f60718"):
    return call(
        client,
        "POST",
        "/me/push-subscriptions",
        token,
        {"platform": platform, "token": device_token},
    )


def test_registering_twice_is_one_device_and_one_endpoint(client, world):
    first = _register(client, world["ana"])
    again = _register(client, world["ana"])
    assert first.status_code == again.status_code == 201
    assert first.json_body == again.json_body
    assert set(first.json_body) == {"deviceId", "platform", "createdAt"}
    assert len(endpoints()) == 1
    listed = call(client, "GET", "/me/push-subscriptions", world["ana"]).json_body["items"]
    assert listed == [first.json_body]


def test_bad_registrations_are_400s_and_change_nothing(client, world):
    for body in (
        {"platform": "blackberry", "token": "a1b2c3d4e5f60718"},
        {"platform": "apns"},
        {"platform": "apns", "token": "short"},
        {"platform": "apns", "token": "has space in it"},
        {"platform": "apns", "token": 12345678901},
    ):
        answer = call(client, "POST", "/me/push-subscriptions", world["ana"], body)
        assert answer.status_code == 400, body
    assert endpoints() == {}


def test_a_platform_the_stage_lacks_is_a_400(client, world, monkeypatch):
    monkeypatch.delenv("PUSH_FCM_APPLICATION_ARN")
    config.get_settings.cache_clear()
    answer = _register(client, world["ana"], "fcm")
    assert answer.status_code == 400
    assert answer.json_body["Details"][0]["reason"] == "not_configured"


def test_a_like_burst_sends_one_grouped_push_per_window(client, cognito, world):
    _register(client, world["ana"])
    likers = [
        confirmed_user(client, f"fan{n}@example.com", f"fan{n}")["idToken"] for n in range(30)
    ]
    for token in likers:
        assert call(client, "PUT", f"/posts/{world['post']}/like", token).status_code == 200
    world["pump"].pump()
    [pushed] = published()
    assert pushed["default"] == "fan0 liked your photo"
    assert json.loads(pushed["APNS"])["aps"]["alert"] == pushed["default"]
    assert json.loads(pushed["GCM"])["data"]["postId"] == world["post"]
    # the window closes; the next like names the ones held back
    user = claims_of(world["ana"])["sub"]
    db.get_store().update(
        PushWindow.key_of(user, "like", world["post"]), "SET endsAt = :past", values={":past": 0}
    )
    call(client, "PUT", f"/posts/{world['post']}/like", world["bob"])
    world["pump"].pump()
    assert [p["default"] for p in published()] == [
        "fan0 liked your photo",
        "bob and 29 others liked your photo",
    ]


def test_preferences_turn_kinds_of_push_off(client, world):
    _register(client, world["ana"])
    patched = call(client, "PATCH", "/me", world["ana"], {"settings": {"push": {"like": False}}})
    assert patched.status_code == 200
    call(client, "PUT", f"/posts/{world['post']}/like", world["bob"])
    call(client, "POST", f"/posts/{world['post']}/comments", world["bob"], {"text": "nice"})
    world["pump"].pump()
    assert [p["default"] for p in published()] == ["bob commented on your photo"]


@pytest.mark.parametrize(
    "push", [{"likes": False}, {"like": "no"}, {"like": None, "comment": 1}, ["like"]]
)
def test_bad_preferences_are_400s(client, world, push):
    answer = call(client, "PATCH", "/me", world["ana"], {"settings": {"push": push}})
    assert answer.status_code == 400, push


def test_blocked_and_muted_users_trigger_no_push(client, cognito, world):
    carl = confirmed_user(client, "carl@example.com", "carl")["idToken"]
    _register(client, world["ana"])
    call(client, "PUT", "/users/bob/block", world["ana"])
    call(client, "PUT", "/users/carl/mute", world["ana"], {})
    world["pump"].pump()
    call(client, "PUT", f"/posts/{world['post']}/like", world["bob"])
    call(client, "PUT", f"/posts/{world['post']}/like", carl)
    call(client, "PUT", "/users/ana/follow", carl)
    world["pump"].pump()
    assert published() == []


def test_a_disabled_endpoint_is_removed_with_its_device(client, world):
    import boto3

    device = _register(client, world["ana"]).json_body
    [arn] = endpoints()
    boto3.client("sns").set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    call(client, "PUT", f"/posts/{world['post']}/like", world["bob"])
    world["pump"].pump()
    assert call(client, "GET", "/me/push-subscriptions", world["ana"]).json_body["items"] == []
    assert endpoints() == {}
    assert device["deviceId"]


def test_removing_a_device_is_the_owners_only(client, world):
    device = _register(client, world["ana"]).json_body["deviceId"]
    path = f"/me/push-subscriptions/{device}"
    assert call(client, "DELETE", path, world["bob"]).status_code == 404
    assert len(endpoints()) == 1
    gone = call(client, "DELETE", path, world["ana"])
    assert gone.status_code == 204 and gone.body in (b"", None, "")
    assert endpoints() == {}
    assert call(client, "DELETE", path, world["ana"]).status_code == 404
    assert call(client, "DELETE", "/me/push-subscriptions/nothex", world["ana"]).status_code == 404


def test_a_phone_that_changes_hands_leaves_its_old_account(client, world):
    _register(client, world["ana"], device_token="shared-phone-token")
    _register(client, world["bob"], device_token="shared-phone-token")
    assert call(client, "GET", "/me/push-subscriptions", world["ana"]).json_body["items"] == []
    assert len(call(client, "GET", "/me/push-subscriptions", world["bob"]).json_body["items"]) == 1
    call(client, "PUT", f"/posts/{world['post']}/like", world["bob"])
    world["pump"].pump()
    assert published() == []  # ana's like notification does not reach bob's phone
