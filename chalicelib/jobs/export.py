"""The data export: a ZIP archive of everything a person leaving would want, built by a
resumable job and streamed into S3 as a multipart upload (no archive in memory).

The archive holds the profile, posts, comments, likes, follows (both ways), blocks, mutes and
media list as JSON, every photo of the user's posts and their avatar (the large rendition),
and an ``index.html`` that browses it offline. Mastodon's archive is the anchor.

How it runs: the first run takes a snapshot (the JSON documents and the list of photos) into
a manifest object beside the archive, and starts the multipart upload. Each later step writes
the next entries into a part of at least ``PART_SIZE`` bytes, uploads it and records the
progress on the job item (part number, entry reached, offset, part ETags) with the part's
central-directory records in a small object of their own. A run that ends halfway loses at
most the part it was building, which the next run writes again (same bytes, same number).
The last part carries the remaining entries and the central directory; completing the upload
makes the archive, and the manifest and record objects are deleted.
"""

from __future__ import annotations

import html
import json
import struct
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib import aws, clock, db, keys, users
from chalicelib.config import get_settings
from chalicelib.entities import (
    Block,
    Comment,
    Entity,
    Follow,
    Job,
    Like,
    Media,
    Mute,
    Post,
)
from chalicelib.jobs.budget import Budget

E = TypeVar("E", bound=Entity)

#: every part but the last is at least this big (S3 needs 5 MiB)
PART_SIZE = 8 * 1024 * 1024
_ZIP64_LIMIT = 0xFFFFFFFF


def archive_key(user_id: str, job_id: str) -> str:
    return f"exports/{user_id}/{job_id}.zip"


def _work_prefix(user_id: str, job_id: str) -> str:
    return f"exports/{user_id}/{job_id}.work/"


def export(job: Job, budget: Budget) -> dict[str, Any]:
    """Advance the export of ``job`` (``OutOfTime`` leaves it to the next run)."""
    s3 = aws.client("s3")
    bucket = get_settings().media_bucket
    store = db.get_store()
    key = archive_key(job.user_id, job.job_id)
    work = _work_prefix(job.user_id, job.job_id)
    state = dict(job.progress or {})
    if "uploadId" not in state:
        manifest = _snapshot(job.user_id, budget)
        budget.spend()
        s3.put_object(
            Bucket=bucket,
            Key=f"{work}manifest.json",
            Body=json.dumps(manifest, ensure_ascii=False).encode(),
            ContentType="application/json",
        )
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/zip")
        state = {"uploadId": upload["UploadId"], "part": 1, "entry": 0, "offset": 0, "etags": []}
        _save(store, job, state)
    budget.spend()
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"{work}manifest.json")["Body"].read())
    entries: list[dict[str, Any]] = manifest["entries"]
    while True:
        buffer = bytearray()
        records: list[dict[str, Any]] = []
        entry = state["entry"]
        while entry < len(entries) and len(buffer) < PART_SIZE:
            budget.spend()
            name, data, deflate = _entry_bytes(s3, bucket, entries[entry], manifest)
            records.append(_write_entry(buffer, name, data, deflate, state["offset"] + len(buffer)))
            entry += 1
        last = entry >= len(entries)
        if last:
            budget.spend()
            earlier = [
                r
                for n in range(1, state["part"])
                for r in json.loads(
                    s3.get_object(Bucket=bucket, Key=f"{work}records-{n}.json")["Body"].read()
                )
            ]
            _write_directory(buffer, earlier + records, state["offset"] + len(buffer))
        budget.spend()
        answer = s3.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=state["uploadId"],
            PartNumber=state["part"],
            Body=bytes(buffer),
        )
        if last:
            parts = [*state["etags"], answer["ETag"]]
            s3.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=state["uploadId"],
                MultipartUpload={
                    "Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(parts)]
                },
            )
            _forget_work(s3, bucket, work, state["part"])
            return {"objectKey": key}
        s3.put_object(
            Bucket=bucket,
            Key=f"{work}records-{state['part']}.json",
            Body=json.dumps(records).encode(),
        )
        state = {
            **state,
            "part": state["part"] + 1,
            "entry": entry,
            "offset": state["offset"] + len(buffer),
            "etags": [*state["etags"], answer["ETag"]],
        }
        _save(store, job, state)


def _save(store: db.Store, job: Job, state: dict[str, Any]) -> None:
    store.update(
        job.key,
        "SET progress = :state, updatedAt = :now",
        values={":state": state, ":now": clock.now()},
    )


def _forget_work(s3: Any, bucket: str, work: str, parts: int) -> None:
    names = ["manifest.json", *(f"records-{n}.json" for n in range(1, parts))]
    s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": work + n} for n in names], "Quiet": True}
    )


# The snapshot ----------------------------------------------------------------------------------
def _snapshot(user_id: str, budget: Budget) -> dict[str, Any]:
    """The archive's documents and its photos (object keys), as they are now."""
    profile = users.find_profile(user_id)
    me = profile.me().to_json() if profile else None
    posts = _collect(keys.user_posts_pk(user_id), keys.GSI1, budget, _post_row, Post)
    media = _collect(keys.user_media_pk(user_id), keys.GSI1, budget, _media_row, Media)
    documents: dict[str, Any] = {
        "profile.json": {"exportedAt": clock.now(), "profile": me},
        "posts.json": posts,
        "comments.json": _collect(
            keys.comments_by_pk(user_id),
            keys.GSI1,
            budget,
            lambda c: c.model_dump(
                by_alias=True, include={"comment_id", "post_id", "text", "created_at"}
            ),
            Comment,
        ),
        "likes.json": _collect(
            keys.likes_by_pk(user_id),
            keys.GSI1,
            budget,
            lambda like: like.model_dump(by_alias=True, include={"post_id", "created_at"}),
            Like,
        ),
        "following.json": _collect(
            keys.following_pk(user_id), keys.GSI2, budget, _edge_row, Follow
        ),
        "followers.json": _collect(
            keys.followers_pk(user_id), keys.GSI1, budget, _edge_row, Follow
        ),
        "blocks.json": _collect(
            keys.relation_list_pk("BLOCKS", user_id),
            keys.GSI2,
            budget,
            lambda b: b.model_dump(by_alias=True, include={"blocked_id", "created_at"}),
            Block,
        ),
        "mutes.json": _collect(
            keys.relation_list_pk("MUTES", user_id),
            keys.GSI2,
            budget,
            lambda m: m.model_dump(
                by_alias=True, include={"muted_id", "until", "notifications", "created_at"}
            ),
            Mute,
        ),
        "media.json": media,
    }
    photos = [
        {"name": photo, "object": source}
        for post in posts
        for photo, source in zip(post["photos"], post.pop("_objects"), strict=True)
    ]
    if profile is not None and profile.avatar:
        avatar = db.get_store().get(Media.key_of(profile.avatar), Media)
        large = (avatar.renditions or {}).get("large", {}).get("key") if avatar else None
        if large:
            name = f"photos/avatar-{profile.avatar}.jpg"
            photos.append({"name": name, "object": large})
            documents["profile.json"]["avatarFile"] = name
    documents["index.html"] = _index(documents)
    entries = [{"document": name} for name in documents] + [
        {"name": p["name"], "object": p["object"]} for p in photos
    ]
    return {"documents": documents, "entries": entries}


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
    """A post, with the file names of its photos in the archive (and, for the snapshot only,
    the objects they come from)."""
    photos, objects = [], []
    for n, item in enumerate(post.media, start=1):
        large = item.get("keys", {}).get("large")
        if large:
            photos.append(f"photos/{post.post_id}/{n}-{item['mediaId']}.jpg")
            objects.append(large)
    return post.model_dump(
        by_alias=True,
        include={"post_id", "caption", "hashtags", "visibility", "created_at", "edited_at"},
    ) | {"mediaIds": [m["mediaId"] for m in post.media], "photos": photos, "_objects": objects}


def _media_row(item: Media) -> dict[str, Any]:
    return {
        "mediaId": item.media_id,
        "status": item.status,
        "purpose": item.purpose,
        "createdAt": item.created_at,
        "width": item.width,
        "height": item.height,
    }


def _index(documents: dict[str, Any]) -> str:
    """A page that browses the archive offline: the profile, then the posts with their photos."""
    me = documents["profile.json"].get("profile") or {}
    e = html.escape
    rows = []
    for post in documents["posts.json"]:
        images = "".join(
            f'<a href="{e(p)}"><img src="{e(p)}" alt="" loading="lazy"></a>' for p in post["photos"]
        )
        rows.append(
            f"<article><time>{e(post['createdAt'])}</time>"
            f"<p>{e(post.get('caption') or '')}</p>{images}</article>"
        )
    avatar = documents["profile.json"].get("avatarFile")
    counts = {
        name.removesuffix(".json"): len(documents[name])
        for name in (
            "comments.json",
            "likes.json",
            "following.json",
            "followers.json",
            "blocks.json",
            "mutes.json",
        )
    }
    listing = "".join(
        f'<li><a href="{e(name)}.json">{e(name)}</a>: {n}</li>' for name, n in counts.items()
    )
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        f"<title>Echomate archive of @{e(me.get('username', ''))}</title>"
        "<style>body{font:16px system-ui;max-width:46rem;margin:2rem auto;padding:0 1rem}"
        "img{max-width:100%;display:block;margin:.5rem 0}article{border-top:1px solid #ddd;"
        "padding:1rem 0}time{color:#666;font-size:.9em}</style>"
        f"<h1>{e(me.get('name', ''))} (@{e(me.get('username', ''))})</h1>"
        + (f'<img src="{e(avatar)}" alt="avatar" style="max-width:8rem">' if avatar else "")
        + f"<p>{e(str((me.get('profile') or {}).get('bio', '')))}</p>"
        f"<p>Exported {e(documents['profile.json']['exportedAt'])}. "
        '<a href="profile.json">profile.json</a>, <a href="posts.json">posts.json</a>, '
        '<a href="media.json">media.json</a></p>'
        f"<ul>{listing}</ul><h2>Posts ({len(rows)})</h2>{''.join(rows)}</html>"
    )


# The ZIP format (APPNOTE 6.3.x): local headers with known sizes, a central directory, ZIP64
# records when the archive passes 4 GiB or 65,535 entries ------------------------------------
def _entry_bytes(
    s3: Any, bucket: str, entry: dict[str, Any], manifest: dict[str, Any]
) -> tuple[str, bytes, bool]:
    """(name, bytes, whether to deflate) of one archive entry."""
    if "document" in entry:
        name = entry["document"]
        value = manifest["documents"][name]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)
        return name, text.encode(), True
    try:
        data = s3.get_object(Bucket=bucket, Key=entry["object"])["Body"].read()
    except s3.exceptions.NoSuchKey:  # deleted since the snapshot: left out
        data = b""
    return entry["name"], data, False  # JPEG does not deflate


_DOS_TIME, _DOS_DATE = 0, (2026 - 1980) << 9 | 1 << 5 | 1  # fixed: the archive is reproducible


def _write_entry(
    buffer: bytearray, name: str, data: bytes, deflate: bool, offset: int
) -> dict[str, Any]:
    """Append one entry (local header and data) to ``buffer``; its central-directory record."""
    raw = name.encode()
    crc = zlib.crc32(data)
    if deflate:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = packer.compress(data) + packer.flush()
    else:
        body = data
    method = 8 if deflate else 0
    buffer += struct.pack(
        "<IHHHHHIIIHH",
        0x04034B50,
        20,
        0x0800,  # names are UTF-8
        method,
        _DOS_TIME,
        _DOS_DATE,
        crc,
        len(body),
        len(data),
        len(raw),
        0,
    )
    buffer += raw
    buffer += body
    return {
        "name": name,
        "crc": crc,
        "size": len(body),
        "raw": len(data),
        "method": method,
        "offset": offset,
    }


def _write_directory(buffer: bytearray, records: list[dict[str, Any]], offset: int) -> None:
    """Append the central directory and the end records (ZIP64 ones when needed)."""
    start = len(buffer)
    for r in records:
        raw = r["name"].encode()
        extra = b""
        at = r["offset"]
        if at >= _ZIP64_LIMIT:
            extra = struct.pack("<HHQ", 0x0001, 8, at)
            at = _ZIP64_LIMIT
        buffer += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            45 if extra else 20,
            45 if extra else 20,
            0x0800,
            r["method"],
            _DOS_TIME,
            _DOS_DATE,
            r["crc"],
            r["size"],
            r["raw"],
            len(raw),
            len(extra),
            0,
            0,
            0,
            0o100644 << 16,
            at,
        )
        buffer += raw + extra
    size = len(buffer) - start
    count = len(records)
    if offset >= _ZIP64_LIMIT or count > 0xFFFF:
        end64 = offset + size
        buffer += struct.pack(
            "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, size, offset
        )
        buffer += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
        buffer += struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
        )
        return
    buffer += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, offset, 0)
