"""The data export: the user's profile, graph, media, posts, comments and likes as one JSON
archive in S3 (fetched through a short-lived link)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib import aws, clock, db, keys, users
from chalicelib.config import get_settings
from chalicelib.entities import Comment, Entity, Follow, Job, Like, Media, Post
from chalicelib.jobs.budget import Budget

E = TypeVar("E", bound=Entity)


def export(job: Job, budget: Budget) -> dict[str, Any]:
    user_id = job.user_id
    profile = users.find_profile(user_id)
    archive: dict[str, Any] = {
        "exportedAt": clock.now(),
        "profile": profile.me().to_json() if profile else None,
        "following": _collect(keys.following_pk(user_id), keys.GSI2, budget, _edge_row, Follow),
        "followers": _collect(keys.followers_pk(user_id), keys.GSI1, budget, _edge_row, Follow),
        "media": _collect(keys.user_media_pk(user_id), keys.GSI1, budget, _media_row, Media),
        "posts": _collect(keys.user_posts_pk(user_id), keys.GSI1, budget, _post_row, Post),
        "comments": _collect(
            keys.comments_by_pk(user_id),
            keys.GSI1,
            budget,
            lambda c: c.model_dump(
                by_alias=True, include={"comment_id", "post_id", "text", "created_at"}
            ),
            Comment,
        ),
        "likes": _collect(
            keys.likes_by_pk(user_id),
            keys.GSI1,
            budget,
            lambda like: like.model_dump(by_alias=True, include={"post_id", "created_at"}),
            Like,
        ),
    }
    key = f"exports/{user_id}/{job.job_id}.json"
    budget.spend()
    aws.client("s3").put_object(
        Bucket=get_settings().media_bucket,
        Key=key,
        ContentType="application/json",
        Body=json.dumps(archive, ensure_ascii=False, indent=1).encode(),
    )
    return {"objectKey": key}


def _collect(
    partition: str,
    index: str,
    budget: Budget,
    row: Callable[[E], dict[str, Any]],
    model: type[E],
) -> list[dict[str, Any]]:
    """Every item of a partition, each turned into an archive row."""
    rows, cursor = [], None
    store = db.get_store()
    while True:
        budget.spend()
        page = store.query_page(partition, index=index, limit=100, cursor=cursor, model=model)
        rows += [row(item) for item in page.items]
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def _edge_row(edge: Follow) -> dict[str, Any]:
    return edge.model_dump(by_alias=True, include={"follower_id", "followee_id", "created_at"})


def _post_row(post: Post) -> dict[str, Any]:
    return post.model_dump(
        by_alias=True,
        include={"post_id", "caption", "hashtags", "visibility", "created_at", "edited_at"},
    ) | {"mediaIds": [m["mediaId"] for m in post.media]}


def _media_row(item: Media) -> dict[str, Any]:
    return {
        "mediaId": item.media_id,
        "status": item.status,
        "purpose": item.purpose,
        "createdAt": item.created_at,
        "objects": sorted(r["key"] for r in (item.renditions or {}).values()),
    }
