"""Real time: the WebSocket channel, its connections, and what is pushed down it.

A client opens the WebSocket API with its ID token in the query string (``?token=``): API
Gateway's WebSocket APIs take no Cognito authorizer, so ``connect`` verifies the token with the
verifier the local stage uses for every route (``identity.verify_id_token``), and refuses a bad
one, an ended session or a deleted or disabled account. A connection is an item (``Connection``,
expiring by TTL after API Gateway's two-hour limit) and an id in its user's ``Presence`` set, so
a push to a user reads one item, and a page of 100 followers one BatchGetItem.

What a client sends (``{"action": ...}``):

- ``ping``: answered ``{"type": "pong"}`` (and it keeps an idle connection open: API Gateway
  closes one after 10 minutes of silence);
- ``subscribe`` / ``unsubscribe`` with ``postId``: the post's new comments are pushed while the
  client has it open (``{"type": "subscribed", "postId"}``; a post the caller cannot see is a
  ``not_found`` error; at most ``MAX_WATCHING`` posts a connection).

What is pushed (``{"type": ...}``): ``activity`` with ``item`` (an ``/activity`` item) when a
notification is written for the user, so blocked and muted users push nothing, as they notify
nothing; ``feed`` with ``postId`` and ``authorId`` to followers online when a post is fanned out
(a big account, whose posts are not fanned out, pushes nothing); ``comment`` with ``comment``
to the connections watching its post; ``error`` with ``code`` and ``message``.

A connection API Gateway no longer knows (410 Gone) is removed from the user's set the first
time a push meets it. Sends to one user's connections go out in parallel threads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from chalicelib import (
    access,
    activity,
    aws,
    clock,
    db,
    interactions,
    ratelimit,
    relations,
    sessions,
    users,
)
from chalicelib.config import get_settings
from chalicelib.entities import Comment, Connection, Mute, Notification, Presence, Watchers
from chalicelib.errors import EchomateError, Invalid, NotFound, Unauthorized
from chalicelib.identity import Identity, verify_id_token

log = logging.getLogger(__name__)

#: API Gateway closes a connection after two hours; its items outlive it by a margin
CONNECTION_SECONDS = 2 * 3600 + 300
#: posts one connection may watch at a time
MAX_WATCHING = 10
#: sends in flight to one user's connections
SEND_THREADS = 16
#: bytes of a message a client may send (API Gateway's frame limit is 32 KB)
MAX_MESSAGE_BYTES = 4096


# Connecting ------------------------------------------------------------------------------------
def connect(connection_id: str, token: str | None, *, now: float | None = None) -> Identity:
    """Record a new connection of the token's user; Unauthorized for a missing or bad token,
    an ended session, a deleted or disabled account (RateLimited past the API's limit)."""
    if not token:
        raise Unauthorized("missing token: connect with ?token=<ID token>")
    caller = Identity.from_claims(verify_id_token(token))
    sessions.check(caller.user_id, caller.issued_at, caller.session_id)
    ratelimit.hit("api_account", caller.user_id)
    now = time.time() if now is None else now
    ttl = int(now) + CONNECTION_SECONDS
    store = db.get_store()
    store.put(
        Connection(
            connection_id=connection_id,
            user_id=caller.user_id,
            connected_at=clock.iso_timestamp(now),
            ttl=ttl,
        )
    )
    store.update(
        Presence.key_of(caller.user_id),
        "SET userId = :u, entity = :kind, #ttl = :ttl ADD connections :c",
        values={":u": caller.user_id, ":kind": Presence.KIND, ":ttl": ttl, ":c": {connection_id}},
        names={"#ttl": "ttl"},
    )
    return caller


def disconnect(connection_id: str) -> None:
    """Forget a connection: its item, its id in its user's set and in what it watched."""
    store = db.get_store()
    connection = store.get(Connection.key_of(connection_id), Connection)
    if connection is None:
        return
    _forget(connection.user_id, [connection_id])
    for post_id in connection.watching:
        _unwatch(post_id, connection.user_id, connection_id)


def _forget(user_id: str, connection_ids: list[str]) -> None:
    store = db.get_store()
    _remove_from_set(Presence.key_of(user_id), set(connection_ids))
    store.batch_write(deletes=[Connection.key_of(c) for c in connection_ids])


def _remove_from_set(key: tuple[str, str], members: set[str]) -> None:
    """``DELETE`` members from an item's ``connections`` set, if the item is there (an
    update would otherwise create it)."""
    with contextlib.suppress(NotFound):
        db.get_store().update(
            key,
            "DELETE connections :c",
            condition="attribute_exists(PK)",
            values={":c": members},
            on_fail=NotFound("gone"),
        )


def forget_user(user_id: str) -> None:
    """Close and forget every connection of a user (account deletion)."""
    store = db.get_store()
    presence = store.get(Presence.key_of(user_id), Presence)
    if presence is None:
        return
    client = management_client()
    for connection_id in sorted(presence.connections):
        connection = store.get(Connection.key_of(connection_id), Connection)
        for post_id in connection.watching if connection else []:
            _remove_from_set(Watchers.key_of(post_id), {_watcher(user_id, connection_id)})
        try:
            client.delete_connection(ConnectionId=connection_id)
        except Exception:  # gone already, or the API unreachable: the items go anyway
            log.info("closing connection %s failed", connection_id, exc_info=True)
    store.batch_write(deletes=[Connection.key_of(c) for c in presence.connections] + [presence.key])


# Messages from a client ------------------------------------------------------------------------
def receive(connection_id: str, body: str) -> dict[str, Any]:
    """Handle one message; returns the answer to send back to the connection."""
    try:
        return _receive(connection_id, body)
    except EchomateError as exc:
        return {"type": "error", "code": exc.CODE, "message": exc.message}
    except Exception:
        log.exception("WebSocket message on %s failed", connection_id)
        return {"type": "error", "code": "InternalServerError", "message": "internal error"}


def _receive(connection_id: str, body: str) -> dict[str, Any]:
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        raise Invalid(f"a message may take at most {MAX_MESSAGE_BYTES} bytes")
    try:
        message = json.loads(body)
    except ValueError:
        raise Invalid('not JSON: send {"action": "ping"}') from None
    if not isinstance(message, dict) or not isinstance(message.get("action"), str):
        raise Invalid('"action" is required: ping, subscribe or unsubscribe')
    action = message["action"]
    if action == "ping":
        return {"type": "pong"}
    if action not in ("subscribe", "unsubscribe"):
        raise Invalid(f"unknown action {action!r}: ping, subscribe or unsubscribe")
    post_id = message.get("postId")
    if not isinstance(post_id, str) or not post_id or "#" in post_id or len(post_id) > 64:
        raise Invalid(f'"postId" is required to {action}')
    connection = db.get_store().get(Connection.key_of(connection_id), Connection)
    if connection is None:
        raise Unauthorized("this connection is closed: connect again")
    if action == "unsubscribe":
        _unwatch(post_id, connection.user_id, connection_id)
        return {"type": "unsubscribed", "postId": post_id}
    watch(connection, post_id)
    return {"type": "subscribed", "postId": post_id}


def watch(connection: Connection, post_id: str) -> None:
    """Push the post's new comments to this connection (NotFound: the user cannot see it)."""
    with relations.viewing(connection.user_id):
        access.seen_post(connection.user_id, post_id)
    if post_id in connection.watching:
        return
    if len(connection.watching) >= MAX_WATCHING:
        raise Invalid(f"a connection may watch at most {MAX_WATCHING} posts: unsubscribe first")
    store = db.get_store()
    store.update(
        Connection.key_of(connection.connection_id),
        "SET watching = list_append(if_not_exists(watching, :none), :p)",
        condition="attribute_exists(PK)",
        values={":none": [], ":p": [post_id]},
        on_fail=Unauthorized("this connection is closed: connect again"),
    )
    store.update(
        Watchers.key_of(post_id),
        "SET postId = :p, entity = :kind, #ttl = :ttl ADD connections :c",
        values={
            ":p": post_id,
            ":kind": Watchers.KIND,
            ":ttl": connection.ttl,
            ":c": {_watcher(connection.user_id, connection.connection_id)},
        },
        names={"#ttl": "ttl"},
    )


def _unwatch(post_id: str, user_id: str, connection_id: str) -> None:
    store = db.get_store()
    _remove_from_set(Watchers.key_of(post_id), {_watcher(user_id, connection_id)})
    connection = store.get(Connection.key_of(connection_id), Connection)
    if connection is not None and post_id in connection.watching:
        left = [p for p in connection.watching if p != post_id]
        store.update(Connection.key_of(connection_id), "SET watching = :w", values={":w": left})


def _watcher(user_id: str, connection_id: str) -> str:
    return f"{user_id}:{connection_id}"


# Pushing ---------------------------------------------------------------------------------------
def on_notification(notification: Notification) -> int:
    """A new notification goes to its owner's open connections as ``activity``; returns how
    many connections received it."""
    owner = notification.owner_id
    if not owner:
        return 0
    presence = db.get_store().get(Presence.key_of(owner), Presence)
    if presence is None or not presence.connections:
        return 0
    items = activity.with_actors([notification], read_up_to="")  # a new one is unread
    if not items:  # the actor is gone or disabled since
        return 0
    message = {"type": "activity", "item": items[0].model_dump(mode="json", by_alias=True)}
    return _send(owner, presence.connections, message)


def on_fanned_out(follower_ids: list[str], post_id: str, author_id: str) -> int:
    """A page of followers got the post in their timelines: those online learn of it, unless
    they mute the author (whose posts their feed leaves out). One BatchGetItem of the page's
    presence; when some are online, one more of their mutes. Returns how many connections
    received it."""
    store = db.get_store()
    present = [
        p
        for p in store.batch_get([Presence.key_of(f) for f in follower_ids], Presence).values()
        if p.connections
    ]
    if not present:
        return 0
    mutes = store.batch_get([Mute.key_of(p.user_id, author_id) for p in present], Mute)
    now = time.time()
    muting = {m.muter_id for m in mutes.values() if m.active(now)}
    message = {"type": "feed", "postId": post_id, "authorId": author_id}
    return sum(_send(p.user_id, p.connections, message) for p in present if p.user_id not in muting)


def on_comment(comment: Comment) -> int:
    """A new comment goes to the connections watching its post, except those of users who
    block its author or are blocked by them."""
    watchers = db.get_store().get(Watchers.key_of(comment.post_id), Watchers)
    if watchers is None or not watchers.connections:
        return 0
    by_user: dict[str, set[str]] = {}
    for entry in watchers.connections:
        user_id, _, connection_id = entry.partition(":")
        by_user.setdefault(user_id, set()).add(connection_id)
    author = users.summary_map([comment.author_id]).get(comment.author_id)
    if author is None:
        return 0
    view = interactions.comment_view(comment, author).model_dump(mode="json", by_alias=True)
    message = {"type": "comment", "postId": comment.post_id, "comment": view}
    sent = 0
    for user_id, connection_ids in by_user.items():
        if user_id != comment.author_id:
            standing = relations.read_between(user_id, comment.author_id)
            if comment.author_id in standing.hidden:
                continue
        sent += _send(user_id, connection_ids, message, watching=comment.post_id)
    return sent


def reply(connection_id: str, message: dict[str, Any]) -> bool:
    """``message`` to one connection (the answer to what it sent); False if it is gone."""
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    return bool(_post(connection_id, data))


def send_to_user(user_id: str, message: dict[str, Any]) -> int:
    """``message`` to every open connection of ``user_id``; how many received it."""
    presence = db.get_store().get(Presence.key_of(user_id), Presence)
    if presence is None:
        return 0
    return _send(user_id, presence.connections, message)


def _send(
    user_id: str,
    connection_ids: Iterable[str],
    message: dict[str, Any],
    *,
    watching: str | None = None,
) -> int:
    """Send to each connection in parallel; connections gone (410) are forgotten, with their
    watch of ``watching``. Returns how many were sent."""
    ids = sorted(connection_ids)
    if not ids:
        return 0
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    if len(ids) == 1:
        results = [_post(ids[0], data)]
    else:
        with ThreadPoolExecutor(min(SEND_THREADS, len(ids))) as pool:
            results = list(pool.map(lambda c: _post(c, data), ids))
    gone = [c for c, ok in zip(ids, results, strict=True) if ok is None]
    if gone:
        _forget(user_id, gone)
        if watching is not None:
            for connection_id in gone:
                _unwatch(watching, user_id, connection_id)
    return sum(1 for ok in results if ok)


def _post(connection_id: str, data: bytes) -> bool | None:
    """True when sent, None when the connection is gone, False on any other failure (logged:
    a push is best effort and never fails the stream batch)."""
    client = management_client()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
    except client.exceptions.GoneException:
        return None
    except Exception:
        log.warning("push to connection %s failed", connection_id, exc_info=True)
        return False
    return True


def management_client() -> Any:
    """API Gateway's management API client for the stage's WebSocket API (``post_to_connection``).

    Chalice's ``app.websocket_api.send`` makes the same call, but it learns its endpoint only
    from a WebSocket event and always as ``https://``; pushes also start from the stream
    handler, and the embedded stack's stand-in speaks plain HTTP on 127.0.0.1.
    """
    settings = get_settings()
    endpoint = settings.websocket_endpoint or _deployed_endpoint()
    return aws.client_at("apigatewaymanagementapi", endpoint)


@cache
def _deployed_endpoint() -> str:
    """``https://<api id>.execute-api.<region>.amazonaws.com/<stage>`` of the WebSocket API
    chalice deployed for this stage (named ``echomate-<stage>-websocket-api``)."""
    settings = get_settings()
    name = f"echomate-{settings.stage}-websocket-api"
    apis = aws.client("apigatewayv2").get_apis().get("Items", [])
    for api in apis:
        if api.get("Name") == name:
            host = f"{api['ApiId']}.execute-api.{settings.region}.amazonaws.com"
            return f"https://{host}/api"
    raise RuntimeError(f"no WebSocket API named {name}: deploy the stage first")
