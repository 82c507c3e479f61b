"""Request and response models. They validate bodies and generate the OpenAPI document."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    StringConstraints,
    create_model,
)
from pydantic.alias_generators import to_camel

MAX_PAGE = 100  # ?limit= is 1..MAX_PAGE (out of range is a 400)
MAX_CURSOR_LENGTH = 2048


# Text rules ------------------------------------------------------------------------------------
# One validator per rule; each field type below composes the rules it needs, so every model that
# carries such text refuses the same things with the same message (a 400 naming the field).
#: C0 and C1 controls (NUL included) and DEL; "\n" and "\t" are allowed where text is multi-line
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MULTILINE_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: bidi embeddings/overrides (U+202A-U+202E) and isolates (U+2066-U+2069): they reorder what
#: follows them on screen, so a name or caption can display as something it does not contain
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
#: invisible characters that are not whitespace to str.isspace(): zero-width space, non-joiner,
#: joiner, word joiner, BOM, Mongolian vowel separator, Hangul fillers, braille blank
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u3164\uffa0\u115f\u1160\u2800")


def no_surrogates(value: str) -> str:
    """A lone surrogate (JSON allows ``"\\ud800"``) cannot be encoded as UTF-8: boto3 would fail
    on it and DynamoDB could not store it."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("must not contain lone surrogates (not valid Unicode text)")
    return value


def single_line(value: str) -> str:
    """No control characters at all (NUL, C0, C1, DEL)."""
    if _CONTROLS.search(value):
        raise ValueError("must not contain control characters")
    return value


def multi_line(value: str) -> str:
    """No control characters but line feed and tab (carriage returns are refused too: one way
    to end a line)."""
    if _MULTILINE_CONTROLS.search(value):
        raise ValueError("must not contain control characters other than newline and tab")
    return value


def no_bidi_controls(value: str) -> str:
    """No bidi embedding, override or isolate characters (U+202A-U+202E, U+2066-U+2069)."""
    if _BIDI_CONTROLS.search(value):
        raise ValueError("must not contain bidirectional control characters")
    return value


def visible(value: str) -> str:
    """At least one character that shows: not only whitespace, zero-width or format characters."""
    if all(c.isspace() or c in _INVISIBLE or unicodedata.category(c) == "Cf" for c in value):
        raise ValueError("must contain a visible character")
    return value


def handle_dots(value: str) -> str:
    """Instagram's rule: a handle neither starts nor ends with a dot and has no two dots in a row
    (so it is never only dots, and never looks like a file path or a domain)."""
    if value.startswith(".") or value.endswith(".") or ".." in value:
        raise ValueError("must not start or end with a dot or contain consecutive dots")
    return value


NoSurrogates = AfterValidator(no_surrogates)
SingleLine = AfterValidator(single_line)
MultiLine = AfterValidator(multi_line)
NoBidiControls = AfterValidator(no_bidi_controls)
Visible = AfterValidator(visible)
HandleDots = AfterValidator(handle_dots)

# The fields below list the rules after their length and pattern constraints (so those run
# first and their messages stay pydantic's own): one line of text (names, search terms) takes
# NoSurrogates, SingleLine, NoBidiControls; text that may span lines (captions, comments,
# reasons) takes MultiLine instead of SingleLine; an opaque secret or token (passwords, codes,
# sessions, cursors) takes NoSurrogates and SingleLine; names and comments add Visible.

# Field types shared by requests -----------------------------------------------------------------
#: an e-mail address; it is the Cognito username too, and Cognito's UsernameType is at most 128
#: characters of letters, marks, symbols, numbers and punctuation (so no controls or spaces)
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=128, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
    NoSurrogates,
    SingleLine,
    NoBidiControls,
]
#: a handle: 3-30 letters, digits, ``_`` or ``.`` (no dot first, last or twice in a row);
#: unique case-insensitively. ASCII only, so ``\d`` and ``\w`` are not used (they match more).
Handle = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.]{3,30}$"), HandleDots]
# Cognito's own limits (botocore's service model, cognito-idp): Password 1-256 non-control
# characters; ConfirmationCode 1-2048 of [\S]+ (ours are 6 digits, 64 is plenty); Session
# 20-2048; AccessToken/RefreshToken [A-Za-z0-9-_=.]+. botocore checks only minimum lengths
# before sending, so these are enforced here, before any call.
Password = Annotated[str, StringConstraints(min_length=1, max_length=256), NoSurrogates, SingleLine]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\S{1,64}$"), NoSurrogates, SingleLine
]
TotpCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]
Token = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_=.-]{1,8192}$")
]
Session = Annotated[
    str, StringConstraints(min_length=20, max_length=2048), NoSurrogates, SingleLine
]
#: an id the app made (ULIDs, 26 characters); 64 leaves room, the alphabet keeps keys clean
MediaId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    NoSurrogates,
    SingleLine,
    NoBidiControls,
    Visible,
]


#: a handle as a path names it: the alphabet of every handle ever issued (before the dot rules too)
HandleRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.]{1,30}$")]


class PathParams(BaseModel):
    """Every path parameter of the API, by the name the routes give it. A value outside its
    alphabet cannot name anything: 404, never a key built from it. API Gateway percent-decodes
    path parameters (a full-width ``#`` arrives as ``\uff03``), chalice local does not
    (``%EF%BC%83``); both are outside the alphabet."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    username: HandleRef | None = None
    postId: MediaId | None = None  # the names the routes' paths use
    mediaId: MediaId | None = None
    commentId: MediaId | None = None
    reportId: MediaId | None = None
    deviceId: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None
    #: any text: ``posts.valid_tag`` answers a malformed tag with a 400 naming ``tag``
    tag: Annotated[str, StringConstraints(min_length=1, max_length=400)] | None = None


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown request fields are refused."""

    # defer_build: validators are built on first use, not at import (cold start: -70 ms)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def json_text(self) -> str:
        """The JSON answer, serialised once by pydantic (its compiled serialiser; no dict of
        the answer is built first)."""
        return self.model_dump_json(by_alias=True)


def page_of(item: type[BaseModel], name: str) -> type[ApiModel]:
    """The response model of a list of ``item``: ``{"items": [...], "nextCursor": ...}``."""
    page: type[ApiModel] = create_model(
        name,
        __base__=ApiModel,
        items=(list[item], ...),  # type: ignore[valid-type]  # a model made at run time
        next_cursor=(str | None, ...),
    )
    return page


class ErrorOut(BaseModel):
    """Chalice's error envelope, with machine-readable details where they help."""

    Code: str = Field(examples=["BadRequestError"])
    Message: str = Field(examples=["caption: at most 2200 characters"])
    Details: list[dict[str, Any]] | None = None


class HealthOut(ApiModel):
    status: Literal["ok"]
    version: str


class SessionOut(ApiModel):
    """What the API knows of the caller from the ID token alone."""

    user_id: str
    username: str | None
    email: str | None
    groups: list[str]
    expires_at: str


# Auth ------------------------------------------------------------------------------------------
class SignupIn(ApiModel):
    email: Email
    password: Password
    username: Handle
    name: DisplayName


class UsernameIn(ApiModel):
    username: Handle


class SignupOut(ApiModel):
    user_id: str
    username: str
    confirmed: bool


class ConfirmIn(ApiModel):
    email: Email
    code: Code


class ConfirmOut(ApiModel):
    confirmed: Literal[True] = True


class EmailIn(ApiModel):
    email: Email


class AcceptedOut(ApiModel):
    """A request taken; the answer does not depend on whether the account exists."""

    accepted: Literal[True] = True


class LoginIn(ApiModel):
    email: Email
    password: Password


class TokensOut(ApiModel):
    id_token: str
    access_token: str
    refresh_token: str | None = Field(None, description="absent on refresh")
    expires_in: int

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def json_text(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


class ChallengeOut(ApiModel):
    challenge: Literal["SOFTWARE_TOKEN_MFA"]
    session: str


class LoginOut(RootModel[TokensOut | ChallengeOut]):
    """Tokens, or the MFA challenge to answer at /auth/mfa/challenge."""


class MfaChallengeIn(ApiModel):
    email: Email
    session: Session
    code: TotpCode


class RefreshIn(ApiModel):
    refresh_token: Token


class ResetPasswordIn(ApiModel):
    email: Email
    code: Code
    new_password: Password


class ChangePasswordIn(ApiModel):
    access_token: Token
    old_password: Password
    new_password: Password


class AccessTokenIn(ApiModel):
    access_token: Token


class MfaSetupOut(ApiModel):
    secret: str
    otpauth_uri: str


class MfaVerifyIn(ApiModel):
    access_token: Token
    code: TotpCode


class MfaStatusOut(ApiModel):
    mfa_enabled: bool


class PasswordChangedOut(ApiModel):
    password_changed: Literal[True] = True


class DisabledOut(ApiModel):
    user_id: str
    username: str
    disabled: bool


# Users -----------------------------------------------------------------------------------------
class MeOut(ApiModel):
    """The caller's own profile (private view: e-mail and settings included)."""

    user_id: str
    username: str
    email: str
    name: str
    profile: dict[str, Any]
    settings: dict[str, Any]
    avatar: str | None
    avatar_urls: Renditions | None = None  # the avatar's rendition URLs (same for an hour)
    version: int
    follower_count: int
    following_count: int
    post_count: int
    private: bool = False  # only the owner and accepted followers see the posts
    created_at: str


class PublicProfileOut(ApiModel):
    """Anyone's profile as others see it: never e-mail or settings."""

    user_id: str
    username: str
    name: str
    profile: dict[str, Any]
    avatar: str | None
    avatar_urls: Renditions | None = None
    follower_count: int
    following_count: int
    post_count: int
    is_following: bool
    is_followed_by: bool = False
    requested: bool = False  # the caller's follow request waits for this (private) account
    blocking: bool = False  # the caller blocks this account
    muting: bool = False  # the caller mutes this account
    private: bool = False  # posts are for the account and its accepted followers only
    created_at: str


class UserSummary(ApiModel):
    """A user in a list (search results, followers, likers)."""

    user_id: str
    username: str
    name: str
    avatar: str | None
    avatar_urls: Renditions | None = None  # inline: a page of authors needs no media read
    private: bool = False


UserPage = page_of(UserSummary, "UserPage")


class FollowOut(ApiModel):
    """Where the caller stands after following or unfollowing: ``requested`` while a request to
    a private account waits for its owner."""

    following: bool
    requested: bool = False
    follower_count: int


class FollowRequestOut(ApiModel):
    """A follow request waiting for the caller (the owner of a private account)."""

    user: UserSummary
    created_at: str


FollowRequestPage = page_of(FollowRequestOut, "FollowRequestPage")


class FollowerOut(ApiModel):
    """The caller's follower after accepting a request."""

    follower: bool
    follower_count: int


class MePatch(ApiModel):
    """A JSON merge patch (RFC 7396) of the caller's profile. ``avatar`` (an extension) is the
    id of a ready avatar upload of the caller's, or null to remove it."""

    name: DisplayName | None = None
    profile: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    avatar: MediaId | None = None
    #: true: new followers need the owner's approval and posts are for followers only
    private: StrictBool | None = None


def json_integer(value: Any) -> Any:
    """A JSON number without a fraction: ``"1000"``, ``1000.0`` and ``true`` are refused (a
    client sending them has a bug that a lenient server would hide)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer (a JSON number without a fraction)")
    return value


def json_number(value: Any) -> Any:
    """A JSON number: a string or a boolean is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


def query_integer(value: Any) -> Any:
    """A query-string integer: ASCII digits only (``10.0``, `` 10``, ``1e1`` are refused)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number written with digits 0-9")
    return value


JsonInt = Annotated[int, BeforeValidator(json_integer)]
JsonNumber = Annotated[float, BeforeValidator(json_number)]
QueryInt = Annotated[int, BeforeValidator(query_integer)]


Cursor = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_CURSOR_LENGTH), NoSurrogates, SingleLine
]


class PageQuery(ApiModel):
    """``?limit=&cursor=`` of every list."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True
    )

    limit: QueryInt = Field(20, ge=1, le=MAX_PAGE)
    cursor: Cursor | None = None


class SearchQuery(PageQuery):
    q: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=2, max_length=30),
        NoSurrogates,
        SingleLine,
        NoBidiControls,
    ]


class ExportOut(ApiModel):
    """A data-export job; ``url`` (presigned, short-lived) once it is ready."""

    job_id: str
    status: Literal["pending", "ready", "failed"]
    created_at: str
    url: str | None = None
    expires_in: int | None = None


class DeletionOut(ApiModel):
    user_id: str
    status: Literal["deleting"]


# Media -----------------------------------------------------------------------------------------
MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")


AltText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1500),
    NoSurrogates,
    MultiLine,
    NoBidiControls,
]


class Focus(ApiModel):
    """The focal point the square ``thumb`` is cropped around: x, y from -1 (left, bottom)
    to 1 (right, top), 0,0 the centre (Mastodon's convention)."""

    x: JsonNumber = Field(ge=-1, le=1, allow_inf_nan=False)
    y: JsonNumber = Field(ge=-1, le=1, allow_inf_nan=False)


class MediaRequestIn(ApiModel):
    content_type: Annotated[
        str,
        StringConstraints(strip_whitespace=True, to_lower=True, max_length=100),
        NoSurrogates,
        SingleLine,
        NoBidiControls,
    ]
    content_length: JsonInt = Field(gt=0)
    purpose: Literal["post", "avatar"]
    description: AltText | None = None
    focus: Focus | None = None


class MediaPatchIn(ApiModel):
    """Alt text and focal point of a media item (also once its post is published); null
    removes one."""

    description: AltText | None = None
    focus: Focus | None = None


class UploadForm(ApiModel):
    """A presigned POST: send ``fields`` and then the file as multipart/form-data to ``url``."""

    url: str
    fields: dict[str, str]


class MediaUploadOut(ApiModel):
    media_id: str
    upload: UploadForm
    expires_in: int


class Renditions(ApiModel):
    thumb: str
    small: str
    large: str


class MediaOut(ApiModel):
    media_id: str
    status: Literal["pending", "ready", "rejected"]
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None
    renditions: Renditions | None = None
    reject_reason: str | None = None
    description: str | None = None
    focus: Focus | None = None


# Posts, interactions, activity, moderation -----------------------------------------------------
Caption = Annotated[
    str, StringConstraints(max_length=2200), NoSurrogates, MultiLine, NoBidiControls
]


SpoilerText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    NoSurrogates,
    SingleLine,
    NoBidiControls,
]
Visibility = Literal["public", "followers"]


class PostIn(ApiModel):
    caption: Caption = ""
    media_ids: list[MediaId] = Field(default_factory=list, max_length=10)
    visibility: Visibility = "public"
    #: clients show the blurhash until tapped; ``spoilerText`` says why
    sensitive: StrictBool = False
    spoiler_text: SpoilerText | None = None


class PostPatchIn(ApiModel):
    """An edit of a post (author): any of its fields; those left out stay. ``mediaIds`` is the
    whole new list (add, remove, reorder; the same rules as creation)."""

    caption: Caption | None = None
    media_ids: list[MediaId] | None = Field(None, max_length=10)
    visibility: Visibility | None = None
    sensitive: StrictBool | None = None
    spoiler_text: SpoilerText | None = None


class MentionOut(ApiModel):
    """A user named ``@handle`` in a text, as resolved when it was written."""

    user_id: str
    username: str


class PostMediaOut(ApiModel):
    media_id: str
    width: int
    height: int
    blurhash: str | None
    renditions: Renditions
    description: str | None = None
    focus: Focus | None = None


class PostOut(ApiModel):
    post_id: str
    author: UserSummary
    caption: str
    hashtags: list[str]
    mentions: list[MentionOut] = Field(default_factory=list)
    media: list[PostMediaOut]
    visibility: Visibility
    sensitive: bool = False
    spoiler_text: str | None = None
    like_count: int
    comment_count: int
    liked_by_me: bool
    bookmarked_by_me: bool = False
    version: int = 1
    created_at: str
    edited_at: str | None


class PostVersionOut(ApiModel):
    """An earlier version of a post, as it was until the edit that followed it."""

    version: int
    caption: str
    media: list[PostMediaOut]
    visibility: Visibility
    sensitive: bool
    spoiler_text: str | None = None
    edited_at: str  # when this version was made (the post's creation for the first)


PostVersionPage = page_of(PostVersionOut, "PostVersionPage")


class BookmarkOut(ApiModel):
    bookmarked: bool


class TagFollowOut(ApiModel):
    following: bool


class FollowedTagOut(ApiModel):
    tag: str
    followed_at: str


FollowedTagPage = page_of(FollowedTagOut, "FollowedTagPage")


class TagOut(ApiModel):
    """A hashtag: how many public posts carry it now, and whether the caller follows it."""

    tag: str
    post_count: int
    following: bool


PostPage = page_of(PostOut, "PostPage")


class TagQuery(PageQuery):
    tag: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
        NoSurrogates,
        SingleLine,
        NoBidiControls,
    ]


class LikeOut(ApiModel):
    liked: bool
    like_count: int


class CommentIn(ApiModel):
    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
        NoSurrogates,
        MultiLine,
        NoBidiControls,
        Visible,
    ]
    #: a reply: the comment answered (a reply to a reply attaches to the same top comment)
    reply_to: MediaId | None = None


class CommentOut(ApiModel):
    comment_id: str
    post_id: str
    author: UserSummary
    text: str
    mentions: list[MentionOut] = Field(default_factory=list)
    reply_to: str | None = None  # the top comment, for a reply
    reply_count: int = 0  # a top comment's replies
    created_at: str


CommentPage = page_of(CommentOut, "CommentPage")


ActivityType = Literal[
    "like", "comment", "follow", "follow_request", "follow_accepted", "mention", "reply"
]


class ActivityOut(ApiModel):
    type: ActivityType
    actor: UserSummary
    post_id: str | None
    comment_id: str | None
    created_at: str
    read: bool


ActivityPage = page_of(ActivityOut, "ActivityPage")


#: how far ahead of this server's clock a client's "now" may be (clock skew)
MAX_CLOCK_SKEW = timedelta(minutes=5)


def real_instant(value: str) -> str:
    """A timestamp that exists (no month 13, Feb 30 or hour 25) and is not in the future beyond
    clock skew: a mark far ahead would hide every notification still to come."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("not a real date and time") from None
    if moment > datetime.now(UTC) + MAX_CLOCK_SKEW:
        raise ValueError("must not be in the future")
    return value


class ReadIn(ApiModel):
    up_to: Annotated[
        str,
        StringConstraints(
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
            r"(\.[0-9]{1,6})?Z$"
        ),
        AfterValidator(real_instant),
    ]


ReportText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    NoSurrogates,
    MultiLine,
    NoBidiControls,
    Visible,
]
Resolution = Literal["dismiss", "remove", "disable"]
ReportCategory = Literal[
    "spam", "harassment", "hate", "nudity", "violence", "self_harm", "illegal", "other"
]


class CategoryReportIn(ApiModel):
    """A report of a user or a comment: what is wrong (``category``) and optionally how."""

    category: ReportCategory
    details: ReportText | None = None


class ReportIn(ApiModel):
    """A report of a post: the v1 ``{reason}``, or ``{category, details?}`` (one of the two
    is required; a bare ``reason`` is filed as ``other``)."""

    reason: ReportText | None = None
    category: ReportCategory | None = None
    details: ReportText | None = None


class ReportTargetOut(ApiModel):
    """What a queue row is about: ``id`` is the post's, the comment's or the user's id;
    ``postId`` the post (of a comment too), ``username`` the reported user's handle now."""

    type: Literal["post", "comment", "user"]
    id: str
    post_id: str | None = None
    owner: UserSummary | None = None


class ReportOut(ApiModel):
    """One row of the moderation queue: every report on one target, grouped. ``reportId``
    (the case's first report) is what ``POST /admin/reports/{reportId}/resolve`` takes (the id
    of any report in the case works too); ``reporter``, ``reason`` and ``category`` are the
    latest report's (``reporter`` null once that account is gone)."""

    report_id: str
    post_id: str | None
    reporter: UserSummary | None
    reason: str
    created_at: str
    target: ReportTargetOut
    category: ReportCategory
    report_count: int
    latest_at: str
    status: Literal["open", "resolved"]
    action: Resolution | None = None
    note: str | None = None
    resolved_at: str | None = None


class ReportQuery(PageQuery):
    status: Literal["open", "resolved"] = "open"


class ResolveIn(ApiModel):
    """How a moderator closes a case: ``dismiss`` (nothing wrong), ``remove`` (the post or the
    comment goes), ``disable`` (the account that posted it, or the reported user, is disabled:
    admins only)."""

    action: Resolution
    note: ReportText | None = None


ReportPage = page_of(ReportOut, "ReportPage")


# Safety ------------------------------------------------------------------------------------------
class BlockOut(ApiModel):
    blocking: bool


class MuteIn(ApiModel):
    """A mute: for ``durationSeconds`` (1 second to 10 years) or until undone; with
    ``notifications`` (the default) the muted user's likes, comments and follows notify no
    more."""

    duration_seconds: JsonInt | None = Field(None, ge=1, le=10 * 365 * 24 * 3600)
    notifications: bool = True


class MuteOut(ApiModel):
    muting: bool
    until: str | None = None


class MutedOut(ApiModel):
    """One entry of the caller's mutes."""

    user: UserSummary
    until: str | None
    notifications: bool


MutePage = page_of(MutedOut, "MutePage")


# Push ------------------------------------------------------------------------------------------
PushPlatform = Literal["apns", "fcm"]
#: ``settings.push.<name>``: false turns that kind of push off (likes; comments and replies;
#: follows, requests and acceptances; mentions)
PUSH_PREFERENCES = ("like", "comment", "follow", "mention")


class PushSubscriptionIn(ApiModel):
    """A phone to push notifications to: its platform and the token the platform gave the app
    (APNs device token, FCM registration token)."""

    platform: PushPlatform
    token: Annotated[str, Field(min_length=8, max_length=4096, pattern=r"^[\x21-\x7e]+$")]


class PushSubscriptionOut(ApiModel):
    device_id: str
    platform: PushPlatform
    created_at: str


class PushSubscriptionList(ApiModel):
    items: list[PushSubscriptionOut]
