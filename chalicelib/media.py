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

import hashlib
import logging
import time
from typing import Any

from chalicelib import access, aws, clock, db, idempotency, keys, metrics
from chalicelib.config import get_settings
from chalicelib.entities import ENTITY_ATTRIBUTE, Media, Post, UploadSlots
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, UnsupportedMedia
from chalicelib.ids import id_time, new_id
from chalicelib.models import (
    MEDIA_TYPES,
    Focus,
    MediaOut,
    MediaPatchIn,
    MediaRequestIn,
    MediaUploadOut,
    Renditions,
    UploadForm,
)

log = logging.getLogger(__name__)

UPLOAD_PREFIX = "uploads/"
RENDITIONS = ("thumb", "small", "large")
#: rendition URLs stay identical for this long (then the next window's are handed out)
URL_WINDOW_SECONDS = 3600
_CACHE_FOREVER = "public, max-age=31536000, immutable"  # keys never change: cache for a year
_NOT_FOUND = "media not found"


def upload_key(user_id: str, media_id: str) -> str:
    return f"{UPLOAD_PREFIX}{user_id}/{media_id}"


def rendition_key(user_id: str, media_id: str, name: str) -> str:
    return f"media/{user_id}/{media_id}/{name}.jpg"


# Uploads ---------------------------------------------------------------------------------------
def request_upload(
    user_id: str, body: MediaRequestIn, idempotency_key: str | None = None
) -> MediaUploadOut:
    """A pending media item and the presigned POST that uploads its bytes. With
    ``Idempotency-Key`` a retry returns the first answer (the same media and form, while the
    form is valid) and takes no second slot of the pending cap."""
    once = idempotency.Key(user_id, "request_upload", idempotency_key, body)
    replay = once.replay(MediaUploadOut)
    if replay is not None:
        return replay
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
    media_id = new_id()
    key = upload_key(user_id, media_id)
    item = Media(
        media_id=media_id,
        owner_id=user_id,
        purpose=body.purpose,
        status="pending",
        content_type=body.content_type,
        declared_length=body.content_length,
        upload_key=key,
        created_at=clock.now(),
        description=body.description,
        focus=body.focus.model_dump() if body.focus else None,
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
    answer = MediaUploadOut(
        media_id=media_id,
        upload=UploadForm(url=post["url"], fields=post["fields"]),
        expires_in=settings.media_upload_seconds,
    )
    # The item and a slot of the pending cap in one transaction: concurrent requests cannot
    # both take the last slot.
    return once.write([db.tx_put(item, "attribute_not_exists(PK)"), _slots(user_id, +1)], answer)


def describe(user_id: str, media_id: str, patch: MediaPatchIn) -> MediaOut:
    """The owner sets (or with null removes) the alt text and the focus of a media item, also
    once its post is published: the media item and the post's copy in one transaction. A new
    focus re-renders the thumb in the background (``refocus``, from the stream)."""
    given = patch.model_fields_set
    if not given:
        raise Invalid("body: description or focus", [{"field": "body", "reason": "required"}])
    for _ in range(3):
        item = get_media(media_id)
        if item.owner_id != user_id:
            raise Forbidden("only the owner can describe a media item")
        changes: dict[str, Any] = {}
        if "description" in given:
            changes["description"] = patch.description
        if "focus" in given:
            changes["focus"] = patch.focus.model_dump() if patch.focus else None
        ops = [
            _set_op(
                item.key, changes, "#owner = :owner", {":owner": user_id}, {"#owner": "ownerId"}
            )
        ]
        post_id = (item.attached_to or "").removeprefix("post:")
        if item.attached_to and item.attached_to.startswith("post:"):
            post = db.get_store().get(Post.key_of(post_id), Post)
            where = (
                [i for i, m in enumerate(post.media) if m["mediaId"] == media_id] if post else []
            )
            if where:
                ops.append(
                    _set_op(
                        post.key if post else Post.key_of(post_id),
                        {f"media[{where[0]}].{k}": v for k, v in changes.items()},
                        f"#media[{where[0]}].#id = :media",
                        {":media": media_id},
                        {"#media": "media", "#id": "mediaId"},
                    )
                )
        try:
            db.get_store().transact_write(ops)
        except Conflict:
            continue  # the post's media changed meanwhile (an edit): read again
        return render(item.model_copy(update=changes))
    raise Conflict("the media is changing; retry")


def refocus(item: Media) -> None:
    """Re-render the thumb of a ready media item around its focus (the stream calls this when
    the focus changed): a new object (cached URLs of the old one never show the old crop as
    the new), the media item and its post's copy pointing at it, the old object deleted. A
    focus changed again meanwhile leaves the work to the next record."""
    if item.status != "ready" or not item.renditions:
        return
    from chalicelib import images

    s3 = aws.client("s3")
    bucket = get_settings().media_bucket
    large = s3.get_object(Bucket=bucket, Key=item.renditions["large"]["key"])["Body"].read()
    focus = (item.focus["x"], item.focus["y"]) if item.focus else None
    thumb = images.square_thumb(large, focus)
    old = item.renditions["thumb"]["key"]
    tag = hashlib.sha256(repr(focus).encode()).hexdigest()[:10]
    key = rendition_key(item.owner_id, item.media_id, f"thumb-{tag}")
    if key == old:
        return
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=thumb.data,
        ContentType=thumb.content_type,
        CacheControl=_CACHE_FOREVER,
    )
    rendition = {"key": key, "width": thumb.width, "height": thumb.height, "size": thumb.size}
    names = {"#r": "renditions", "#t": "thumb", "#f": "focus"}
    values: dict[str, Any] = {":r": rendition}
    if item.focus:
        condition, values[":f"] = "#f = :f", item.focus
    else:
        condition = "attribute_not_exists(#f)"
    ops = [
        db.tx_update(
            item.key,
            "SET #r.#t = :r",
            condition,
            values=values,
            names=names,
            on_fail=Conflict("focus changed"),
        )
    ]
    if item.attached_to and item.attached_to.startswith("post:"):
        post = db.get_store().get(Post.key_of(item.attached_to.removeprefix("post:")), Post)
        where = (
            [i for i, m in enumerate(post.media) if m["mediaId"] == item.media_id] if post else []
        )
        if post is not None and where:
            ops.append(
                db.tx_update(
                    post.key,
                    f"SET #m[{where[0]}].#k.#t = :key",
                    f"#m[{where[0]}].#id = :id",
                    values={":key": key, ":id": item.media_id},
                    names={"#m": "media", "#k": "keys", "#t": "thumb", "#id": "mediaId"},
                    on_fail=Conflict("post changed"),
                )
            )
    try:
        db.get_store().transact_write(ops)
    except Conflict:
        s3.delete_object(Bucket=bucket, Key=key)
        return
    s3.delete_object(Bucket=bucket, Key=old)


def _set_op(
    key: tuple[str, str],
    changes: dict[str, Any],
    condition: str,
    values: dict[str, Any],
    names: dict[str, str],
) -> db.TxOp:
    """SET (or REMOVE, for None) each of ``changes``' paths (``media[2].focus`` included),
    every name aliased."""
    aliases = dict(names)
    sets, removes, bound = [], [], dict(values)

    def path(text: str) -> str:
        parts = []
        for part in text.split("."):
            head, bracket, index = part.partition("[")
            alias = f"#n{len(aliases)}"
            aliases[alias] = head
            parts.append(alias + bracket + index)
        return ".".join(parts)

    for n, (field, value) in enumerate(changes.items()):
        if value is None:
            removes.append(path(field))
        else:
            bound[f":v{n}"] = value
            sets.append(f"{path(field)} = :v{n}")
    expression = " ".join(
        ([f"SET {', '.join(sets)}"] if sets else [])
        + ([f"REMOVE {', '.join(removes)}"] if removes else [])
    )
    return db.tx_update(
        key, expression, condition, values=bound, names=aliases, on_fail=Conflict("changed")
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
    media = store.get(Media.key_of(media_id), Media, consistent=True)
    s3 = aws.client("s3")
    if media is None or media.owner_id != user_id:
        s3.delete_object(Bucket=bucket, Key=key)  # nobody asked for this upload
        return "skipped"
    if media.status != "pending":
        # A redelivered event, or a second upload through a form still valid: either way
        # nothing at this key is wanted any more (a raw upload may carry GPS and EXIF).
        s3.delete_object(Bucket=bucket, Key=key)
        return "skipped"
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
        focus = (media.focus["x"], media.focus["y"]) if media.focus else None
        processed = images.process(data, max_pixels=get_settings().media_max_pixels, focus=focus)
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
        _leave_pending(
            media,
            "SET #status = :ready, width = :w, height = :h, blurhash = :bh, "
            "renditions = :r, sourceFormat = :f, processedAt = :now, #i1sk = :listed, "
            "#i3pk = :unattached, #i3sk = :id",
            {
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
        _leave_pending(
            media,
            "SET #status = :rejected, rejectReason = :reason, processedAt = :now, "
            "#i1sk = :listed, #i3pk = :state, #i3sk = :id",
            {
                ":rejected": "rejected",
                ":reason": reason,
                ":now": clock.now(),
                ":listed": keys.media_listing_sk("rejected", media.media_id),
                ":state": keys.media_state_pk("rejected"),  # cleanup removes it a day later
                ":id": media.media_id,
            },
        )
    except Conflict:
        return "skipped"
    aws.client("s3").delete_object(Bucket=bucket, Key=key)
    log.info("media %s rejected: %s", media.media_id, reason)
    metrics.emit(UploadsRejected=1)
    return f"rejected:{reason}"


def _leave_pending(media: Media, update: str, values: dict[str, object]) -> None:
    """Move ``media`` out of ``pending`` (Conflict if it is no longer pending) and give its
    slot of the pending cap back, in one transaction."""
    db.get_store().transact_write(
        [
            db.tx_update(
                media.key,
                update,
                "#status = :pending",
                values={**values, ":pending": "pending"},
                names={"#status": "status"},
                on_fail=Conflict("no longer pending"),
            ),
            _slots(media.owner_id, -1),
        ]
    )


def _slots(owner_id: str, delta: int) -> db.TxOp:
    """The transaction step that takes (+1, refused at the cap) or gives back (-1) a slot of
    the owner's pending cap."""
    limit = get_settings().media_max_pending
    return db.tx_update(
        UploadSlots.key_of(owner_id),
        "ADD pending :delta SET #entity = :kind",
        "attribute_not_exists(pending) OR pending < :max" if delta > 0 else None,
        values={":delta": delta, ":kind": UploadSlots.KIND}
        | ({":max": limit} if delta > 0 else {}),
        names={"#entity": ENTITY_ATTRIBUTE},
        on_fail=Conflict(
            f"too many unfinished uploads (at most {limit}): finish or delete some first",
            [{"reason": "too_many_pending"}],
        ),
    )


# Reading and deleting --------------------------------------------------------------------------
def get_media(media_id: str) -> Media:
    if not media_id or "#" in media_id or len(media_id) > 64:
        raise NotFound(_NOT_FOUND)
    media = db.get_store().get(Media.key_of(media_id), Media)
    if media is None:
        raise NotFound(_NOT_FOUND)
    return media


def get_for(caller_id: str, media_id: str) -> MediaOut:
    """A media item fetched for the caller, with its rendition URLs. The owner sees every
    state; others see ready media only, and a post's media only if they may see the post."""
    media = get_media(media_id)
    if media.owner_id == caller_id:
        return render(media)
    if media.status != "ready":
        raise NotFound(_NOT_FOUND)
    restricted = False
    if media.attached_to and media.attached_to.startswith("post:"):
        # Media of a post is seen by whoever may see the post (a 404 for the others).
        seen = access.seen_post(caller_id, media.attached_to.removeprefix("post:"))
        restricted = seen.restricted
    return render(media, restricted=restricted)


def render(media: Media, *, restricted: bool = False) -> MediaOut:
    """The API view of a media item (rendition URLs made now). ``restricted`` media (on a
    followers-only post, or a private account's) always gets short-lived presigned URLs,
    never the public CDN's."""
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
        description=media.description,
        focus=Focus.model_validate(media.focus) if media.focus else None,
    )


def rendition_url(key: str, *, restricted: bool = False) -> str:
    """A URL for an object under media/: the CDN's when configured (and the media is not
    restricted), else a presigned GET."""
    settings = get_settings()
    if settings.media_cdn_domain and not restricted:
        return f"https://{settings.media_cdn_domain}/{key}"
    # Signed as of the start of the current window, valid for the window and then the usual
    # lifetime: every request in the window gets the same URL (a browser caches the image
    # once), and each URL handed out stays valid at least ``media_url_seconds``.
    # Being the same for the window, a URL is signed once per instance and window (a page of
    # 20 authors and 50 photos costs no signing at all the second time).
    window = URL_WINDOW_SECONDS
    start = int(time.time()) // window * window
    expires = window + settings.media_url_seconds
    signed_as = (settings.aws_endpoint_url or "", settings.media_bucket, key, start, expires)
    cached = _signed.get(signed_as)
    if cached is not None:
        return cached
    s3 = aws.client("s3")
    url: str = aws.presign_at(
        start,
        lambda: s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": settings.media_bucket, "Key": key},
            ExpiresIn=expires,
        ),
    )
    if len(_signed) >= _SIGNED_CACHE_SIZE:
        _signed.clear()  # bounded memory; the next requests refill it
    _signed[signed_as] = url
    return url


_SIGNED_CACHE_SIZE = 20_000
_signed: dict[tuple[str, str, str, int, int], str] = {}


def delete(caller_id: str, media_id: str) -> None:
    """The owner deletes a media item and every object of it (idempotent once gone). Media in
    use is a 409, decided by the write itself: a post made meanwhile cannot lose its images."""
    media = get_media(media_id)
    if media.owner_id != caller_id:
        if media.status != "ready":
            raise NotFound(_NOT_FOUND)
        raise Forbidden("only the owner can delete this media")
    in_use = Conflict(
        f"the media is in use ({media.attached_to or 'attached meanwhile'}): remove it there first",
        [{"reason": "attached", "attachedTo": media.attached_to}],
    )
    if media.attached_to:
        raise in_use
    _remove(media, "attribute_not_exists(attachedTo)", in_use)


def purge(media: Media) -> None:
    """Delete the item, then the objects, of ``media`` (idempotent): cleanup, post and
    account deletion."""
    _remove(media)


def _remove(media: Media, condition: str | None = None, on_fail: Conflict | None = None) -> None:
    """Delete the item (only while its status is still the one read: a pending one gives its
    slot back in the same transaction), then its objects."""
    changed = Conflict("the media changed meanwhile")
    guard = "#status = :status" + (f" AND {condition}" if condition else "")
    ops = [
        db.tx_delete(
            media.key,
            guard,
            values={":status": media.status},
            names={"#status": "status"},
            on_fail=on_fail or changed,
        )
    ]
    if media.status == "pending":
        ops.append(_slots(media.owner_id, -1))
    try:
        db.get_store().transact_write(ops)
    except Conflict as exc:
        if exc is not changed:
            raise
        current = db.get_store().get(media.key, Media, consistent=True)
        if current is not None:  # processed meanwhile: remove it as it is now
            _remove(current, condition, on_fail)
            return
    objects = [media.upload_key or upload_key(media.owner_id, media.media_id)]
    objects += [r["key"] for r in (media.renditions or {}).values()]
    aws.client("s3").delete_objects(
        Bucket=get_settings().media_bucket,
        Delete={"Objects": [{"Key": k} for k in objects], "Quiet": True},
    )


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
        Media.key_of(media_id),
        "SET attachedTo = :to REMOVE #i3pk, #i3sk",
        "ownerId = :owner AND #status = :ready AND attribute_not_exists(attachedTo)",
        values={":to": attached_to, ":owner": owner, ":ready": "ready"},
        names={"#status": "status"},
        on_fail=Invalid(f"{media_id} is no longer usable", [{"reason": "not_usable"}]),
    )


def detach_op(media_id: str) -> db.TxOp:
    """The transaction step that releases media (cleanup removes it a day later)."""
    return db.tx_update(
        Media.key_of(media_id),
        "REMOVE attachedTo SET #i3pk = :unattached, #i3sk = :id",
        "attribute_exists(PK)",
        values={":unattached": keys.media_state_pk("unattached"), ":id": media_id},
    )


# Cleanup ---------------------------------------------------------------------------------------
def cleanup(*, now: float | None = None, page_size: int = 50, max_pages: int = 20) -> int:
    """Delete uploads still pending, media attached to nothing and rejected media, older
    than the cleanup age. In pages, oldest first; safe to re-run. Returns how many items
    went."""
    now = time.time() if now is None else now
    cutoff = now - get_settings().media_cleanup_after_seconds
    store = db.get_store()
    removed = 0
    for state in ("pending", "unattached", "rejected"):
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
