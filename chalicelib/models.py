"""Request and response models. They validate bodies and generate the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, create_model
from pydantic.alias_generators import to_camel

MAX_PAGE = 100  # ?limit= is 1..MAX_PAGE (out of range is a 400)
MAX_CURSOR_LENGTH = 2048

# Field types shared by requests -----------------------------------------------------------------
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
#: a handle: 3-30 letters, digits, ``_`` or ``.``; unique case-insensitively
Handle = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.]{3,30}$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
TotpCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$")]
Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8192)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown request fields are refused."""

    # defer_build: validators are built on first use, not at import (cold start: -70 ms)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


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


class ChallengeOut(ApiModel):
    challenge: Literal["SOFTWARE_TOKEN_MFA"]
    session: str


class LoginOut(RootModel[TokensOut | ChallengeOut]):
    """Tokens, or the MFA challenge to answer at /auth/mfa/challenge."""


class MfaChallengeIn(ApiModel):
    email: Email
    session: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
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
    version: int
    follower_count: int
    following_count: int
    post_count: int
    created_at: str


class PublicProfileOut(ApiModel):
    """Anyone's profile as others see it: never e-mail or settings."""

    user_id: str
    username: str
    name: str
    profile: dict[str, Any]
    avatar: str | None
    follower_count: int
    following_count: int
    post_count: int
    is_following: bool
    is_followed_by: bool = False
    blocking: bool = False  # the caller blocks this account
    muting: bool = False  # the caller mutes this account
    created_at: str


class UserSummary(ApiModel):
    """A user in a list (search results, followers, likers)."""

    user_id: str
    username: str
    name: str
    avatar: str | None


UserPage = page_of(UserSummary, "UserPage")


class FollowOut(ApiModel):
    following: bool
    follower_count: int


class MePatch(ApiModel):
    """A JSON merge patch (RFC 7396) of the caller's profile. ``avatar`` (an extension) is the
    id of a ready avatar upload of the caller's, or null to remove it."""

    name: DisplayName | None = None
    profile: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    avatar: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class PageQuery(ApiModel):
    """``?limit=&cursor=`` of every list."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True
    )

    limit: int = Field(20, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=MAX_CURSOR_LENGTH)] | None = (
        None
    )


class SearchQuery(PageQuery):
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=30)]


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


class MediaRequestIn(ApiModel):
    content_type: Annotated[
        str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=100)
    ]
    content_length: int = Field(gt=0)
    purpose: Literal["post", "avatar"]


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


# Posts, interactions, activity, moderation -----------------------------------------------------
Caption = Annotated[str, StringConstraints(max_length=2200)]
MediaId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]


class PostIn(ApiModel):
    caption: Caption = ""
    media_ids: list[MediaId] = Field(default_factory=list, max_length=10)
    visibility: Literal["public", "followers"] = "public"


class PostPatchIn(ApiModel):
    caption: Caption


class PostMediaOut(ApiModel):
    media_id: str
    width: int
    height: int
    blurhash: str | None
    renditions: Renditions


class PostOut(ApiModel):
    post_id: str
    author: UserSummary
    caption: str
    hashtags: list[str]
    media: list[PostMediaOut]
    visibility: Literal["public", "followers"]
    like_count: int
    comment_count: int
    liked_by_me: bool
    created_at: str
    edited_at: str | None


PostPage = page_of(PostOut, "PostPage")


class TagQuery(PageQuery):
    tag: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class LikeOut(ApiModel):
    liked: bool
    like_count: int


class CommentIn(ApiModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class CommentOut(ApiModel):
    comment_id: str
    post_id: str
    author: UserSummary
    text: str
    created_at: str


CommentPage = page_of(CommentOut, "CommentPage")


class ActivityOut(ApiModel):
    type: Literal["like", "comment", "follow"]
    actor: UserSummary
    post_id: str | None
    comment_id: str | None
    created_at: str
    read: bool


ActivityPage = page_of(ActivityOut, "ActivityPage")


class ReadIn(ApiModel):
    up_to: Annotated[
        str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
    ]


class ReportIn(ApiModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ReportOut(ApiModel):
    report_id: str
    post_id: str
    reporter: UserSummary
    reason: str
    created_at: str


ReportPage = page_of(ReportOut, "ReportPage")


# Safety ------------------------------------------------------------------------------------------
class BlockOut(ApiModel):
    blocking: bool


class MuteIn(ApiModel):
    """A mute: for ``durationSeconds`` (1 second to 10 years) or until undone; with
    ``notifications`` (the default) the muted user's likes, comments and follows notify no
    more."""

    duration_seconds: int | None = Field(None, ge=1, le=10 * 365 * 24 * 3600)
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
