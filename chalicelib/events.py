"""The table's stream router: each record goes to the feature that reacts to it (feed fan-out
and backfill, notifications, big-account flags, jobs). Every consumer is idempotent (Lambda and
the local event pump may deliver a record twice) and cheap to skip (records are routed by the
kind of item, read from its key by ``keys.kind_of``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib import activity, db, feed, jobs, keys, metrics
from chalicelib.models import Post


def dispatch(records: Iterable[Any], seconds: float) -> None:
    """Route each stream record to its consumer, by the kind of item it is about."""
    for record in records:
        new, old = _plain(record.new_image), _plain(record.old_image)
        image = new or old
        kind = keys.kind_of(image.get(keys.PK, ""), image.get(keys.SK, ""))
        change = record.event_name
        if kind == "job":
            if change != "REMOVE" and new.get("status") == "pending":
                jobs.run_job(new["jobId"], jobs.Budget(seconds))
        elif change == "INSERT" and kind == "post":
            metrics.emit(Posts=1, FanoutWrites=feed.fan_out(Post.model_validate(db.from_item(new))))
        elif change == "INSERT" and kind == "like":
            activity.on_like(new)
            metrics.emit(Likes=1)
        elif change == "INSERT" and kind == "comment":
            activity.on_comment(new)
            metrics.emit(Comments=1)
        elif change == "INSERT" and kind == "follow":
            feed.backfill(new["followerId"], new["followeeId"])
            activity.on_follow(new)
        elif change == "REMOVE" and kind == "follow":
            feed.unfill(old["followerId"], old["followeeId"])
        elif change == "INSERT" and kind == "profile":
            metrics.emit(SignUps=1)
        elif change == "MODIFY" and kind == "profile":
            feed.flag_big_account(new)


def _plain(image: Mapping[str, Any] | None) -> dict[str, Any]:
    if not image:
        return {}
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    plain: dict[str, Any] = db.plain({k: deserializer.deserialize(v) for k, v in image.items()})
    return plain


# Feed ------------------------------------------------------------------------------------------
