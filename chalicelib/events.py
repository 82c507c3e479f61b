"""The table's stream router: each record goes to the feature that reacts to it (feed fan-out
and backfill, notifications, big-account flags, jobs). Every consumer is idempotent (Lambda and
the local event pump may deliver a record twice) and cheap to skip. Records are routed by the
type of the entity they carry (``entities.decode``), never by key text."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chalicelib import activity, db, feed, jobs, media, metrics, push, realtime
from chalicelib.entities import (
    Comment,
    Entity,
    Follow,
    FollowRequest,
    Job,
    Like,
    Media,
    Notification,
    Post,
    Profile,
    decode,
)

log = logging.getLogger(__name__)


def dispatch(records: Iterable[Any], seconds: float) -> None:
    """Route each stream record to its consumer, by the type of entity it is about."""
    for record in records:
        new, old = _entity(record.new_image), _entity(record.old_image)
        change = record.event_name
        if isinstance(new, Job):
            if change != "REMOVE" and new.status == "pending":
                jobs.run_job(new.job_id, jobs.Budget(seconds))
        elif change == "INSERT" and isinstance(new, Post):
            metrics.emit(Posts=1, FanoutWrites=feed.fan_out(new, _telling_followers(new)))
            activity.on_mentions(new.post_id, new.author_id, new.mentions, [], new.created_at)
        elif change == "MODIFY" and isinstance(new, Post) and isinstance(old, Post):
            if new.mentions != old.mentions:
                activity.on_mentions(
                    new.post_id, new.author_id, new.mentions, old.mentions, new.edited_at or ""
                )
        elif change == "INSERT" and isinstance(new, Like):
            activity.on_like(new)
            metrics.emit(Likes=1)
        elif change == "INSERT" and isinstance(new, Comment):
            activity.on_comment(new)
            activity.on_reply(new)
            activity.on_mentions(
                new.post_id,
                new.author_id,
                new.mentions,
                [],
                new.created_at,
                comment_id=new.comment_id,
                told={new.post_author_id, new.replied_user_id or ""},
            )
            _best_effort(realtime.on_comment, new)
            metrics.emit(Comments=1)
        elif change == "INSERT" and isinstance(new, Notification):
            _best_effort(realtime.on_notification, new)
            _best_effort(push.on_notification, new)
        elif change == "INSERT" and isinstance(new, Follow):
            feed.backfill(new.follower_id, new.followee_id)
            activity.on_follow(new)
            activity.on_follow_accepted(new)
        elif change == "INSERT" and isinstance(new, FollowRequest):
            activity.on_follow_request(new)
        elif change == "REMOVE" and isinstance(old, FollowRequest):
            activity.on_request_answered(old)
        elif change == "REMOVE" and isinstance(old, Follow):
            feed.unfill(old.follower_id, old.followee_id)
        elif change == "MODIFY" and isinstance(new, Media) and isinstance(old, Media):
            if new.focus != old.focus:
                media.refocus(new)
        elif change == "INSERT" and isinstance(new, Profile):
            metrics.emit(SignUps=1)
        elif change == "MODIFY" and isinstance(new, Profile):
            feed.flag_big_account(new)


def _telling_followers(post: Post) -> Callable[[list[str]], None]:
    """What fan-out calls with each page of followers: those online learn of the post."""

    def tell(followers: list[str]) -> None:
        _best_effort(realtime.on_fanned_out, followers, post.post_id, post.author_id)

    return tell


def _best_effort(push_something: Callable[..., object], *args: Any) -> None:
    """Real time and push never fail the batch: a redelivered batch would repeat what the
    other consumers did not need to, for a message that may reach nobody anyway."""
    try:
        push_something(*args)
    except Exception:
        log.warning("%s failed", push_something.__qualname__, exc_info=True)


def _entity(image: Mapping[str, Any] | None) -> Entity | None:
    """The entity in a stream image (None for none, or for an item of no known kind)."""
    if not image:
        return None
    try:
        return decode(db.from_wire(image))
    except ValueError as exc:  # not an item any consumer reads (or one it could not)
        log.debug("stream record skipped: %s", exc)
        return None
