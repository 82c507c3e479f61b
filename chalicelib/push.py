"""Mobile push: phones registered as SNS platform endpoints, and the notifications sent to them.

``POST /me/push-subscriptions {platform: apns|fcm, token}`` creates (or finds: SNS answers the
same endpoint for the same token) a platform endpoint under the stage's platform application,
and stores it under the user (``PushDevice``, its id a digest of platform and token, so
registering twice is one device). A token another account had registered (the phone changed
hands) leaves that account. ``GET`` lists a user's devices, ``DELETE .../{deviceId}`` removes
one and its endpoint.

Every notification written (``activity``) is pushed to its owner's devices unless their
``settings.push.<kind>`` is false (kinds: like, comment (also replies), follow (also requests
and acceptances), mention); blocked and muted users push nothing because they notify nothing.
Likes of one post are grouped: the first opens a window of ``PUSH_GROUP_SECONDS``; the others
in it are only counted, and the first like after it says "Ana and 12 others liked your photo".
An endpoint SNS reports disabled or gone (the app was uninstalled, the token expired) is
removed with its device.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from typing import Any

from chalicelib import aws, clock, db, keys, users
from chalicelib.config import get_settings
from chalicelib.entities import Notification, Profile, PushDevice, PushWindow
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.models import PushPlatform, PushSubscriptionOut

log = logging.getLogger(__name__)

#: a user's devices at most (a listing is one page)
MAX_DEVICES = 20
#: the preference (``settings.push.<name>``) that governs each kind of notification
PREFERENCE = {
    "like": "like",
    "comment": "comment",
    "reply": "comment",
    "follow": "follow",
    "follow_request": "follow",
    "follow_accepted": "follow",
    "mention": "mention",
}
_TEXT = {
    "like": "liked your photo",
    "comment": "commented on your photo",
    "reply": "replied to your comment",
    "follow": "started following you",
    "follow_request": "asked to follow you",
    "follow_accepted": "accepted your follow request",
    "mention": "mentioned you",
}
_EXISTING = re.compile(r"Endpoint (arn:[^ ]+) already exists")


def device_id(platform: str, token: str) -> str:
    """The id of a (platform, token) pair: the same phone is one device however often it
    registers."""
    return hashlib.sha256(f"{platform}:{token}".encode()).hexdigest()[:32]


def _view(device: PushDevice) -> PushSubscriptionOut:
    return PushSubscriptionOut(
        device_id=device.device_id, platform=device.platform, created_at=device.created_at
    )


# Devices ---------------------------------------------------------------------------------------
def register(user_id: str, platform: PushPlatform, token: str) -> PushSubscriptionOut:
    """The caller's device for this token, created on first registration."""
    application = _application(platform)
    store = db.get_store()
    device = device_id(platform, token)
    found = store.get(PushDevice.key_of(user_id, device), PushDevice)
    if found is not None:
        return _view(found)
    if len(_devices(user_id)) >= MAX_DEVICES:
        raise Conflict(
            f"at most {MAX_DEVICES} devices: remove one first",
            [{"field": "token", "reason": "too_many", "limit": MAX_DEVICES}],
        )
    endpoint = _endpoint_for(application, token)
    for other in store.query_page(
        keys.push_token_pk(device), index=keys.GSI2, limit=MAX_DEVICES, model=PushDevice
    ).items:
        if other.user_id != user_id:  # the phone has changed hands: the old account lets go
            store.delete(other.key)
    created = PushDevice(
        user_id=user_id,
        device_id=device,
        platform=platform,
        token=token,
        endpoint_arn=endpoint,
        created_at=clock.now(),
    )
    store.put(created)
    return _view(created)


def devices(user_id: str) -> list[PushSubscriptionOut]:
    """The caller's registered devices, oldest first."""
    return [_view(d) for d in sorted(_devices(user_id), key=lambda d: d.created_at)]


def unregister(user_id: str, device: str) -> None:
    """Remove one of the caller's devices and its endpoint (NotFound when it is not theirs)."""
    found = db.get_store().get(PushDevice.key_of(user_id, device), PushDevice)
    if found is None:
        raise NotFound("no such device", [{"field": "deviceId", "reason": "unknown"}])
    _drop(found)


def drop_all(user_id: str) -> None:
    """Remove every device of a user (account deletion)."""
    for device in _devices(user_id):
        _drop(device)


def _devices(user_id: str) -> list[PushDevice]:
    return (
        db.get_store()
        .query_page(
            keys.user_pk(user_id),
            sk_prefix=keys.PUSH_DEVICE_PREFIX,
            limit=MAX_DEVICES + 5,
            model=PushDevice,
        )
        .items
    )


def _drop(device: PushDevice) -> None:
    db.get_store().delete(device.key)
    if not _shared(device):
        aws.client("sns").delete_endpoint(EndpointArn=device.endpoint_arn)


def _shared(device: PushDevice) -> bool:
    """Whether another account registered the same token since (it owns the endpoint now)."""
    others = (
        db.get_store()
        .query_page(
            keys.push_token_pk(device.device_id), index=keys.GSI2, limit=2, model=PushDevice
        )
        .items
    )
    return any(o.user_id != device.user_id for o in others)


def _application(platform: PushPlatform) -> str:
    settings = get_settings()
    arn = settings.push_apns_arn if platform == "apns" else settings.push_fcm_arn
    if not arn:
        raise Invalid(
            f"platform: {platform} push is not configured on this stage",
            [{"field": "platform", "reason": "not_configured"}],
        )
    return arn


def _endpoint_for(application: str, token: str) -> str:
    """The platform endpoint of ``token`` (SNS's CreatePlatformEndpoint is idempotent for the
    same token and attributes, and names the existing endpoint when they differ)."""
    sns = aws.client("sns")
    try:
        answer = sns.create_platform_endpoint(PlatformApplicationArn=application, Token=token)
    except sns.exceptions.InvalidParameterException as exc:
        existing = _EXISTING.search(str(exc))
        if existing is None:
            raise Invalid(
                "token: refused by the push service", [{"field": "token", "reason": "invalid"}]
            ) from None
        return existing.group(1)
    arn: str = answer["EndpointArn"]
    return arn


# Sending ---------------------------------------------------------------------------------------
def on_notification(notification: Notification, *, now: float | None = None) -> int:
    """Push a new notification to its owner's devices (see the module docstring); returns how
    many devices it was sent to."""
    owner = notification.owner_id
    preference = PREFERENCE.get(notification.type)
    if not owner or preference is None:
        return 0
    targets = _devices(owner)
    if not targets:
        return 0
    profile = db.get_store().get(Profile.key_of(owner), Profile)
    if profile is None or not wants(profile.settings, preference):
        return 0
    actor = users.summary_map([notification.actor_id]).get(notification.actor_id)
    if actor is None:
        return 0
    others = 0
    if notification.type == "like" and notification.post_id:
        held = _group(owner, "like", notification.post_id, now=now)
        if held is None:
            return 0
        others = held
    who = actor.username
    if others:
        who = f"{who} and {others} other{'s' if others > 1 else ''}"
    text = f"{who} {_TEXT[notification.type]}"
    data = {"type": notification.type, "postId": notification.post_id, "actor": actor.username}
    return sum(_publish(device, text, data) for device in targets)


def wants(settings: dict[str, Any], preference: str) -> bool:
    """Whether ``settings.push.<preference>`` allows a push (absent: yes)."""
    chosen = settings.get("push")
    return not (isinstance(chosen, dict) and chosen.get(preference) is False)


def _group(owner: str, kind: str, target: str, *, now: float | None) -> int | None:
    """None while a window of ``kind`` pushes on ``target`` is open (this one is counted in
    it); otherwise opens a window and returns how many were held back in the last one."""
    now = time.time() if now is None else now
    seconds = get_settings().push_group_seconds
    store = db.get_store()
    key = PushWindow.key_of(owner, kind, target)
    current = store.get(key, PushWindow, consistent=True)
    if current is None or current.ends_at <= now:
        window = PushWindow(
            user_id=owner,
            kind=kind,
            target=target,
            ends_at=int(now) + seconds,
            ttl=int(now) + seconds + 3600,
        )
        try:
            store.put(
                window,
                condition="attribute_not_exists(PK) OR endsAt <= :now",
                values={":now": int(now)},
            )
            return current.held if current is not None else 0
        except Conflict:
            pass  # another like opened it first: count this one in it
    store.update(key, "ADD held :one", values={":one": 1})
    return None


def _publish(device: PushDevice, text: str, data: dict[str, Any]) -> int:
    """1 when sent; 0 when not (a disabled or gone endpoint is removed with its device)."""
    sns = aws.client("sns")
    payload = {key: value for key, value in data.items() if value is not None}
    message = {
        "default": text,
        "APNS": json.dumps({"aps": {"alert": text, "sound": "default"}, **payload}),
        "GCM": json.dumps({"notification": {"body": text}, "data": payload}),
    }
    try:
        sns.publish(
            TargetArn=device.endpoint_arn,
            Message=json.dumps(message),
            MessageStructure="json",
        )
    except (sns.exceptions.EndpointDisabledException, sns.exceptions.NotFoundException):
        log.info("push endpoint of device %s is gone: removed", device.device_id)
        db.get_store().delete(device.key)
        sns.delete_endpoint(EndpointArn=device.endpoint_arn)
        return 0
    except Exception:
        log.warning("push to device %s failed", device.device_id, exc_info=True)
        return 0
    return 1
