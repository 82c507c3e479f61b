"""Media: presigned uploads, the S3-event pipeline that makes renditions, delivery, cleanup.

1. ``request_upload`` answers a presigned POST whose policy pins the key
   (``uploads/<userId>/<mediaId>``), the content type and the exact length; the item is
   ``pending``.
2. S3 notifies ``process_upload``. Nothing about the upload is trusted (clients lie, and moto
   enforces no POST policy): the real size is checked, the format sniffed from the bytes, a
   decompression bomb refused from its header (``images``). The renditions go to
   ``media/<userId>/<mediaId>/<name>.jpg`` (immutable, long-cached); the raw upload, which may
   carry GPS and other metadata, is deleted: no original is kept. Redelivered events find the
   item no longer pending and do nothing.
3. ``view`` returns rendition URLs: CloudFront when ``MEDIA_CDN_DOMAIN`` is set, else presigned
   GETs. ``cleanup`` (scheduled) removes uploads left pending and media never attached.

Pillow is imported only by ``process_upload`` (through ``images``), never at API cold start.
"""

from __future__ import annotations

import logging
import time

from chalicelib import access, aws, clock, db, keys, metrics
from chalicelib.config import get_settings
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, UnsupportedMedia
from chalicelib.ids import id_time, new_id
from chalicelib.models import (
    MEDIA_TYPES,
    Media,
    MediaOut,
    MediaRequestIn,
    MediaUploadOut,
    Renditions,
    UploadForm,
)

log = logging.getLogger(__name__)

UPLOAD_PREFIX = "uploads/"
RENDITIONS = ("thumb", "small", "large")
_CACHE_FOREVER = "public, max-age=31536000, immutable"  # keys never change: cache for a year
_NOT_FOUND = "media not found"


def upload_key(user_id: str, media_id: str) -> str:
    return f"{UPLOAD_PREFIX}{user_id}/{media_id}"


def rendition_key(user_id: str, media_id: str, name: str) -> str:
    return f"media/{user_id}/{media_id}/{name}.jpg"


# Uploads ---------------------------------------------------------------------------------------
def request_upload(user_id: str, body: MediaRequestIn) -> MediaUploadOut:
    """A pending media item and the presigned POST that uploads its bytes."""
    settings = get_settings()
    if body.content_type not in MEDIA_TYPES:
        raise UnsupportedMedia(
            f"contentType: one of {', '.join(MEDIA_TYPES)}",
            [{"field": "contentType", "reason": "unsupported", "allowed": list(MEDIA_TYPES)}],
        )
    limit = _limit(body.purpose)
    if body.content_length > limit:
        raise TooLarge(
            f"contentLength: at most {limit} bytes for {body.purpose} media",
            [{"field": "contentLength", "reason": "too_large", "limit": limit}],
        )
    store = db.get_store()
    pending = store.query_page(
        keys.user_media_pk(user_id),
        index=keys.GSI1,
        limit=100,
        sk_prefix=keys.media_listing_prefix("pending"),
    )
    if len(pending.items) >= settings.media_max_pending:
        raise Conflict(
            f"too many unfinished uploads (at most {settings.media_max_pending}): finish or "
            "delete some first",
            [{"reason": "too_many_pending"}],
        )
    media_id = new_id()
    key = upload_key(user_id, media_id)
    store.put(
        {
            keys.PK: keys.media_pk(media_id),
            keys.SK: keys.MEDIA_SK,
            keys.GSI1PK: keys.user_media_pk(user_id),
            keys.GSI1SK: keys.media_listing_sk("pending", media_id),
            keys.GSI3PK: keys.media_state_pk("pending"),
            keys.GSI3SK: media_id,
            "mediaId": media_id,
            "ownerId": user_id,
            "purpose": body.purpose,
            "status": "pending",
            "contentType": body.content_type,
            "declaredLength": body.content_length,
            "uploadKey": key,
            "createdAt": clock.now(),
        },
        condition="attribute_not_exists(PK)",
    )
    post = aws.client("s3").generate_presigned_post(
        Bucket=settings.media_bucket,
        Key=key,
        Fields={"Content-Type": body.content_type},
        Conditions=[
            {"Content-Type": body.content_type},
            ["content-length-range", body.content_length, body.content_length],
        ],
        ExpiresIn=settings.media_upload_seconds,
    )
    return MediaUploadOut(
        media_id=media_id,
        upload=UploadForm(url=post["url"], fields=post["fields"]),
        expires_in=settings.media_upload_seconds,
    )


def _limit(purpose: str) -> int:
    settings = get_settings()
    return settings.media_max_bytes_avatar if purpose == "avatar" else settings.media_max_bytes_post


# Processing ------------------------------------------------------------------------------------
def process_upload(bucket: str, key: str) -> str:
    """Turn an uploaded object into renditions, or reject it. Returns what happened:
    ``ready``, ``rejected:<reason>``, or ``skipped`` (not ours, or already processed)."""
    parts = key.split("/")
    if len(parts) != 3 or f"{parts[0]}/" != UPLOAD_PREFIX or "#" in key:
        return "skipped"
    user_id, media_id = parts[1], parts[2]
    store = db.get_store()
    media = store.get(keys.media_pk(media_id), keys.MEDIA_SK, Media, consistent=True)
    s3 = aws.client("s3")
    if media is None or media.owner_id != user_id:
        s3.delete_object(Bucket=bucket, Key=key)  # nobody asked for this upload
        return "skipped"
    if media.status != "pending":
        return "skipped"  # a redelivered event
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return "skipped"  # already processed and deleted by a concurrent delivery
    size = head["ContentLength"]
    if size > _limit(media.purpose):
        return _reject(media, bucket, key, "too_large")
    if media.declared_length is not None and size != media.declared_length:
        return _reject(media, bucket, key, "size_mismatch")
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    from chalicelib import images

    started = time.perf_counter()
    try:
        processed = images.process(data, max_pixels=get_settings().media_max_pixels)
    except images.ImageRejected as exc:
        return _reject(media, bucket, key, exc.reason)
    finally:
        del data
    renditions = {}
    for name in RENDITIONS:
        rendition = processed.renditions[name]
        target = rendition_key(user_id, media_id, name)
        s3.put_object(
            Bucket=bucket,
            Key=target,
            Body=rendition.data,
            ContentType=rendition.content_type,
            CacheControl=_CACHE_FOREVER,
        )
        renditions[name] = {
            "key": target,
            "width": rendition.width,
            "height": rendition.height,
            "size": rendition.size,
        }
    try:
        store.update(
            keys.media_pk(media_id),
            keys.MEDIA_SK,
            "SET #status = :ready, width = :w, height = :h, blurhash = :bh, "
            "renditions = :r, sourceFormat = :f, processedAt = :now, #i1sk = :listed, "
            "#i3pk = :unattached, #i3sk = :id",
            condition="#status = :pending",
            values={
                ":ready": "ready",
                ":pending": "pending",
                ":w": processed.width,
                ":h": processed.height,
                ":bh": processed.blurhash,
                ":r": renditions,
                ":f": processed.format,
                ":now": clock.now(),
                ":listed": keys.media_listing_sk("ready", media_id),
                ":unattached": keys.media_state_pk("unattached"),
                ":id": media_id,
            },
            names={"#status": "status"},
        )
    except Conflict:
        return "skipped"  # processed concurrently, or deleted meanwhile
    s3.delete_object(Bucket=bucket, Key=key)
    took_ms = (time.perf_counter() - started) * 1000
    log.info("media %s ready in %.0f ms", media_id, took_ms)
    metrics.emit(UploadsProcessed=1, ProcessingMs=(took_ms, "Milliseconds"))
    return "ready"


def _reject(media: Media, bucket: str, key: str, reason: str) -> str:
    try:
        db.get_store().update(
            keys.media_pk(media.media_id),
            keys.MEDIA_SK,
            "SET #status = :rejected, rejectReason = :reason, processedAt = :now, "
            "#i1sk = :listed REMOVE #i3pk, #i3sk",
            condition="#status = :pending",
            values={
                ":rejected": "rejected",
                ":pending": "pending",
                ":reason": reason,
                ":now": clock.now(),
                ":listed": keys.media_listing_sk("rejected", media.media_id),
            },
            names={"#status": "status"},
        )
    except Conflict:
        return "skipped"
    aws.client("s3").delete_object(Bucket=bucket, Key=key)
    log.info("media %s rejected: %s", media.media_id, reason)
    metrics.emit(UploadsRejected=1)
    return f"rejected:{reason}"


# Reading and deleting --------------------------------------------------------------------------
def get_media(media_id: str) -> Media:
    if not media_id or "#" in media_id or len(media_id) > 64:
        raise NotFound(_NOT_FOUND)
    media: Media | None = db.get_store().get(keys.media_pk(media_id), keys.MEDIA_SK, Media)
    if media is None:
        raise NotFound(_NOT_FOUND)
    return media


def view(caller_id: str, media_id: str) -> MediaOut:
    """A media item with its rendition URLs. The owner sees every state; others see ready
    media only, and a post's media only if they may see the post."""
    media = get_media(media_id)
    if media.owner_id == caller_id:
        return present(media)
    if media.status != "ready":
        raise NotFound(_NOT_FOUND)
    restricted = False
    if media.attached_to and media.attached_to.startswith("post:"):
        # Media of a post is seen by whoever may see the post (a 404 for the others).
        post = access.visible_post(caller_id, media.attached_to.removeprefix("post:"))
        restricted = post.visibility == "followers"
    return present(media, restricted=restricted)


def present(media: Media, *, restricted: bool = False) -> MediaOut:
    """The API view of a media item (rendition URLs made now). ``restricted`` media (on a
    followers-only post) always gets short-lived presigned URLs, never the public CDN's."""
    urls = None
    if media.status == "ready" and media.renditions:
        urls = Renditions(
            **{
                n: rendition_url(media.renditions[n]["key"], restricted=restricted)
                for n in RENDITIONS
            }
        )
    return MediaOut(
        media_id=media.media_id,
        status=media.status,
        width=media.width,
        height=media.height,
        blurhash=media.blurhash,
        renditions=urls,
        reject_reason=media.reject_reason,
    )


def rendition_url(key: str, *, restricted: bool = False) -> str:
    """A URL for an object under media/: the CDN's when configured (and the media is not
    restricted), else a presigned GET."""
    settings = get_settings()
    if settings.media_cdn_domain and not restricted:
        return f"https://{settings.media_cdn_domain}/{key}"
    url: str = aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": settings.media_bucket, "Key": key},
        ExpiresIn=settings.media_url_seconds,
    )
    return url


def delete(caller_id: str, media_id: str) -> None:
    """The owner deletes a media item and every object of it (idempotent once gone)."""
    media = get_media(media_id)
    if media.owner_id != caller_id:
        if media.status != "ready":
            raise NotFound(_NOT_FOUND)
        raise Forbidden("only the owner can delete this media")
    if media.attached_to:
        raise Conflict(
            f"the media is in use ({media.attached_to}): remove it there first",
            [{"reason": "attached", "attachedTo": media.attached_to}],
        )
    purge(media)


def purge(media: Media) -> None:
    """Delete the objects, then the item, of ``media`` (idempotent)."""
    objects = [media.upload_key or upload_key(media.owner_id, media.media_id)]
    objects += [r["key"] for r in (media.renditions or {}).values()]
    aws.client("s3").delete_objects(
        Bucket=get_settings().media_bucket,
        Delete={"Objects": [{"Key": k} for k in objects], "Quiet": True},
    )
    db.get_store().delete(keys.media_pk(media.media_id), keys.MEDIA_SK)


def check_attachable(user_id: str, media_id: str, purpose: str) -> Media:
    """A ready media item of ``user_id`` made for ``purpose``; 400 naming the field otherwise."""
    field = "avatar" if purpose == "avatar" else "mediaIds"
    refused = Invalid(
        f"{field}: {media_id} is not one of your ready {purpose} uploads",
        [{"field": field, "reason": "not_usable", "mediaId": media_id}],
    )
    try:
        media = get_media(media_id)
    except NotFound:
        raise refused from None
    if media.owner_id != user_id or media.purpose != purpose or media.status != "ready":
        raise refused
    return media


def attach_op(media_id: str, owner: str, attached_to: str) -> db.TxOp:
    """The transaction step that marks media as used (so cleanup keeps it)."""
    return db.tx_update(
        {keys.PK: keys.media_pk(media_id), keys.SK: keys.MEDIA_SK},
        "SET attachedTo = :to REMOVE #i3pk, #i3sk",
        "ownerId = :owner AND #status = :ready",
        values={":to": attached_to, ":owner": owner, ":ready": "ready"},
        names={"#status": "status"},
        on_fail=Invalid(f"{media_id} is no longer usable", [{"reason": "not_usable"}]),
    )


def detach_op(media_id: str) -> db.TxOp:
    """The transaction step that releases media (cleanup removes it a day later)."""
    return db.tx_update(
        {keys.PK: keys.media_pk(media_id), keys.SK: keys.MEDIA_SK},
        "REMOVE attachedTo SET #i3pk = :unattached, #i3sk = :id",
        "attribute_exists(PK)",
        values={":unattached": keys.media_state_pk("unattached"), ":id": media_id},
    )


# Cleanup ---------------------------------------------------------------------------------------
def cleanup(*, now: float | None = None, page_size: int = 50, max_pages: int = 20) -> int:
    """Delete uploads still pending, and media attached to nothing, older than the cleanup
    age. In pages, oldest first; safe to re-run. Returns how many items went."""
    now = time.time() if now is None else now
    cutoff = now - get_settings().media_cleanup_after_seconds
    store = db.get_store()
    removed = 0
    for state in ("pending", "unattached"):
        for _ in range(max_pages):
            page = store.query_page(
                keys.media_state_pk(state),
                index=keys.GSI3,
                limit=page_size,
                newest_first=False,
                model=Media,
            )
            old = [m for m in page.items if id_time(m.media_id) < cutoff]
            for media in old:
                purge(media)
                removed += 1
            if len(old) < len(page.items) or page.next_cursor is None:
                break
    return removed
