"""Posts and what hangs on them: the feed, explore, hashtag search, likes and comments.

Reading rules: a ``followers`` post, and every post of a private account, is visible to its
author and their followers only (a 404 to anyone else, everywhere); explore and hashtag search
list public posts of public accounts only. A page of posts
costs one Query (or a few on explore), one BatchGetItem of posts with the caller's likes, and
one BatchGetItem of authors: media facts are copied into the post when it is made (they are
immutable once ready), so no media is read.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import urllib.parse
from collections.abc import Mapping
from typing import Any, NamedTuple

from chalicelib import (
    access,
    accounts,
    clock,
    db,
    idempotency,
    keys,
    media,
    moderation,
    relations,
    tasks,
    timelines,
    users,
)
from chalicelib.entities import (
    ENTITY_ATTRIBUTE,
    Bookmark,
    Follow,
    HashtagEntry,
    ItemKey,
    Like,
    Media,
    Post,
    PostVersion,
    Profile,
    ReportCase,
    TagStats,
    TimelineEntry,
)
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.identity import Identity
from chalicelib.ids import new_id
from chalicelib.models import (
    BookmarkOut,
    MentionOut,
    PostIn,
    PostMediaOut,
    PostOut,
    PostPatchIn,
    PostVersionOut,
    Renditions,
    UserSummary,
)

MAX_HASHTAGS = 30
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
_TAG = re.compile(r"(?<![\w#&])#(\w{1,100})")
_NOT_FOUND = "post not found"


def normal_tag(text: str) -> str:
    """A hashtag as it is kept and compared: NFKC, then case folding (``#İstanbul`` is
    ``i̇stanbul``, ``#Straße`` is ``strasse``, full-width letters are plain ones). The one rule
    for captions and for ``?tag=``."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _tag_text(tag: str) -> bool:
    """Letters and digits of any script, ``_``, and the combining marks case folding can leave
    (the dot of ``i̇``), 1 to 100 of them."""
    return 1 <= len(tag) <= 100 and all(
        c.isalnum() or c == "_" or unicodedata.category(c).startswith("M") for c in tag
    )


def hashtags(caption: str) -> list[str]:
    """The caption's hashtags (``normal_tag``), without ``#``, in order (30 at most), each once
    as its key sees it: ``#Café`` and ``#cafe`` fold to one key (``keys.hashtag_pk``), so only
    the first is kept (two writes of one key in a transaction would be refused). A tag that
    folds to nothing usable as a key is skipped."""
    tags: dict[str, str] = {}
    for tag in _TAG.findall(unicodedata.normalize("NFKC", caption)):
        tag = normal_tag(tag)
        folded = keys.fold(tag)  # what keys.hashtag_pk writes
        if tag.isdigit() or not folded or "#" in folded:
            continue
        tags.setdefault(folded, tag)
    return list(tags.values())[:MAX_HASHTAGS]


# Creating and changing posts -------------------------------------------------------------------
def create_post(caller_id: str, body: PostIn, idempotency_key: str | None) -> PostOut:
    """A new post; with ``Idempotency-Key`` a retry of the same body returns the first answer
    and creates nothing (a different body under the same key is a 409)."""
    once = idempotency.Key(caller_id, "create_post", idempotency_key, body)
    replay = once.replay(PostOut)
    if replay is not None:
        return replay
    if len(set(body.media_ids)) != len(body.media_ids):
        raise Invalid(
            "mediaIds: each media at most once", [{"field": "mediaIds", "reason": "duplicate"}]
        )
    items = [media.check_attachable(caller_id, m, "post") for m in body.media_ids]
    mentions = users.mentioned(body.caption, "caption")
    author = users.get_profile(caller_id)
    post_id = new_id()
    post = Post(
        post_id=post_id,
        author_id=caller_id,
        caption=body.caption,
        hashtags=hashtags(body.caption),
        mentions=mentions,
        visibility=body.visibility,
        sensitive=body.sensitive,
        spoiler_text=body.spoiler_text,
        created_at=clock.now(),
        media=[media_fact(m) for m in items],
    )
    ops = [
        db.tx_put(post, "attribute_not_exists(PK)"),
        db.tx_update(
            Profile.key_of(caller_id),
            "ADD postCount :one",
            "attribute_exists(PK) AND attribute_not_exists(deletedAt)",
            values={":one": 1},
            on_fail=NotFound("your profile is gone"),
        ),
        db.tx_put(timelines.timeline_item(caller_id, post_id, caller_id)),  # own posts in own feed
        *(media.attach_op(m.media_id, caller_id, f"post:{post_id}") for m in items),
    ]
    if post.visibility == "public":
        ops += [db.tx_put(_tagged(t, post)) for t in post.hashtags]
        ops += [_tag_count(t, 1) for t in post.hashtags]
    view = _render_one(
        post,
        users.summary_of(author),
        liked=False,
        restricted=post.visibility == "followers" or author.private,
    )
    return once.write(ops, view)


def media_fact(item: Media) -> dict[str, Any]:
    """What a post keeps of a media item (immutable once ready, but the alt text and focus,
    which ``media.describe`` writes into the post too)."""
    return {
        "mediaId": item.media_id,
        "width": item.width,
        "height": item.height,
        "blurhash": item.blurhash,
        "keys": {n: r["key"] for n, r in (item.renditions or {}).items()},
        "description": item.description,
        "focus": item.focus,
    }


def _tagged(tag: str, post: Post) -> HashtagEntry:
    return HashtagEntry(tag=tag, post_id=post.post_id, author_id=post.author_id)


def edit_post(
    caller_id: str, post_id: str, patch: PostPatchIn, expected_version: int | None
) -> PostOut:
    """The author edits a post: caption (hashtags and mentions follow), media (the whole new
    list: kept ones stay, new ones are attached, dropped ones released), visibility,
    sensitivity. One transaction: the post updated (conditioned on its version: ``If-Match``
    with a stale version, or an edit racing this one, is a 409), the version it replaces kept
    (``PostVersion``), hashtag entries and media moved. Explore follows the visibility (its
    index keys are rewritten); timelines keep the post and readers apply the visibility."""
    given = patch.model_fields_set
    for field in ("caption", "visibility", "sensitive", "media_ids"):
        if field in given and getattr(patch, field) is None:
            name = "mediaIds" if field == "media_ids" else field
            raise Invalid(f"{name}: cannot be null", [{"field": name, "reason": "required"}])
    post = access.visible_post(caller_id, post_id)
    if post.author_id != caller_id:
        raise Forbidden("only the author can edit a post")
    if expected_version is not None and expected_version != post.version:
        raise _stale_post(post.version)
    caption = patch.caption if patch.caption is not None else post.caption
    visibility = patch.visibility or post.visibility
    sensitive = patch.sensitive if patch.sensitive is not None else post.sensitive
    spoiler = patch.spoiler_text if "spoiler_text" in given else post.spoiler_text
    old_media = {m["mediaId"]: m for m in post.media}
    new_media = post.media
    added: list[Media] = []
    if patch.media_ids is not None:
        if len(set(patch.media_ids)) != len(patch.media_ids):
            raise Invalid(
                "mediaIds: each media at most once",
                [{"field": "mediaIds", "reason": "duplicate"}],
            )
        added = [
            media.check_attachable(caller_id, m, "post")
            for m in patch.media_ids
            if m not in old_media
        ]
        fresh = {m.media_id: media_fact(m) for m in added}
        new_media = [old_media.get(m) or fresh[m] for m in patch.media_ids]
    dropped = [m for m in old_media if m not in {x["mediaId"] for x in new_media}]
    mentions = users.mentioned(caption, "caption") if caption != post.caption else post.mentions
    new_tags = hashtags(caption)
    now = clock.now()
    edited = post.model_copy(
        update={
            "caption": caption,
            "hashtags": new_tags,
            "mentions": mentions,
            "media": new_media,
            "visibility": visibility,
            "sensitive": sensitive,
            "spoiler_text": spoiler,
            "edited_at": now,
            "version": post.version + 1,
        }
    )
    listed = edited.index_keys()
    sets = {
        "caption": caption,
        "hashtags": new_tags,
        "mentions": mentions,
        "media": new_media,
        "visibility": visibility,
        "sensitive": sensitive,
        "editedAt": now,
        "version": post.version + 1,
    }
    removes = []
    if spoiler is None:
        removes.append("spoilerText")
    else:
        sets["spoilerText"] = spoiler
    for attribute in (keys.GSI2PK, keys.GSI2SK):
        if attribute in listed:
            sets[attribute] = listed[attribute]
        else:
            removes.append(attribute)
    names = {f"#a{i}": a for i, a in enumerate(sets)} | {f"#r{i}": a for i, a in enumerate(removes)}
    values = {f":a{i}": v for i, v in enumerate(sets.values())} | {":expected": post.version}
    expression = "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(sets)))
    if removes:
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
    ops = [
        db.tx_update(
            post.key,
            expression,
            "attribute_exists(PK) AND (attribute_not_exists(#v) OR #v = :expected)",
            values=values,
            names=names | {"#v": "version"},
            on_fail=_stale_post(None)
            if expected_version is not None
            else Conflict("the post changed meanwhile; retry", [{"reason": "conflict"}]),
        ),
        db.tx_put(
            PostVersion(
                post_id=post.post_id,
                version=post.version,
                caption=post.caption,
                media=post.media,
                visibility=post.visibility,
                sensitive=post.sensitive,
                spoiler_text=post.spoiler_text,
                made_at=post.edited_at or post.created_at,
            )
        ),
        *(media.attach_op(m.media_id, caller_id, f"post:{post_id}") for m in added),
        *(media.detach_op(m) for m in dropped),
    ]
    # Hashtag entries are for public posts; compared by the folded form the keys use ("#Café"
    # edited to "#cafe" is the same entry: deleting and putting one key in a transaction
    # would be refused).
    old = {keys.fold(t): t for t in post.hashtags} if post.visibility == "public" else {}
    new = {keys.fold(t): t for t in new_tags} if visibility == "public" else {}
    ops += [db.tx_delete(HashtagEntry.key_of(old[k], post_id)) for k in old.keys() - new]
    ops += [_tag_count(old[k], -1) for k in old.keys() - new]
    ops += [db.tx_put(_tagged(new[k], edited)) for k in new.keys() - old]
    ops += [_tag_count(new[k], 1) for k in new.keys() - old]
    db.get_store().transact_write(ops)
    return render(caller_id, [edited])[0]


def _stale_post(version: int | None) -> Conflict:
    return Conflict(
        "If-Match: the post has changed since that version",
        [{"field": "If-Match", "reason": "stale", "currentVersion": version}],
    )


def history(
    caller_id: str, post_id: str, limit: int, cursor: str | None
) -> db.Page[PostVersionOut]:
    """The earlier versions of a post the caller may see, oldest first (one Query after the
    post's read)."""
    seen = access.seen_post(caller_id, post_id)
    page = db.get_store().query_page(
        keys.post_pk(seen.post.post_id),
        sk_prefix=keys.VERSION_PREFIX,
        limit=limit,
        cursor=cursor,
        newest_first=False,
        model=PostVersion,
    )
    return page.map(
        lambda items: [
            PostVersionOut(
                version=v.version,
                caption=v.caption,
                media=[_media_view(m, seen.restricted) for m in v.media],
                visibility=v.visibility,
                sensitive=v.sensitive,
                spoiler_text=v.spoiler_text,
                edited_at=v.made_at,
            )
            for v in items
        ]
    )


# Bookmarks -------------------------------------------------------------------------------------
def bookmark(caller_id: str, post_id: str) -> BookmarkOut:
    """Save a post the caller can see (idempotent)."""
    post = access.visible_post(caller_id, post_id)
    with contextlib.suppress(Conflict):  # saved already: it keeps its place in the list
        db.get_store().put(
            Bookmark(
                post_id=post.post_id,
                user_id=caller_id,
                bookmark_id=new_id(),
                created_at=clock.now(),
            ),
            condition="attribute_not_exists(PK)",
        )
    return BookmarkOut(bookmarked=True)


def unbookmark(caller_id: str, post_id: str) -> BookmarkOut:
    """Unsave a post (idempotent; also one the caller can no longer see)."""
    post = access.find_post(post_id)
    db.get_store().delete(Bookmark.key_of(post.post_id, caller_id))
    return BookmarkOut(bookmarked=False)


def bookmarks(caller_id: str, limit: int, cursor: str | None) -> db.Page[PostOut]:
    """The caller's saved posts, newest saved first, those they can still see: one Query, one
    BatchGetItem of posts with the caller's likes and bookmarks, one of authors and edges."""
    page = db.get_store().query_page(
        keys.bookmarks_pk(caller_id), index=keys.GSI1, limit=limit, cursor=cursor, model=Bookmark
    )
    hidden = relations.viewer().hidden
    found, mine = posts_and_likes(caller_id, [b.post_id for b in page.items])
    return db.Page(
        render(caller_id, [p for p in found if p.author_id not in hidden], mine),
        page.next_cursor,
    )


def delete_post(caller: Identity, post_id: str) -> None:
    """The author, or a moderator, deletes a post; its likes, comments, hashtags, feed copies,
    notifications and media go in the background (a job)."""
    post = access.visible_post(caller.user_id, post_id, moderator=caller.is_moderator)
    moderator = caller.is_moderator
    if post.author_id != caller.user_id and not moderator:
        raise Forbidden("only the author or a moderator can delete a post")
    db.get_store().transact_write(
        [
            db.tx_delete(post.key, "attribute_exists(PK)", on_fail=NotFound(_NOT_FOUND)),
            db.tx_update(
                Profile.key_of(post.author_id),
                "ADD postCount :minus",
                "attribute_exists(PK)",
                values={":minus": -1},
            ),
            tasks.job_op(tasks.DELETE_POST, post.author_id, post=post.model_dump(by_alias=True)),
        ]
    )
    if post.author_id != caller.user_id:
        moderation.record(caller.user_id, "delete_post", post_id, author=post.author_id)


def purge_post(post: Post, spend: Any) -> None:
    """Remove everything that hangs on a deleted post (idempotent; ``spend`` charges the
    job's budget per step)."""
    store = db.get_store()
    partition = keys.post_pk(post.post_id)
    for prefix in (
        keys.LIKE_PREFIX,
        keys.COMMENT_PREFIX,
        keys.REPLY_PREFIX,
        keys.REPORT_PREFIX,
        keys.BOOKMARK_PREFIX,
        keys.VERSION_PREFIX,
    ):
        store.delete_listed(partition, sk_prefix=prefix, before_page=spend)
    # Reports on it, and its open case, go; a resolved case stays as the moderators' record.
    reported = keys.reported_pk("post", post.post_id)
    store.delete_listed(reported, sk_prefix=keys.REPORT_PREFIX, before_page=spend)
    spend()
    store.delete(ReportCase.open_key("post", post.post_id))
    if post.visibility == "public" and post.hashtags:
        # the counts and entries go together, once (a rerun finds the entries gone)
        listed = store.batch_get([HashtagEntry.key_of(t, post.post_id) for t in post.hashtags])
        for tag in post.hashtags:
            if HashtagEntry.key_of(tag, post.post_id) in listed:
                with contextlib.suppress(NotFound):
                    store.transact_write(
                        [
                            db.tx_delete(
                                HashtagEntry.key_of(tag, post.post_id),
                                "attribute_exists(PK)",
                                on_fail=NotFound("gone"),
                            ),
                            _tag_count(tag, -1),
                        ]
                    )
    store.batch_write(
        deletes=[HashtagEntry.key_of(t, post.post_id) for t in post.hashtags]
        + [TimelineEntry.key_of(post.author_id, post.post_id), post.key]
    )
    cursor = None
    while True:  # feed copies: the author's followers
        spend()
        page = store.query_page(
            keys.followers_pk(post.author_id),
            index=keys.GSI1,
            limit=100,
            cursor=cursor,
            model=Follow,
        )
        store.batch_write(
            deletes=[TimelineEntry.key_of(e.follower_id, post.post_id) for e in page.items]
        )
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    store.delete_listed(keys.post_activity_pk(post.post_id), index=keys.GSI1, before_page=spend)
    for entry in post.media:
        spend()
        with contextlib.suppress(NotFound):  # purged by an earlier run
            media.purge(media.get_media(entry["mediaId"]))


# Reading ---------------------------------------------------------------------------------------


def get_post(caller_id: str, post_id: str, *, moderator: bool = False) -> PostOut:
    """A post the caller may see (a moderator sees every post, to act on reports): two
    requests, the post and one BatchGetItem of its author, the edge, the blocks and the
    caller's like and bookmark."""
    seen = access.seen_post(
        caller_id, post_id, moderator=moderator, extra=_mine_keys(caller_id, [post_id])
    )
    if seen.author is None:  # gone (a moderator may still open the post of a deleted author)
        raise NotFound(_NOT_FOUND)
    mine = _mine_in(seen.found, caller_id, [post_id])
    return _render_one(
        seen.post,
        users.summary_of(seen.author),
        post_id in mine.liked,
        restricted=seen.restricted,
        bookmarked=post_id in mine.bookmarked,
    )


class Mine(NamedTuple):
    """Which posts of a page the caller likes and has saved."""

    liked: set[str]
    bookmarked: set[str]


def render(
    caller_id: str,
    posts: list[Post],
    mine: Mine | None = None,
    *,
    public_only: bool = False,
) -> list[PostOut]:
    """API views of the ``posts`` the caller may see now: one BatchGetItem of the authors and
    of the caller's follow edges to them (and one of the caller's likes and bookmarks unless
    ``mine`` is given). Left out: posts of authors who are gone or hidden from the caller, and
    followers-only posts or private accounts' posts of authors the caller does not follow now
    (a timeline keeps them). ``public_only`` (explore, hashtag search) lists public posts of
    public accounts only, and reads no edges."""
    if not posts:
        return []
    if mine is None:
        mine = _mine(caller_id, [p.post_id for p in posts])
    if public_only:
        posts = [p for p in posts if p.visibility == "public"]
    others = {p.author_id for p in posts if p.author_id != caller_id}
    authors, followed = users.summaries_and_follows(
        caller_id, [p.author_id for p in posts], () if public_only else others
    )
    views = []
    for p in posts:
        author = authors.get(p.author_id)
        if author is None:
            continue
        if public_only and author.private:
            continue
        restricted = p.visibility == "followers" or author.private
        if restricted and p.author_id in others and p.author_id not in followed:
            continue
        views.append(
            _render_one(
                p,
                author,
                p.post_id in mine.liked,
                restricted=restricted,
                bookmarked=p.post_id in mine.bookmarked,
            )
        )
    return views


def _mine(caller_id: str, post_ids: list[str]) -> Mine:
    """The caller's likes and bookmarks among ``post_ids``: one BatchGetItem."""
    return _mine_in(db.get_store().batch_get(_mine_keys(caller_id, post_ids)), caller_id, post_ids)


def _mine_keys(caller_id: str, post_ids: list[str]) -> list[ItemKey]:
    return [Like.key_of(p, caller_id) for p in post_ids] + [
        Bookmark.key_of(p, caller_id) for p in post_ids
    ]


def _mine_in(found: Mapping[tuple[str, str], Any], caller_id: str, post_ids: list[str]) -> Mine:
    return Mine(
        {p for p in post_ids if Like.key_of(p, caller_id) in found},
        {p for p in post_ids if Bookmark.key_of(p, caller_id) in found},
    )


def _media_view(m: dict[str, Any], restricted: bool) -> PostMediaOut:
    return PostMediaOut(
        media_id=m["mediaId"],
        width=m["width"],
        height=m["height"],
        blurhash=m["blurhash"],
        renditions=Renditions(
            **{n: media.rendition_url(k, restricted=restricted) for n, k in m["keys"].items()}
        ),
        description=m.get("description"),
        focus=m.get("focus"),
    )


def _render_one(
    post: Post, author: UserSummary, liked: bool, *, restricted: bool, bookmarked: bool = False
) -> PostOut:
    return PostOut(
        post_id=post.post_id,
        author=author,
        caption=post.caption,
        hashtags=post.hashtags,
        mentions=[MentionOut(user_id=m["userId"], username=m["username"]) for m in post.mentions],
        media=[_media_view(m, restricted) for m in post.media],
        visibility=post.visibility,
        sensitive=post.sensitive,
        spoiler_text=post.spoiler_text,
        like_count=post.like_count,
        comment_count=post.comment_count,
        liked_by_me=liked,
        bookmarked_by_me=bookmarked,
        version=post.version,
        created_at=post.created_at,
        edited_at=post.edited_at,
    )


def posts_and_likes(caller_id: str, post_ids: list[str]) -> tuple[list[Post], Mine]:
    """Posts by id, in that order, and which of them the caller likes and has saved: one
    BatchGetItem."""
    wanted = [Post.key_of(p) for p in post_ids] + _mine_keys(caller_id, post_ids)
    found = db.get_store().batch_get(wanted)
    posts = [p for p in (found.get(Post.key_of(i)) for i in post_ids) if isinstance(p, Post)]
    return posts, _mine_in(found, caller_id, post_ids)


def user_posts(caller_id: str, handle: str, limit: int, cursor: str | None) -> db.Page[PostOut]:
    """A user's posts, newest first (followers-only ones for followers and the author); a 404
    when either of them blocks the other or the account is gone, a 403 (``private_account``)
    for a private account's outsiders. Three requests: the handle, the Query of the posts, then
    one BatchGetItem of the author's profile, the caller's edge to them, the blocks either way
    and the caller's likes and bookmarks of the page (the Query is spent on a refusal)."""
    user_id = users.user_id_for(handle)
    page = db.get_store().query_page(
        keys.user_posts_pk(user_id), index=keys.GSI1, limit=limit, cursor=cursor, model=Post
    )
    own = caller_id == user_id
    profile_key, edge = Profile.key_of(user_id), Follow.key_of(caller_id, user_id)
    between = [] if own else [edge, *relations.keys_between(caller_id, user_id)]
    ids = [p.post_id for p in page.items]
    found = db.get_store().batch_get([profile_key, *between, *_mine_keys(caller_id, ids)])
    author = found.get(profile_key)
    if not isinstance(author, Profile) or not accounts.shown(author):
        raise NotFound(users.USER_NOT_FOUND)
    if not own and relations.between(caller_id, user_id, found).hidden:
        raise NotFound(users.USER_NOT_FOUND)
    may_see_all = own or edge in found
    if author.private and not may_see_all:
        raise access.private_account()
    mine = _mine_in(found, caller_id, ids)
    summary = users.summary_of(author)
    return db.Page(
        [
            _render_one(
                p,
                summary,
                p.post_id in mine.liked,
                restricted=p.visibility == "followers" or author.private,
                bookmarked=p.post_id in mine.bookmarked,
            )
            for p in page.items
            if may_see_all or p.visibility == "public"
        ],
        page.next_cursor,
    )


def valid_tag(tag: str) -> str:
    """``tag`` (a leading ``#`` taken off) in the form hashtags are kept; 400 otherwise. A
    percent-encoded path parameter is decoded first (API Gateway decodes path parameters,
    chalice local does not; ``%`` is in no tag)."""
    tag = normal_tag(urllib.parse.unquote(tag).removeprefix("#"))
    folded = keys.fold(tag)
    if not _tag_text(tag) or not folded or "#" in folded:
        raise Invalid(
            "tag: letters, digits or _ (without #)", [{"field": "tag", "reason": "format"}]
        )
    return tag


def _tag_count(tag: str, delta: int) -> db.TxOp:
    """The step that moves a hashtag's post count (with its entry)."""
    return db.tx_update(
        TagStats.key_of(tag),
        "ADD postCount :d SET tag = if_not_exists(tag, :tag), #e = :kind",
        values={":d": delta, ":tag": tag, ":kind": TagStats.KIND},
        names={"#e": ENTITY_ATTRIBUTE},
    )


def search_tag(caller_id: str, tag: str, limit: int, cursor: str | None) -> db.Page[PostOut]:
    """Public posts with ``tag``, newest first."""
    tag = valid_tag(tag)
    page = db.get_store().query_page(
        keys.hashtag_pk(tag), limit=limit, cursor=cursor, model=HashtagEntry
    )
    hidden = relations.viewer().hidden
    wanted = [i.post_id for i in page.items if i.author_id not in hidden]
    posts, mine = posts_and_likes(caller_id, wanted)
    return db.Page(render(caller_id, posts, mine, public_only=True), page.next_cursor)
