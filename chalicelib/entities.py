"""The entity layer: one typed class per kind of stored item.

Each entity owns its keys (built with ``keys``), turns itself into an item (``to_item``) and back
(``from_item``), and writes an ``entity`` attribute naming its kind, so readers (the stream router
above all) dispatch on the type, never on key text. Items written before that attribute existed
are recognised from their keys (``keys.kind_of``), in ``decode`` only.

Attribute names are the API's camelCase (``followerCount``); key and index attributes are never
fields: they are derived from the fields, and stripped when an item is read. ``db.Store`` takes
and returns these classes, never raw items.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, Literal, NamedTuple, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chalicelib import clock, keys
from chalicelib.ids import id_time
from chalicelib.models import (
    ActivityType,
    MeOut,
    PublicProfileOut,
    ReportCategory,
    Resolution,
    UserSummary,
)

ENTITY_ATTRIBUTE = "entity"
E = TypeVar("E", bound="Entity")


class ItemKey(NamedTuple):
    """The primary key of an item: (PK, SK)."""

    pk: str
    sk: str


def plain(value: Any) -> Any:
    """A DynamoDB value as plain JSON-ready Python (Decimal → int/float, sets → sorted lists)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return value


def attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's own attributes as plain Python: no key, index or ``entity`` attribute."""
    skip = keys.KEY_ATTRIBUTES | {ENTITY_ATTRIBUTE}
    return {k: plain(v) for k, v in item.items() if k not in skip}


class Entity(BaseModel):
    """A stored item. Subclasses set ``KIND`` and implement ``key``; ``index_keys`` adds the
    GSI attributes the item is listed under."""

    # defer_build: validators are built on first use, not at import (cold start)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True
    )

    KIND: ClassVar[str] = ""
    REGISTRY: ClassVar[dict[str, type[Entity]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.KIND:
            Entity.REGISTRY[cls.KIND] = cls

    @property
    def key(self) -> ItemKey:
        raise NotImplementedError

    def index_keys(self) -> dict[str, str]:
        """The GSI key attributes of this item (none by default)."""
        return {}

    def to_item(self) -> dict[str, Any]:
        """The item as written: keys, index keys, ``entity`` and the fields (None left out)."""
        pk, sk = self.key
        return {
            keys.PK: pk,
            keys.SK: sk,
            **self.index_keys(),
            ENTITY_ATTRIBUTE: self.KIND,
            **self.model_dump(by_alias=True, exclude_none=True),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Self:
        """The entity of a stored item (keys and index attributes stripped, Decimals gone)."""
        return cls.model_validate(attributes(item))


def kind_of(item: Mapping[str, Any]) -> str | None:
    """What an item (or a stream image) is: its ``entity`` attribute, or for items written
    before that attribute existed, what its key says."""
    kind = item.get(ENTITY_ATTRIBUTE)
    if isinstance(kind, str) and kind:
        return kind
    return keys.kind_of(str(item.get(keys.PK, "")), str(item.get(keys.SK, "")))


def decode(item: Mapping[str, Any]) -> Entity:
    """The entity of any stored item, by its kind; ValueError for an unknown kind."""
    kind = kind_of(item)
    cls = Entity.REGISTRY.get(kind or "")
    if cls is None:
        raise ValueError(f"unknown item kind at {item.get(keys.PK)!r}/{item.get(keys.SK)!r}")
    return cls.from_item(item)


# Users -----------------------------------------------------------------------------------------
class Profile(Entity):
    """A user's profile (``USER#<id>`` / ``PROFILE``); listed on the big-accounts index while
    the account is too big to fan out."""

    KIND = "profile"

    user_id: str
    username: str
    email: str
    name: str
    profile: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    avatar: str | None = None
    #: the avatar's rendition keys, kept with it so a summary carries its URLs without a read
    avatar_keys: dict[str, str] | None = None
    version: int = 1
    follower_count: int = 0
    following_count: int = 0
    post_count: int = 0
    created_at: str
    updated_at: str | None = None
    disabled: bool = False
    disabled_at: str | None = None
    disabled_by: str | None = None
    deleted_at: str | None = None
    deletion_job: str | None = None
    activity_read_up_to: str = ""
    #: a private account's posts are for it and its accepted followers; follows are requests
    private: bool = False
    #: False from sign-up until the e-mail is confirmed (absent on accounts made before: True)
    confirmed: bool = True
    #: ID tokens issued before this instant (epoch seconds) are refused: set by sign-out,
    #: password changes and resets; ``revoked_session`` (the signing-out session's
    #: ``origin_jti``) also covers that session's tokens issued within the same second
    tokens_valid_after: float | None = None
    revoked_session: str | None = None
    kept_session: str | None = None
    #: derived from the index keys when read; never an attribute of its own
    big_account: bool = Field(False, exclude=True)

    @staticmethod
    def key_of(user_id: str) -> ItemKey:
        return ItemKey(keys.user_pk(user_id), keys.PROFILE_SK)

    def me(self) -> MeOut:
        """The private view of this profile."""
        return MeOut.model_validate(self.model_dump(include=set(MeOut.model_fields)))

    def public(
        self,
        *,
        is_following: bool,
        is_followed_by: bool = False,
        requested: bool = False,
        blocking: bool = False,
        muting: bool = False,
    ) -> PublicProfileOut:
        """The view others get, with how the viewer stands to this account."""
        relation = {"is_following", "is_followed_by", "requested", "blocking", "muting"}
        fields = self.model_dump(include=set(PublicProfileOut.model_fields) - relation)
        return PublicProfileOut(
            **fields,
            is_following=is_following,
            is_followed_by=is_followed_by,
            requested=requested,
            blocking=blocking,
            muting=muting,
        )

    def summary(self) -> UserSummary:
        return UserSummary(
            user_id=self.user_id,
            username=self.username,
            name=self.name,
            avatar=self.avatar,
            private=self.private,
        )

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.user_id)

    def index_keys(self) -> dict[str, str]:
        if not self.confirmed:
            return {
                keys.GSI3PK: keys.UNCONFIRMED_PK,
                keys.GSI3SK: keys.unconfirmed_sk(self.created_at, self.user_id),
            }
        if not self.big_account:
            return {}
        return {keys.GSI3PK: keys.BIG_ACCOUNTS_PK, keys.GSI3SK: self.user_id}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Self:
        profile = super().from_item(item)
        profile.big_account = item.get(keys.GSI3PK) == keys.BIG_ACCOUNTS_PK
        return profile


class Handle(Entity):
    """A handle's reservation (``HANDLE#<folded>``): pending while its sign-up runs (with a
    TTL), then active and bound to a user, or deleting with the account."""

    KIND = "handle"

    handle: str
    status: Literal["pending", "active", "deleting"]
    reservation: str | None = None
    reserved_at: int | None = None
    user_id: str | None = None
    ttl: int | None = None

    @staticmethod
    def key_of(handle: str) -> ItemKey:
        return ItemKey(keys.handle_pk(handle), keys.HANDLE_SK)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.handle)


class SearchEntry(Entity):
    """One term a user is found by (under the user; listed by the term's first letters)."""

    KIND = "search"

    user_id: str
    term: str | None = None  # None on entries written before it was stored

    @staticmethod
    def key_of(user_id: str, term: str) -> ItemKey:
        return ItemKey(keys.user_pk(user_id), keys.search_item_sk(term))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.user_id, self.term or "")

    def index_keys(self) -> dict[str, str]:
        term = self.term or ""
        return {keys.GSI1PK: keys.search_pk(term), keys.GSI1SK: keys.search_sk(term, self.user_id)}


class Follow(Entity):
    """A follow edge, under the follower, listed on both sides' indexes, newest first."""

    KIND = "follow"

    follower_id: str
    followee_id: str
    edge_id: str
    created_at: str
    #: made by the followee accepting a request (the follower is told: ``follow_accepted``)
    accepted: bool = False

    @staticmethod
    def key_of(follower_id: str, followee_id: str) -> ItemKey:
        return ItemKey(keys.user_pk(follower_id), keys.follow_sk(followee_id))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.follower_id, self.followee_id)

    def index_keys(self) -> dict[str, str]:
        return {
            keys.GSI1PK: keys.followers_pk(self.followee_id),
            keys.GSI1SK: keys.edge_sk(self.edge_id, self.follower_id),
            keys.GSI2PK: keys.following_pk(self.follower_id),
            keys.GSI2SK: keys.edge_sk(self.edge_id, self.followee_id),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Self:
        data = attributes(item)
        if "edgeId" not in data:  # edges written before the id was an attribute of its own
            data["edgeId"] = keys.edge_id_of(str(item.get(keys.GSI1SK, "")))
        return cls.model_validate(data)


class FollowRequest(Entity):
    """``requester_id`` asks to follow the private account ``owner_id``: under the owner (so the
    owner's profile read can say ``requested``), listed newest first for the owner (GSI1) and
    by requester (GSI2, removed with the requester's account)."""

    KIND = "follow_request"

    owner_id: str
    requester_id: str
    edge_id: str
    created_at: str

    @staticmethod
    def key_of(owner_id: str, requester_id: str) -> ItemKey:
        return ItemKey(keys.user_pk(owner_id), keys.follow_request_sk(requester_id))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.owner_id, self.requester_id)

    def index_keys(self) -> dict[str, str]:
        return {
            keys.GSI1PK: keys.follow_requests_pk(self.owner_id),
            keys.GSI1SK: keys.edge_sk(self.edge_id, self.requester_id),
            keys.GSI2PK: keys.requests_by_pk(self.requester_id),
            keys.GSI2SK: keys.edge_sk(self.edge_id, self.owner_id),
        }


class Block(Entity):
    """``blocker_id`` blocks ``blocked_id``: under the blocker, listed newest first on the
    blocker's blocks list. Written with its mirror (``BlockedBy``) in one transaction."""

    KIND = "block"

    blocker_id: str
    blocked_id: str
    edge_id: str
    created_at: str

    @staticmethod
    def key_of(blocker_id: str, blocked_id: str) -> ItemKey:
        return ItemKey(keys.user_pk(blocker_id), keys.relation_sk("BLOCKS", blocked_id))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.blocker_id, self.blocked_id)

    def index_keys(self) -> dict[str, str]:
        return {
            keys.GSI2PK: keys.relation_list_pk("BLOCKS", self.blocker_id),
            keys.GSI2SK: keys.edge_sk(self.edge_id, self.blocked_id),
        }


class BlockedBy(Entity):
    """The mirror of a block, under the blocked user: their one Query of relations also says
    who blocks them."""

    KIND = "blocked_by"

    blocker_id: str
    blocked_id: str
    created_at: str

    @staticmethod
    def key_of(blocked_id: str, blocker_id: str) -> ItemKey:
        return ItemKey(keys.user_pk(blocked_id), keys.relation_sk("BLOCKEDBY", blocker_id))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.blocked_id, self.blocker_id)


class Mute(Entity):
    """``muter_id`` mutes ``muted_id`` (until ``until``, epoch seconds, or for good); with
    ``notifications`` their likes, comments and follows notify the muter no more."""

    KIND = "mute"

    muter_id: str
    muted_id: str
    edge_id: str
    notifications: bool = True
    until: int | None = None
    created_at: str
    ttl: int | None = None  # removed some time after ``until`` (readers check ``until``)

    @staticmethod
    def key_of(muter_id: str, muted_id: str) -> ItemKey:
        return ItemKey(keys.user_pk(muter_id), keys.relation_sk("MUTES", muted_id))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.muter_id, self.muted_id)

    def index_keys(self) -> dict[str, str]:
        return {
            keys.GSI1PK: keys.muted_by_pk(self.muted_id),
            keys.GSI1SK: keys.edge_sk(self.edge_id, self.muter_id),
            keys.GSI2PK: keys.relation_list_pk("MUTES", self.muter_id),
            keys.GSI2SK: keys.edge_sk(self.edge_id, self.muted_id),
        }

    def active(self, now: float) -> bool:
        return self.until is None or self.until > now


class TagFollow(Entity):
    """``user_id`` follows the hashtag ``tag``: a relation (``REL#TAGS#``), so the viewer's one
    Query of relations carries it; listed newest first for the user (GSI2)."""

    KIND = "tag_follow"

    user_id: str
    tag: str
    edge_id: str
    created_at: str

    @staticmethod
    def key_of(user_id: str, tag: str) -> ItemKey:
        return ItemKey(keys.user_pk(user_id), keys.relation_sk("TAGS", keys.fold(tag)))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.user_id, self.tag)

    def index_keys(self) -> dict[str, str]:
        return {
            keys.GSI2PK: keys.relation_list_pk("TAGS", self.user_id),
            keys.GSI2SK: keys.edge_sk(self.edge_id, keys.fold(self.tag)),
        }


class TagStats(Entity):
    """How many public posts carry a hashtag now (moved with its entries)."""

    KIND = "tag_stats"

    tag: str
    post_count: int = 0

    @staticmethod
    def key_of(tag: str) -> ItemKey:
        return ItemKey(keys.tag_stats_pk(tag), keys.TAG_STATS_SK)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.tag)


# Media and posts -------------------------------------------------------------------------------
MediaStatus = Literal["pending", "ready", "rejected"]


class Media(Entity):
    """An upload and its renditions. Listed under its owner by status, and while it waits for
    cleanup (pending, or ready but used by nothing) on the media-state index."""

    KIND = "media"

    media_id: str
    owner_id: str
    purpose: Literal["post", "avatar"]
    status: MediaStatus
    content_type: str | None = None
    declared_length: int | None = None
    upload_key: str | None = None
    created_at: str | None = None
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None
    renditions: dict[str, dict[str, Any]] | None = None
    source_format: str | None = None
    processed_at: str | None = None
    reject_reason: str | None = None
    attached_to: str | None = None
    description: str | None = None  # alt text
    focus: dict[str, float] | None = None  # {x, y} in -1..1: the thumb's crop centre

    @staticmethod
    def key_of(media_id: str) -> ItemKey:
        return ItemKey(keys.media_pk(media_id), keys.MEDIA_SK)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.media_id)

    def index_keys(self) -> dict[str, str]:
        listed = {
            keys.GSI1PK: keys.user_media_pk(self.owner_id),
            keys.GSI1SK: keys.media_listing_sk(self.status, self.media_id),
        }
        state = {"pending": "pending", "ready": "unattached", "rejected": "rejected"}.get(
            self.status
        )
        if state is None or self.attached_to:
            return listed
        return listed | {keys.GSI3PK: keys.media_state_pk(state), keys.GSI3SK: self.media_id}


class UploadSlots(Entity):
    """How many uploads a user has asked for and not finished: the pending cap, kept by
    conditional ``ADD``s in the same transactions as the media items they count."""

    KIND = "upload_slots"

    pending: int = 0

    @staticmethod
    def key_of(user_id: str) -> ItemKey:
        return ItemKey(keys.upload_slots_pk(user_id), keys.SLOTS_SK)


class Post(Entity):
    """A post: media facts copied from the media items (immutable once ready), so a page of
    posts needs no media reads. Listed under its author, and on explore while public."""

    KIND = "post"

    post_id: str
    author_id: str
    caption: str
    hashtags: list[str] = Field(default_factory=list)
    media: list[dict[str, Any]] = Field(default_factory=list)
    visibility: Literal["public", "followers"]
    like_count: int = 0
    comment_count: int = 0
    created_at: str
    edited_at: str | None = None
    #: [{userId, username}] named in the caption, as resolved when it was written
    mentions: list[dict[str, str]] = Field(default_factory=list)
    sensitive: bool = False
    spoiler_text: str | None = None
    version: int = 1  # one more on every edit; earlier versions are ``PostVersion`` items

    @staticmethod
    def key_of(post_id: str) -> ItemKey:
        return ItemKey(keys.post_pk(post_id), keys.POST_SK)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.post_id)

    def index_keys(self) -> dict[str, str]:
        listed = {keys.GSI1PK: keys.user_posts_pk(self.author_id), keys.GSI1SK: self.post_id}
        if self.visibility != "public":
            return listed
        bucket = clock.hour_bucket(id_time(self.post_id))
        return listed | {keys.GSI2PK: keys.explore_pk(bucket), keys.GSI2SK: self.post_id}


class PostVersion(Entity):
    """An earlier version of a post (under it, oldest first), kept by each edit."""

    KIND = "post_version"

    post_id: str
    version: int
    caption: str
    media: list[dict[str, Any]] = Field(default_factory=list)
    visibility: Literal["public", "followers"]
    sensitive: bool = False
    spoiler_text: str | None = None
    made_at: str  # when this version was made (the post's creation for the first)

    @property
    def key(self) -> ItemKey:
        return ItemKey(keys.post_pk(self.post_id), keys.post_version_sk(self.version))


class Bookmark(Entity):
    """``user_id`` saved a post: under the post (so a page of posts reads the caller's
    bookmarks with its likes, and the post's deletion takes them), listed newest first for
    the user (GSI1)."""

    KIND = "bookmark"

    post_id: str
    user_id: str
    bookmark_id: str
    created_at: str

    @staticmethod
    def key_of(post_id: str, user_id: str) -> ItemKey:
        return ItemKey(keys.post_pk(post_id), keys.bookmark_sk(user_id))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.post_id, self.user_id)

    def index_keys(self) -> dict[str, str]:
        return {keys.GSI1PK: keys.bookmarks_pk(self.user_id), keys.GSI1SK: self.bookmark_id}


class Like(Entity):
    """A like, under the post (one per user), listed under the user who gave it."""

    KIND = "like"

    like_id: str
    post_id: str
    user_id: str
    author_id: str  # the post's author (notified)
    created_at: str

    @staticmethod
    def key_of(post_id: str, user_id: str) -> ItemKey:
        return ItemKey(keys.post_pk(post_id), keys.like_sk(user_id))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.post_id, self.user_id)

    def index_keys(self) -> dict[str, str]:
        return {keys.GSI1PK: keys.likes_by_pk(self.user_id), keys.GSI1SK: self.like_id}


class Comment(Entity):
    """A comment, under the post, listed under its author. A reply (``reply_to``: the top
    comment, one level deep) is kept under its top comment's replies (``REPLY#<top>#<id>``,
    oldest first) and found by its id on GSI3; a top comment counts its replies."""

    KIND = "comment"

    comment_id: str
    post_id: str
    author_id: str
    post_author_id: str
    text: str
    created_at: str
    mentions: list[dict[str, str]] = Field(default_factory=list)
    reply_to: str | None = None  # the top comment
    replied_user_id: str | None = None  # whose comment (or reply) this answers
    reply_count: int = 0

    @staticmethod
    def key_of(post_id: str, comment_id: str) -> ItemKey:
        return ItemKey(keys.post_pk(post_id), keys.comment_sk(comment_id))

    @property
    def key(self) -> ItemKey:
        if self.reply_to:
            return ItemKey(
                keys.post_pk(self.post_id), keys.reply_sk(self.reply_to, self.comment_id)
            )
        return self.key_of(self.post_id, self.comment_id)

    def index_keys(self) -> dict[str, str]:
        mine = {keys.GSI1PK: keys.comments_by_pk(self.author_id), keys.GSI1SK: self.comment_id}
        if not self.reply_to:
            return mine
        found = keys.reply_id_pk(self.post_id, self.comment_id)
        return mine | {keys.GSI3PK: found, keys.GSI3SK: found}


ReportTarget = Literal["post", "comment", "user"]


class Report(Entity):
    """One report filed by ``reporter_id`` on a target, in a case (one per reporter per case:
    a repeat adds nothing). Under the target's partition; listed under the reporter (removed
    with their account) and findable by its id (GSI3)."""

    KIND = "report"

    report_id: str
    case_id: str
    target_type: ReportTarget
    target_id: str
    reporter_id: str
    category: ReportCategory
    reason: str  # the v1 free text, or the details, or the category when neither was given
    details: str | None = None
    created_at: str

    @staticmethod
    def key_of(target_type: str, target_id: str, case_id: str, reporter_id: str) -> ItemKey:
        return ItemKey(
            keys.reported_pk(target_type, target_id), keys.filed_report_sk(case_id, reporter_id)
        )

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.target_type, self.target_id, self.case_id, self.reporter_id)

    def index_keys(self) -> dict[str, str]:
        return {
            keys.GSI2PK: keys.reports_by_pk(self.reporter_id),
            keys.GSI2SK: self.report_id,
            keys.GSI3PK: keys.report_id_pk(self.report_id),
            keys.GSI3SK: keys.report_id_pk(self.report_id),
        }


class ReportCase(Entity):
    """The reports on one target, grouped: open (``CASE#OPEN``, one at a time, listed on the
    open queue by its latest report) until a moderator resolves it, then kept as resolved
    (``CASE#<caseId>``, listed on the resolved queue). Its id is its first report's."""

    KIND = "report_case"

    case_id: str
    target_type: ReportTarget
    target_id: str
    post_id: str | None = None  # a post's id, or the post a comment is on
    owner_id: str  # who the target belongs to (the reported user themselves)
    status: Literal["open", "resolved"] = "open"
    report_count: int = 1
    latest_report_id: str
    latest_reporter_id: str
    latest_reason: str
    latest_category: ReportCategory
    latest_at: str
    created_at: str
    action: Resolution | None = None
    note: str | None = None
    resolved_by: str | None = None
    resolved_at: str | None = None

    @staticmethod
    def open_key(target_type: str, target_id: str) -> ItemKey:
        return ItemKey(keys.reported_pk(target_type, target_id), keys.OPEN_CASE_SK)

    @property
    def key(self) -> ItemKey:
        pk = keys.reported_pk(self.target_type, self.target_id)
        if self.status == "open":
            return ItemKey(pk, keys.OPEN_CASE_SK)
        return ItemKey(pk, keys.resolved_case_sk(self.case_id))

    def index_keys(self) -> dict[str, str]:
        when = self.latest_at if self.status == "open" else self.resolved_at or self.latest_at
        listed = {
            keys.GSI1PK: keys.report_queue_pk(self.status),
            keys.GSI1SK: f"{when}#{self.case_id}",
        }
        if self.status == "open":
            return listed
        # a resolved case is found by its id (its first report's) even once the reports are
        # gone with their post: resolving it again is a 409, not a 404
        found = keys.report_id_pk(self.case_id)
        return listed | {keys.GSI3PK: found, keys.GSI3SK: keys.resolved_case_sk(self.case_id)}


class TimelineEntry(Entity):
    """A post's reference in a follower's home timeline (expires by TTL)."""

    KIND = "timeline"

    owner_id: str | None = None  # None on entries written before it was stored
    post_id: str
    author_id: str
    ttl: int | None = None

    @staticmethod
    def key_of(owner_id: str, post_id: str) -> ItemKey:
        return ItemKey(keys.timeline_pk(owner_id), post_id)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.owner_id or "", self.post_id)


class HashtagEntry(Entity):
    """A public post's reference under one of its hashtags."""

    KIND = "hashtag"

    tag: str | None = None  # None on entries written before it was stored
    post_id: str
    author_id: str

    @staticmethod
    def key_of(tag: str, post_id: str) -> ItemKey:
        return ItemKey(keys.hashtag_pk(tag), post_id)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.tag or "", self.post_id)


# Jobs, activity, moderation, limits ------------------------------------------------------------
class Job(Entity):
    """A background job; its stream records drive it. Listed as pending until it finishes, and
    under its user."""

    KIND = "job"

    job_id: str
    kind: str
    user_id: str
    status: Literal["pending", "ready", "failed"] = "pending"
    created_at: str
    updated_at: str | None = None
    finished_at: str | None = None
    nudges: int = 0
    email: str | None = None  # account deletion
    handle: str | None = None  # account deletion
    post: dict[str, Any] | None = None  # post deletion: the post as it was
    cursor: str | None = None  # feed refill: the page of followers reached
    object_key: str | None = None  # export: the archive
    progress: dict[str, Any] | None = None  # export: the multipart upload reached so far
    ttl: int | None = None

    @staticmethod
    def key_of(job_id: str) -> ItemKey:
        return ItemKey(keys.job_pk(job_id), keys.JOB_SK)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.job_id)

    def index_keys(self) -> dict[str, str]:
        mine = {keys.GSI2PK: keys.user_jobs_pk(self.user_id), keys.GSI2SK: self.job_id}
        if self.status != "pending":
            return mine
        return mine | {keys.GSI1PK: keys.PENDING_JOBS_PK, keys.GSI1SK: self.job_id}


class Notification(Entity):
    """One notification of a user (expires by TTL); listed under the post it is about, so it
    goes with the post."""

    KIND = "notification"

    owner_id: str | None = None  # None on notifications written before it was stored
    activity_id: str | None = None  # likewise
    type: ActivityType
    actor_id: str
    created_at: str
    post_id: str | None = None
    comment_id: str | None = None
    ttl: int | None = None

    @staticmethod
    def key_of(owner_id: str, activity_id: str) -> ItemKey:
        return ItemKey(keys.activity_pk(owner_id), activity_id)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.owner_id or "", self.activity_id or "")

    def index_keys(self) -> dict[str, str]:
        activity_id = self.activity_id or ""
        by_actor = {keys.GSI2PK: keys.actor_activity_pk(self.actor_id), keys.GSI2SK: activity_id}
        if not self.post_id:
            return by_actor
        return by_actor | {
            keys.GSI1PK: keys.post_activity_pk(self.post_id),
            keys.GSI1SK: activity_id,
        }


class NotifiedMark(Entity):
    """That ``actor`` already notified ``owner`` of ``kind`` on ``target`` lately: a like
    toggled forty times, or a follow undone and redone, notifies once a window."""

    KIND = "notified"

    owner_id: str
    kind: str
    actor_id: str
    target: str
    ttl: int

    @property
    def key(self) -> ItemKey:
        return ItemKey(
            keys.notified_pk(self.owner_id), keys.notified_sk(self.kind, self.actor_id, self.target)
        )

    def index_keys(self) -> dict[str, str]:
        # listed with what the actor caused, so it goes with the actor's account, and a like's
        # with what is about the post, so it goes with the post
        by_actor = {keys.GSI2PK: keys.actor_activity_pk(self.actor_id), keys.GSI2SK: self.key.sk}
        if self.kind != "like":
            return by_actor
        return by_actor | {
            keys.GSI1PK: keys.post_activity_pk(self.target),
            keys.GSI1SK: self.key.sk,
        }


class ModerationEntry(Entity):
    """Who did what to whom and when, one partition per month."""

    KIND = "modlog"

    action_id: str
    actor_id: str
    action: str
    target: str
    details: dict[str, Any] = Field(default_factory=dict)
    created_at: str

    @property
    def key(self) -> ItemKey:
        return ItemKey(keys.moderation_log_pk(clock.month_bucket(self.created_at)), self.action_id)


class IdempotencyRecord(Entity):
    """The first answer to a create sent with an ``Idempotency-Key`` (expires by TTL)."""

    KIND = "idempotency"

    user_id: str | None = None  # None on records written before it was stored
    operation: str | None = None
    idempotency_key: str | None = None
    request_hash: str
    response: dict[str, Any]
    ttl: int | None = None

    @staticmethod
    def key_of(user_id: str, operation: str, idempotency_key: str) -> ItemKey:
        return ItemKey(
            keys.idempotency_pk(user_id, operation, idempotency_key), keys.IDEMPOTENCY_SK
        )

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.user_id or "", self.operation or "", self.idempotency_key or "")


class RateCounter(Entity):
    """Hits of one subject in one fixed window of one limit (expires by TTL after it). Only
    ever written by an atomic ``ADD`` (``ratelimit.hit``)."""

    KIND = "rate"

    hits: int = 0
    ttl: int | None = None

    @staticmethod
    def key_of(scope: str, subject: str, window_start: int) -> ItemKey:
        return ItemKey(keys.rate_limit_pk(scope, subject), keys.rate_window_sk(window_start))


# Real time and push ----------------------------------------------------------------------------
class Connection(Entity):
    """An open WebSocket connection (``WS#<id>`` / ``CONNECTION``): whose it is and the posts
    whose comments it watches. Expires by TTL after API Gateway's two-hour connection limit,
    in case its ``$disconnect`` never ran."""

    KIND = "ws_connection"

    connection_id: str
    user_id: str
    connected_at: str
    watching: list[str] = Field(default_factory=list)
    ttl: int

    @staticmethod
    def key_of(connection_id: str) -> ItemKey:
        return ItemKey(keys.connection_pk(connection_id), keys.CONNECTION_SK)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.connection_id)


class Presence(Entity):
    """The ids of a user's open connections, in one string set (``ADD``/``DELETE``), so a push
    to a user reads one item, and a page of followers one BatchGetItem."""

    KIND = "ws_presence"

    user_id: str
    connections: set[str] = Field(default_factory=set)
    ttl: int | None = None

    @staticmethod
    def key_of(user_id: str) -> ItemKey:
        return ItemKey(keys.presence_pk(user_id), keys.CONNECTIONS_SK)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.user_id)


class Watchers(Entity):
    """The connections watching a post's comments, as ``<userId>:<connectionId>`` strings."""

    KIND = "ws_watchers"

    post_id: str
    connections: set[str] = Field(default_factory=set)
    ttl: int | None = None

    @staticmethod
    def key_of(post_id: str) -> ItemKey:
        return ItemKey(keys.watchers_pk(post_id), keys.CONNECTIONS_SK)

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.post_id)


class PushDevice(Entity):
    """A phone registered for push: its SNS platform endpoint, under its owner's profile; the
    id is a digest of (platform, token), so registering twice writes the same item."""

    KIND = "push_device"

    user_id: str
    device_id: str
    platform: Literal["apns", "fcm"]
    token: str
    endpoint_arn: str
    created_at: str

    @staticmethod
    def key_of(user_id: str, device_id: str) -> ItemKey:
        return ItemKey(keys.user_pk(user_id), keys.push_device_sk(device_id))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.user_id, self.device_id)

    def index_keys(self) -> dict[str, str]:
        return {keys.GSI2PK: keys.push_token_pk(self.device_id), keys.GSI2SK: self.user_id}


class PushWindow(Entity):
    """One grouping window of pushes of ``kind`` about ``target`` to a user: the first event
    pushes and opens it; the others until ``ends_at`` only count in ``held``, and the first
    push after it names them ("Ana and 12 others liked your photo")."""

    KIND = "push_window"

    user_id: str
    kind: str
    target: str
    ends_at: int
    held: int = 0
    ttl: int

    @staticmethod
    def key_of(user_id: str, kind: str, target: str) -> ItemKey:
        return ItemKey(keys.push_window_pk(user_id), keys.push_window_sk(kind, target))

    @property
    def key(self) -> ItemKey:
        return self.key_of(self.user_id, self.kind, self.target)
