"""The WebSocket channel through the app's own handlers (as API Gateway invokes them), with API
Gateway's management API played by a recorder: connect with a token, activity and feed pushed
from the stream, comments of a watched post, gone connections removed, blocks respected."""

from __future__ import annotations

import json
import time

import pytest

import app as application
from chalicelib import db, realtime
from chalicelib.entities import Connection, Presence, Watchers
from tests import support
from tests.factories import confirmed_user, ready_media
from tests.support import StreamPump, call, claims_of


class Gone(Exception):
    """API Gateway's 410: the connection is no longer there."""


class Gateway:
    """API Gateway's management API, recorded: what each connection was sent; ``gone`` ids
    answer 410 as API Gateway does for a closed connection."""

    class exceptions:
        GoneException = Gone

    def __init__(self) -> None:
        self.sent: dict[str, list[dict]] = {}
        self.gone: set[str] = set()
        self.calls = 0
        self.closed: list[str] = []

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> None:
        self.calls += 1
        if ConnectionId in self.gone:
            raise Gone(ConnectionId)
        self.sent.setdefault(ConnectionId, []).append(json.loads(Data))

    def delete_connection(self, ConnectionId: str) -> None:
        self.closed.append(ConnectionId)

    def of(self, connection_id: str, kind: str | None = None) -> list[dict]:
        return [m for m in self.sent.get(connection_id, []) if kind in (None, m["type"])]


@pytest.fixture
def gateway(monkeypatch):
    recorder = Gateway()
    monkeypatch.setattr(realtime, "management_client", lambda: recorder)
    return recorder


def _event(route: str, connection_id: str, **extra) -> dict:
    return {
        "requestContext": {
            "routeKey": route,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
            "connectionId": connection_id,
            "domainName": "ws.example.test",
            "apiId": "abc123",
            "stage": "api",
        },
        "isBase64Encoded": False,
        **extra,
    }


def connect(connection_id: str, token: str | None) -> dict:
    query = {"token": token} if token is not None else None
    return application.ws_connect(
        _event("$connect", connection_id, queryStringParameters=query), None
    )


def send(connection_id: str, message: object) -> None:
    body = message if isinstance(message, str) else json.dumps(message)
    application.ws_message(_event("$default", connection_id, body=body), None)


def disconnect(connection_id: str) -> None:
    application.ws_disconnect(_event("$disconnect", connection_id), None)


@pytest.fixture
def world(client, cognito, gateway):
    ana = confirmed_user(client)["idToken"]
    bob = confirmed_user(client, "bob@example.com", "bob")["idToken"]
    pump = StreamPump("echomate-test")
    photo = ready_media(claims_of(ana)["sub"])
    post = call(client, "POST", "/posts", ana, {"caption": "sun", "mediaIds": [photo]})
    pump.pump()
    return {"ana": ana, "bob": bob, "pump": pump, "post": post.json_body["postId"]}


def test_a_connection_needs_a_valid_token(world):
    ana = world["ana"]
    assert connect("c-ok", ana) == {"statusCode": 200}
    for token, case in [
        (None, "no token"),
        ("", "empty"),
        ("not-a-jwt", "garbage"),
        (support.tampered(ana, sub="someone-else"), "forged"),
        (support.signed_token(claims_of(ana), key=_other_key()), "another key"),
    ]:
        refused = connect(f"c-{case}", token)
        assert refused["statusCode"] == 401, case
        assert json.loads(refused["body"])["Code"] == "UnauthorizedError"
    presence = db.get_store().get(Presence.key_of(claims_of(ana)["sub"]), Presence)
    assert presence is not None and presence.connections == {"c-ok"}


def test_a_client_that_can_set_headers_may_send_the_token_in_authorization(world):
    handler = application.ws_connect
    for value in (world["ana"], f"Bearer {world['ana']}"):
        event = _event("$connect", "c-header", headers={"Authorization": value})
        assert handler(event, None) == {"statusCode": 200}
    forged = support.tampered(world["ana"], sub="x")
    event = _event("$connect", "c-forged", headers={"authorization": f"Bearer {forged}"})
    assert handler(event, None)["statusCode"] == 401


def test_a_disabled_accounts_token_cannot_connect(client, world):
    from chalicelib import accounts, users

    profile = users.get_profile(claims_of(world["bob"])["sub"])
    users.mark_disabled(profile, claims_of(world["ana"])["sub"])
    accounts.forget_all()
    assert connect("c-bob", world["bob"])["statusCode"] == 401


def test_a_like_reaches_the_authors_open_connections(client, world, gateway):
    connect("c-1", world["ana"])
    connect("c-2", world["ana"])
    assert call(client, "PUT", f"/posts/{world['post']}/like", world["bob"]).status_code == 200
    world["pump"].pump()
    for connection in ("c-1", "c-2"):
        [pushed] = gateway.of(connection, "activity")
        item = pushed["item"]
        assert (item["type"], item["actor"]["username"], item["postId"]) == (
            "like",
            "bob",
            world["post"],
        )
        assert item["read"] is False


def test_after_a_block_the_blocked_users_actions_push_nothing(client, world, gateway):
    connect("c-ana", world["ana"])
    call(client, "PUT", "/users/bob/block", world["ana"])
    world["pump"].pump()
    sent_before = {c: list(m) for c, m in gateway.sent.items()}
    call(client, "PUT", f"/posts/{world['post']}/like", world["bob"])
    call(client, "POST", f"/posts/{world['post']}/comments", world["bob"], {"text": "hey @ana"})
    call(client, "PUT", "/users/ana/follow", world["bob"])
    world["pump"].pump()
    assert gateway.sent == sent_before


def test_a_muted_user_pushes_nothing(client, world, gateway):
    connect("c-ana", world["ana"])
    assert call(client, "PUT", "/users/bob/mute", world["ana"], {}).status_code == 200
    call(client, "PUT", f"/posts/{world['post']}/like", world["bob"])
    world["pump"].pump()
    assert gateway.of("c-ana", "activity") == []


def test_a_new_post_tells_online_followers(client, world, gateway):
    call(client, "PUT", "/users/ana/follow", world["bob"])
    world["pump"].pump()
    connect("c-bob", world["bob"])
    made = call(client, "POST", "/posts", world["ana"], {"caption": "again"}).json_body
    world["pump"].pump()
    assert gateway.of("c-bob", "feed") == [
        {"type": "feed", "postId": made["postId"], "authorId": claims_of(world["ana"])["sub"]}
    ]


def test_a_follower_who_mutes_the_author_gets_no_feed_update(client, world, gateway):
    call(client, "PUT", "/users/ana/follow", world["bob"])
    assert call(client, "PUT", "/users/ana/mute", world["bob"], {}).status_code == 200
    world["pump"].pump()
    connect("c-bob", world["bob"])
    call(client, "POST", "/posts", world["ana"], {"caption": "muted"})
    world["pump"].pump()
    assert gateway.of("c-bob", "feed") == []


def test_a_big_account_pushes_no_feed_update(client, world, gateway, monkeypatch):
    monkeypatch.setenv("FANOUT_MAX_FOLLOWERS", "1")
    from chalicelib import config

    config.get_settings.cache_clear()
    call(client, "PUT", "/users/ana/follow", world["bob"])
    world["pump"].pump()
    connect("c-bob", world["bob"])
    call(client, "POST", "/posts", world["ana"], {"caption": "to many"})
    world["pump"].pump()
    assert gateway.of("c-bob", "feed") == []


def test_gone_connections_are_removed_at_the_first_push(client, world, gateway):
    connect("c-live", world["ana"])
    connect("c-dead", world["ana"])
    gateway.gone.add("c-dead")
    call(client, "PUT", f"/posts/{world['post']}/like", world["bob"])
    world["pump"].pump()
    user = claims_of(world["ana"])["sub"]
    assert db.get_store().get(Presence.key_of(user), Presence).connections == {"c-live"}
    assert db.get_store().get(Connection.key_of("c-dead"), Connection) is None
    assert len(gateway.of("c-live", "activity")) == 1


def test_a_closed_connection_is_cleaned_up(world, gateway):
    connect("c-1", world["ana"])
    send("c-1", {"action": "subscribe", "postId": world["post"]})
    disconnect("c-1")
    store = db.get_store()
    assert store.get(Connection.key_of("c-1"), Connection) is None
    user = claims_of(world["ana"])["sub"]
    presence = store.get(Presence.key_of(user), Presence)
    assert presence is None or presence.connections == set()
    watchers = store.get(Watchers.key_of(world["post"]), Watchers)
    assert watchers is None or watchers.connections == set()
    disconnect("c-1")  # API Gateway may deliver it twice: nothing left to do


def test_ping_and_bad_messages_are_answered(world, gateway):
    connect("c-1", world["ana"])
    send("c-1", {"action": "ping"})
    send("c-1", "not json")
    send("c-1", {"action": "dance"})
    send("c-1", {"action": "subscribe"})
    send("c-1", "x" * 5000)
    answers = gateway.of("c-1")
    assert answers[0] == {"type": "pong"}
    assert [a["type"] for a in answers[1:]] == ["error"] * 4
    assert {a["code"] for a in answers[1:]} == {"BadRequestError"}


def test_a_watched_post_pushes_its_new_comments(client, world, gateway):
    carl = confirmed_user(client, "carl@example.com", "carl")["idToken"]
    connect("c-bob", world["bob"])
    send("c-bob", {"action": "subscribe", "postId": world["post"]})
    assert gateway.of("c-bob", "subscribed") == [{"type": "subscribed", "postId": world["post"]}]
    call(client, "POST", f"/posts/{world['post']}/comments", carl, {"text": "lovely"})
    world["pump"].pump()
    [pushed] = gateway.of("c-bob", "comment")
    assert pushed["postId"] == world["post"]
    assert (pushed["comment"]["text"], pushed["comment"]["author"]["username"]) == (
        "lovely",
        "carl",
    )
    send("c-bob", {"action": "unsubscribe", "postId": world["post"]})
    call(client, "POST", f"/posts/{world['post']}/comments", carl, {"text": "again"})
    world["pump"].pump()
    assert len(gateway.of("c-bob", "comment")) == 1


def test_a_post_the_user_cannot_see_cannot_be_watched(client, world, gateway):
    call(client, "PUT", "/users/bob/block", world["ana"])
    connect("c-bob", world["bob"])
    send("c-bob", {"action": "subscribe", "postId": world["post"]})
    send("c-bob", {"action": "subscribe", "postId": "01JUNKJUNKJUNKJUNKJUNKJUNK"})
    assert [m["code"] for m in gateway.of("c-bob", "error")] == ["NotFoundError"] * 2
    watchers = db.get_store().get(Watchers.key_of(world["post"]), Watchers)
    assert watchers is None or not watchers.connections


def test_a_watcher_blocked_by_the_commenter_gets_nothing(client, world, gateway):
    carl = confirmed_user(client, "carl@example.com", "carl")["idToken"]
    connect("c-bob", world["bob"])
    send("c-bob", {"action": "subscribe", "postId": world["post"]})
    call(client, "PUT", "/users/bob/block", carl)
    call(client, "POST", f"/posts/{world['post']}/comments", carl, {"text": "hidden"})
    world["pump"].pump()
    assert gateway.of("c-bob", "comment") == []


def test_a_thousand_connections_of_one_user_cost_one_read(world, gateway, dynamodb_calls):
    """1,000 open connections of one user: one GetItem finds them all (a string set in one
    item), one BatchGetItem reads the actor, then one send each, in parallel."""
    user = claims_of(world["ana"])["sub"]
    ids = {f"conn-{n:04d}" for n in range(1000)}
    db.get_store().update(
        Presence.key_of(user),
        "SET userId = :u ADD connections :c",
        values={":u": user, ":c": ids},
    )
    from chalicelib.entities import Notification

    note = Notification(
        owner_id=user,
        activity_id="like-1",
        type="like",
        actor_id=claims_of(world["bob"])["sub"],
        created_at="2026-12-03T10:00:00.000Z",
        post_id=world["post"],
    )
    dynamodb_calls.clear()
    gateway.calls = 0
    started = time.perf_counter()
    assert realtime.on_notification(note) == 1000
    elapsed = time.perf_counter() - started
    assert dynamodb_calls == ["GetItem", "BatchGetItem"]
    assert gateway.calls == 1000 and set(gateway.sent) >= ids
    print(f"1,000 connections: {len(dynamodb_calls)} DynamoDB requests, {elapsed:.2f} s")


def _other_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_a_deleted_account_leaves_no_device_connection_or_window(client, world, platforms):
    from tests.api.test_push import endpoints
    from tests.support import items_mentioning

    ana = world["ana"]
    user = claims_of(ana)["sub"]
    body = {"platform": "apns", "token": "a1b2c3d4e5f60718"}
    assert call(client, "POST", "/me/push-subscriptions", ana, body).status_code == 201
    connect("c-ana", ana)
    send("c-ana", {"action": "subscribe", "postId": world["post"]})
    call(client, "PUT", f"/posts/{world['post']}/like", world["bob"])
    world["pump"].pump()
    assert call(client, "DELETE", "/me", ana).status_code == 202
    world["pump"].pump()
    assert items_mentioning(user) == []
    assert db.get_store().get(Connection.key_of("c-ana"), Connection) is None
    assert endpoints() == {}
