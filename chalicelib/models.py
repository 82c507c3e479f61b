"""Request and response models. They validate bodies and generate the OpenAPI document.

No ``from __future__ import annotations`` here: with it every field's annotation is a string that
pydantic compiles and evaluates when the class is made (~290 ``compile`` calls); without it the
interpreter evaluates them in the class body, and creating the models takes 71 ms instead of
82 ms (median of 15 fresh processes), on every cold start's first request. A model is defined
before the models that use it.
"""

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
    StrictBool,
    StringConstraints,
    create_model,
)
from pydantic.alias_generators import to_camel

MAX_PAGE = 100  # ?limit= is 1..MAX_PAGE (out of range is a 400)
MAX_CURSOR_LENGTH = 2048


def _omitted_when_null(schema: dict[str, Any]) -> None:
    """For a field left out of the answer when it has no value (``exclude_none``, or never
    set): no ``default`` in the document, which generators such as openapi-typescript read as
    "always present in a response"."""
    schema.pop("default", None)


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
    #: any text: ``posts.valid_tag`` answers a malformed or too long tag with a 400 naming ``tag``
    tag: str | None = None


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown request fields are refused."""

    # defer_build: validators are built on first use, not at import (cold start: -70 ms).
    # The string under a field is its description in the OpenAPI document: chalicelib/openapi.py
    # reads them from this file when the document is built. Not use_attribute_docstrings: it
    # reads the source at import (+130 ms for `import app`); Field(description=...): +6 ms.
    # json_schema_serialization_defaults_required: an answer always carries every field (a
    # default included), so the document marks them required in responses (openapi-typescript
    # then types them as present) while requests keep them optional.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        defer_build=True,
        json_schema_serialization_defaults_required=True,
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def json_text(self) -> str:
        """The JSON answer, serialised once by pydantic (its compiled serialiser; no dict of
        the answer is built first)."""
        return self.model_dump_json(by_alias=True)


# Documentation-only types: ``format`` is written into the OpenAPI document and validates nothing
#: an ISO 8601 UTC timestamp as the API writes it (``2026-11-24T07:01:25.123Z``; chalicelib/clock)
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
#: an absolute URL
Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]


def page_of(item: type[BaseModel], name: str) -> type[ApiModel]:
    """The response model of a list of ``item``: ``{"items": [...], "nextCursor": ...}``."""
    page: type[ApiModel] = create_model(
        name,
        __base__=ApiModel,
        __doc__=f"A page of a list of {item.__name__}: follow `nextCursor` until it is null.",
        items=(
            list[item],  # type: ignore[valid-type]  # a model made at run time
            Field(
                description="This page's items, in the list's order. A page may hold fewer "
                "than `limit` items, even none, when items the caller may not see were "
                "filtered out: only a null `nextCursor` ends the list."
            ),
        ),
        next_cursor=(
            str | None,
            Field(
                description="The opaque cursor of the next page (pass it as `?cursor=`), or "
                "null on the last page. Sealed (AES-256-GCM): it reveals nothing, and a "
                "tampered one is a 400."
            ),
        ),
    )
    return page


class ErrorOut(BaseModel):
    """Chalice's error envelope, with machine-readable details where they help."""

    model_config = ConfigDict(defer_build=True)  # (built on first use: cold start)

    Code: str = Field(examples=["BadRequestError"])
    """The error's class, one per status: `BadRequestError` (400), `UnauthorizedError` (401),
    `ForbiddenError` (403), `NotFoundError` (404), `ConflictError` (409),
    `RequestEntityTooLargeError` (413), `UnsupportedMediaType` (415), `UnprocessableEntityError`
    (422), `TooManyRequestsError` (429), `InternalServerError` (500), `ServiceUnavailableError`
    (503)."""
    Message: str = Field(examples=["caption: at most 2200 characters"])
    """A human-readable message, in English; for a validation error it starts with the field. Not
    meant to be parsed: use `Details`."""
    Details: list[dict[str, Any]] | None = Field(None, json_schema_extra=_omitted_when_null)
    """Machine-readable detail where it helps, absent otherwise: one entry per problem, `{field,
    reason, message}` for a validation error (`field` is the camelCase path, e.g. `mediaIds.0`),
    or `{reason, ...}` (e.g. `too_many_pending`, `attached`, `private_account`, `resolved`,
    `currentVersion` for a stale `If-Match`)."""


class Renditions(ApiModel):
    """The image in three sizes, as JPEG URLs (presigned or CDN), stable for an hour."""

    thumb: Url
    """A square crop of at most 320 px, around the focal point if one is set."""
    small: Url
    """The whole image within a 640 px box."""
    large: Url
    """The whole image within a 1080 px box."""


class HealthOut(ApiModel):
    status: Literal["ok"]
    """Always `ok` when the function answers."""
    version: str
    """The deployed version of the API (`chalicelib.__version__`)."""


class SessionOut(ApiModel):
    """What the API knows of the caller from the ID token alone."""

    user_id: str
    """The user's id (the Cognito `sub`, a UUID); stable across handle changes."""
    username: str | None
    """The handle as of the token's issue (a later change shows from the next refresh or sign-in);
    null if the token carries none."""
    email: str | None
    """The e-mail address in the token; null if none."""
    groups: list[str]
    """The caller's groups (`admins`, `moderators`) from `cognito:groups`, sorted."""
    expires_at: Timestamp
    """When the ID token expires (its `exp`)."""


# Auth ------------------------------------------------------------------------------------------


class SignupIn(ApiModel):
    """A new account: unconfirmed until the e-mailed code is sent to ``POST /auth/confirm``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ana@example.com",
                    "password": "Correct-horse-7",
                    "username": "ana.silva",
                    "name": "Ana Silva",
                }
            ]
        }
    )

    email: Email
    """The account's e-mail address (at most 128 characters; trimmed and lower-cased: it is the
    Cognito username). 409 if an account has it."""
    password: Password
    """The password: at least 10 characters with a lower-case letter, an upper-case letter and a
    digit (the user pool's policy; a 400 names the rules broken); at most 256, no control
    characters."""
    username: Handle
    """The handle: 3-30 letters, digits, `_` or `.`, no dot first, last or twice in a row; unique
    in any case (`Ana` and `ana` are the same: 409 if taken)."""
    name: DisplayName
    """The display name: 1-80 characters (trimmed), at least one visible; one line, no control or
    bidi characters."""


class UsernameIn(ApiModel):
    """A new handle for the caller."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "ana.travels"}]})

    username: Handle
    """The new handle: 3-30 letters, digits, `_` or `.`, no dot first, last or twice in a row; 409
    if taken in any case; at most 2 changes per 14 days (429)."""


class SignupOut(ApiModel):
    user_id: str
    """The user's id (the Cognito `sub`, a UUID); stable across handle changes."""
    username: str
    """The handle, as given."""
    confirmed: bool
    """Whether the account is confirmed already; false: send the e-mailed code to `POST
    /auth/confirm` before signing in."""


class ConfirmIn(ApiModel):
    """The code Cognito e-mailed at sign-up (or with ``POST /auth/resend-code``)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "ana@example.com", "code": "482913"}]}
    )

    email: Email
    """The account's e-mail address (at most 128 characters; trimmed and lower-cased: it is the
    Cognito username)."""
    code: Code
    """The confirmation code from the e-mail (trimmed; 1-64 non-space characters, 6 digits in
    practice); a wrong or expired one is a 400."""


class ConfirmOut(ApiModel):
    confirmed: Literal[True] = True
    """Always true: the account may sign in."""


class EmailIn(ApiModel):
    """An e-mail address to send a code to."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ana@example.com"}]})

    email: Email
    """The account's e-mail address (at most 128 characters; trimmed and lower-cased: it is the
    Cognito username). The answer is the same whether or not an account has it."""


class AcceptedOut(ApiModel):
    """A request taken; the answer does not depend on whether the account exists."""

    accepted: Literal[True] = True
    """Always true."""


class LoginIn(ApiModel):
    """E-mail and password; a wrong password and an unknown account get the same 401."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ana@example.com", "password": "Correct-horse-7"}]
        }
    )

    email: Email
    """The account's e-mail address (at most 128 characters; trimmed and lower-cased: it is the
    Cognito username)."""
    password: Password
    """The account's password (1-256 characters)."""


class TokensOut(ApiModel):
    """Cognito's tokens: send ``idToken`` as ``Authorization`` (a ``Bearer `` prefix is
    optional); keep ``refreshToken`` for ``POST /auth/refresh``."""

    # refreshToken is left out when null (to_json): not required in the document
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    id_token: str
    """The ID token (a JWT): the API credential, sent as `Authorization`."""
    access_token: str
    """The access token (a JWT): only for the routes that take `accessToken` (change password,
    logout, MFA)."""
    refresh_token: str | None = Field(None, json_schema_extra=_omitted_when_null)
    """The refresh token (30 days in the cloud): present after sign-in and the MFA challenge,
    absent on refresh (the one used stays valid)."""
    expires_in: int
    """Seconds the ID and access tokens are valid from now (3600)."""

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def json_text(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


class ChallengeOut(ApiModel):
    """The sign-in needs a TOTP code: answer it at ``POST /auth/mfa/challenge``."""

    challenge: Literal["SOFTWARE_TOKEN_MFA"]
    """The challenge to answer: always `SOFTWARE_TOKEN_MFA` (a TOTP code)."""
    session: str
    """Cognito's session of this sign-in, to send back with the code (a few minutes valid)."""


#: what sign-in answers: tokens, or the MFA challenge to answer at /auth/mfa/challenge
LoginOut = TokensOut | ChallengeOut


#: an example token (the examples' tokens are shortened JWTs: three base64url parts)
_JWT = "eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiI0YjJmIn0.c2lnbmF0dXJl"


class MfaChallengeIn(ApiModel):
    """The answer to a sign-in's TOTP challenge."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ana@example.com",
                    "session": "AYABeC1xZmFfc2Vzc2lvbl9leGFtcGxlXzAx",
                    "code": "204817",
                }
            ]
        }
    )

    email: Email
    """The account's e-mail address (at most 128 characters; trimmed and lower-cased: it is the
    Cognito username)."""
    session: Session
    """The `session` of the login's challenge answer (20-2048 characters)."""
    code: TotpCode
    """The 6-digit code the authenticator app shows now."""


class RefreshIn(ApiModel):
    """A refresh token, for new ID and access tokens."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"refreshToken": _JWT}]})

    refresh_token: Token
    """The refresh token of the sign-in; refused (401) after logout, a password reset, for a
    disabled account, or past its 30 days."""


class ResetPasswordIn(ApiModel):
    """A new password, with the code ``POST /auth/forgot-password`` e-mailed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "ana@example.com", "code": "731045", "newPassword": "Staple-battery-42"}
            ]
        }
    )

    email: Email
    """The account's e-mail address (at most 128 characters; trimmed and lower-cased: it is the
    Cognito username)."""
    code: Code
    """The reset code from the e-mail (trimmed; 1-64 non-space characters)."""
    new_password: Password
    """The new password: at least 10 characters with a lower-case letter, an upper-case letter and
    a digit (the user pool's policy; a 400 names the rules broken); at most 256, no control
    characters. Every session ends (refresh tokens too)."""


class ChangePasswordIn(ApiModel):
    """The signed-in caller's password change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "accessToken": _JWT,
                    "oldPassword": "Correct-horse-7",
                    "newPassword": "Staple-battery-42",
                }
            ]
        }
    )

    access_token: Token
    """The caller's Cognito access token (from sign-in), as proof for Cognito's own calls; it must
    belong to the caller of the ID token (403 otherwise)."""
    old_password: Password
    """The current password."""
    new_password: Password
    """The new password: at least 10 characters with a lower-case letter, an upper-case letter and
    a digit (the user pool's policy; a 400 names the rules broken); at most 256, no control
    characters. Every other session ends."""


class AccessTokenIn(ApiModel):
    """The caller's access token, which Cognito needs for this call."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"accessToken": _JWT}]})

    access_token: Token
    """The caller's Cognito access token (from sign-in), as proof for Cognito's own calls; it must
    belong to the caller of the ID token (403 otherwise)."""


class MfaSetupOut(ApiModel):
    """A new TOTP secret: add it to an authenticator app, then ``POST /auth/mfa/verify``."""

    secret: str
    """The TOTP secret (base32), for manual entry."""
    otpauth_uri: Url
    """The same secret as an `otpauth://totp/...` URI (6 digits, 30 s period), to show as a QR
    code."""


class MfaVerifyIn(ApiModel):
    """A code from the authenticator app, proving the secret was added."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"accessToken": _JWT, "code": "519302"}]}
    )

    access_token: Token
    """The caller's Cognito access token (from sign-in), as proof for Cognito's own calls; it must
    belong to the caller of the ID token (403 otherwise)."""
    code: TotpCode
    """The 6-digit code the authenticator app shows now."""


class MfaStatusOut(ApiModel):
    mfa_enabled: bool
    """Whether TOTP MFA is on now (true once the code is right)."""


class PasswordChangedOut(ApiModel):
    password_changed: Literal[True] = True
    """Always true."""


class DisabledOut(ApiModel):
    user_id: str
    """The user's id (the Cognito `sub`, a UUID); stable across handle changes."""
    username: str
    """The user's handle now (3-30 letters, digits, `_` or `.`; unique in any case)."""
    disabled: bool
    """True: the account can no longer sign in or refresh, and its sessions ended."""


# Users -----------------------------------------------------------------------------------------
#: the known keys of ``profile`` (chalicelib/documents.py checks them); any other key is kept
PROFILE_SCHEMA: dict[str, Any] = {
    "properties": {
        "bio": {"type": "string", "maxLength": 500, "description": "A short biography."},
        "website": {
            "type": "string",
            "format": "uri",
            "description": "An absolute http(s) URL (at most 2,048 characters).",
        },
        "location": {"type": "object", "description": "Where the user is: any object."},
        "links": {
            "type": "array",
            "maxItems": 10,
            "items": {
                "anyOf": [
                    {"type": "string", "format": "uri", "description": "An http(s) URL."},
                    {
                        "type": "object",
                        "description": "A link with a title.",
                        "properties": {
                            "url": {
                                "type": "string",
                                "format": "uri",
                                "description": "An http(s) URL.",
                            },
                            "title": {
                                "anyOf": [{"type": "string", "maxLength": 60}, {"type": "null"}],
                                "description": "What the link shows (at most 60 characters).",
                            },
                        },
                        "required": ["url"],
                    },
                ]
            },
            "description": "Up to 10 links: each an http(s) URL, or `{url, title}` (title at "
            "most 60 characters).",
        },
    }
}


class MeOut(ApiModel):
    """The caller's own profile (private view: e-mail and settings included)."""

    user_id: str
    """The user's id (the Cognito `sub`, a UUID); stable across handle changes."""
    username: str
    """The user's handle now (3-30 letters, digits, `_` or `.`; unique in any case)."""
    email: str
    """The account's e-mail address (lower-case)."""
    name: str
    """The display name."""
    profile: dict[str, Any] = Field(json_schema_extra=PROFILE_SCHEMA)
    """The user's free-form profile (a JSON object of at most 6 levels, 300 keys, strings of 2,000
    characters): `bio`, `website`, `location` and `links` are checked, anything else is kept as
    sent."""
    settings: dict[str, Any]
    """The user's own settings, a free-form JSON object seen by no one else; known keys:
    `showSensitive` (show sensitive media unblurred) and `push` (`{like, comment, follow,
    mention}`: false turns that kind of push off)."""
    avatar: str | None
    """The avatar's media id (a ready upload with `purpose: avatar`), or null without one."""
    avatar_urls: Renditions | None = None
    """The avatar's rendition URLs, inline (a page of users needs no media read), or null without
    an avatar; the same URLs for an hour, so a browser can cache them."""
    version: int
    """The profile's version: one more at each change; send it as `If-Match` to `PATCH /me` to
    refuse a stale edit (409)."""
    follower_count: int
    """How many accounts follow the user."""
    following_count: int
    """How many accounts the user follows."""
    post_count: int
    """How many posts the user has."""
    private: bool = False
    """Whether the account is private: new followers need its approval, and its posts are for
    itself and its accepted followers only."""
    created_at: Timestamp
    """When the account was created (its sign-up)."""


class PublicProfileOut(ApiModel):
    """Anyone's profile as others see it: never e-mail or settings."""

    user_id: str
    """The user's id (the Cognito `sub`, a UUID); stable across handle changes."""
    username: str
    """The user's handle now (3-30 letters, digits, `_` or `.`; unique in any case)."""
    name: str
    """The display name."""
    profile: dict[str, Any] = Field(json_schema_extra=PROFILE_SCHEMA)
    """The user's free-form profile (a JSON object of at most 6 levels, 300 keys, strings of 2,000
    characters): `bio`, `website`, `location` and `links` are checked, anything else is kept as
    sent."""
    avatar: str | None
    """The avatar's media id (a ready upload with `purpose: avatar`), or null without one."""
    avatar_urls: Renditions | None = None
    """The avatar's rendition URLs, inline (a page of users needs no media read), or null without
    an avatar; the same URLs for an hour, so a browser can cache them."""
    follower_count: int
    """How many accounts follow the user."""
    following_count: int
    """How many accounts the user follows."""
    post_count: int
    """How many posts the user has."""
    is_following: bool
    """Whether the caller follows this user."""
    is_followed_by: bool = False
    """Whether this user follows the caller."""
    requested: bool = False
    """Whether the caller's follow request waits for this (private) account."""
    blocking: bool = False
    """Whether the caller blocks this user."""
    muting: bool = False
    """Whether the caller mutes this user."""
    private: bool = False
    """Whether the account is private: new followers need its approval, and its posts are for
    itself and its accepted followers only."""
    created_at: Timestamp
    """When the account was created."""


class UserSummary(ApiModel):
    """A user in a list (search results, followers, likers, authors, activity actors)."""

    user_id: str
    """The user's id (the Cognito `sub`, a UUID); stable across handle changes."""
    username: str
    """The user's handle now (3-30 letters, digits, `_` or `.`; unique in any case)."""
    name: str
    """The display name."""
    avatar: str | None
    """The avatar's media id (a ready upload with `purpose: avatar`), or null without one."""
    avatar_urls: Renditions | None = None
    """The avatar's rendition URLs, inline (a page of users needs no media read), or null without
    an avatar; the same URLs for an hour, so a browser can cache them."""
    private: bool = False
    """Whether the account is private: new followers need its approval, and its posts are for
    itself and its accepted followers only."""


UserPage = page_of(UserSummary, "UserPage")


class FollowOut(ApiModel):
    """Where the caller stands after following or unfollowing: ``requested`` while a request to
    a private account waits for its owner."""

    following: bool
    """Whether the caller follows the user now."""
    requested: bool = False
    """Whether the caller's request to follow (a private account) waits."""
    follower_count: int
    """The followed user's follower count now."""


class FollowRequestOut(ApiModel):
    """A follow request waiting for the caller (the owner of a private account)."""

    user: UserSummary
    """Who asks to follow the caller."""
    created_at: Timestamp
    """When they asked."""


FollowRequestPage = page_of(FollowRequestOut, "FollowRequestPage")


class FollowerOut(ApiModel):
    """The caller's follower after accepting a request."""

    follower: bool
    """Always true: the requester follows the caller now."""
    follower_count: int
    """The caller's follower count now."""


class MePatch(ApiModel):
    """A JSON merge patch (RFC 7396) of the caller's profile. ``avatar`` (an extension) is the
    id of a ready avatar upload of the caller's, or null to remove it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Ana Silva",
                    "profile": {
                        "bio": "Photos of Lisbon's tiles.",
                        "website": "https://ana.example.com",
                        "location": None,
                    },
                    "settings": {"showSensitive": False, "push": {"like": False}},
                }
            ]
        }
    )

    name: DisplayName | None = None
    """A new display name: 1-80 characters (trimmed), at least one visible; one line, no control or
    bidi characters."""
    profile: dict[str, Any] | None = None
    """A merge patch of `profile`: keys with values are set (objects merged recursively), keys with
    null removed. After the patch: at most 6 levels, 300 keys, strings of 2,000 characters, 16
    KB with `settings` (413 beyond); `bio` at most 500 characters, `website` and `links` http(s)
    URLs (at most 10 links), `location` an object."""
    settings: dict[str, Any] | None = None
    """A merge patch of `settings`, as `profile`; `push` takes only `like`, `comment`, `follow` and
    `mention`, each true or false."""
    avatar: MediaId | None = None
    """The id of a ready upload of the caller's with `purpose: avatar`, or null to remove the
    avatar."""
    private: StrictBool | None = None
    """true: new followers need the caller's approval and posts are for followers only; false:
    public (pending requests stay until answered). Null is a 400."""


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
    """The most items to return: 1 to 100 (out of range is a 400, not clamped), written with digits
    only."""
    cursor: Cursor | None = None
    """The `nextCursor` of the previous page; absent for the first page."""


class SearchQuery(PageQuery):
    q: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=2, max_length=30),
        NoSurrogates,
        SingleLine,
        NoBidiControls,
    ]
    """The start of a handle or of a word of the name (2-30 characters, trimmed; any case, any
    accents)."""


class ExportOut(ApiModel):
    """A data-export job; ``url`` (presigned, short-lived) once it is ready."""

    job_id: str
    """The export job's id."""
    status: Literal["pending", "ready", "failed"]
    """`pending` while the archive is made (202: ask again later), `ready` with `url` (200).
    `failed` is never answered today: asking again after a failed job starts a new one."""
    created_at: Timestamp
    """When the export was asked for."""
    url: Url | None = None
    """When ready: a presigned link to the ZIP archive (`echomate-export.zip`); null before."""
    expires_in: int | None = None
    """When ready: seconds `url` stays valid from now (3600); null before."""


class DeletionOut(ApiModel):
    user_id: str
    """The user's id (the Cognito `sub`, a UUID); stable across handle changes."""
    status: Literal["deleting"]
    """Always `deleting`: sign-in is gone now, the data goes in the background."""


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
    """From -1 (left edge) to 1 (right edge)."""
    y: JsonNumber = Field(ge=-1, le=1, allow_inf_nan=False)
    """From -1 (bottom edge) to 1 (top edge)."""


class MediaRequestIn(ApiModel):
    """One image to upload: the answer is a presigned POST straight to S3."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "contentType": "image/jpeg",
                    "contentLength": 2483112,
                    "purpose": "post",
                    "description": "A blue and white tiled facade in the morning sun.",
                    "focus": {"x": 0.0, "y": 0.35},
                }
            ]
        }
    )

    content_type: Annotated[
        str,
        StringConstraints(strip_whitespace=True, to_lower=True, max_length=100),
        NoSurrogates,
        SingleLine,
        NoBidiControls,
    ]
    """The file's type: `image/jpeg`, `image/png`, `image/webp`, `image/heic` or `image/heif` (any
    case; anything else is a 415). The upload must send the same."""
    content_length: JsonInt = Field(gt=0)
    """The file's exact size in bytes (a JSON integer): at most 20 MiB for a post, 5 MiB for an
    avatar (413 beyond); the upload must be exactly this long."""
    purpose: Literal["post", "avatar"]
    """What the image is for: a post's photo, or the caller's avatar."""
    description: AltText | None = None
    """Alt text for screen readers: 1-1,500 characters (trimmed; lines and tabs allowed, no other
    control or bidi characters); optional."""
    focus: Focus | None = None
    """The focal point the square `thumb` is cropped around; optional."""


class MediaPatchIn(ApiModel):
    """Alt text and focal point of a media item (also once its post is published); null
    removes one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"description": "Two cats asleep on a windowsill.", "focus": {"x": -0.2, "y": 0.1}}
            ]
        }
    )

    description: AltText | None = None
    """Alt text for screen readers: 1-1,500 characters (trimmed; lines and tabs allowed, no other
    control or bidi characters); null removes it, absent leaves it."""
    focus: Focus | None = None
    """A new focal point (only the thumb is rendered again, at a new URL); null removes it, absent
    leaves it."""


class UploadForm(ApiModel):
    """A presigned POST: send ``fields`` and then the file as multipart/form-data to ``url``."""

    url: Url
    """Where to POST the form (the media bucket's S3 endpoint)."""
    fields: dict[str, str]
    """The form fields to send first, as they are (key, policy, signature, `Content-Type`, ...);
    the file goes last, as the field `file`. The policy pins the key, the content type and the
    exact length."""


class MediaUploadOut(ApiModel):
    media_id: str
    """The new media item's id (`pending` until the upload is processed)."""
    upload: UploadForm
    """The presigned POST to upload the file with."""
    expires_in: int
    """Seconds the form stays valid from now (`MEDIA_UPLOAD_SECONDS`, 600)."""


class MediaOut(ApiModel):
    media_id: str
    """The media item's id."""
    status: Literal["pending", "ready", "rejected"]
    """`pending` until the upload is processed, then `ready` (renditions made) or `rejected` (see
    `rejectReason`)."""
    width: int | None = None
    """The original's width in pixels (after EXIF orientation); null until ready."""
    height: int | None = None
    """The original's height in pixels (after EXIF orientation); null until ready."""
    blurhash: str | None = None
    """A BlurHash of the image, to show while the renditions load (or while hidden). Null until
    ready."""
    renditions: Renditions | None = None
    """The rendition URLs; null unless ready."""
    reject_reason: str | None = None
    """Why a rejected upload was refused (e.g. `not_an_image`, `unsupported_format`,
    `decompression_bomb`, `dimensions_out_of_range`, `too_large`, `size_mismatch`, `corrupt`);
    null otherwise."""
    description: str | None = None
    """The alt text; null without one."""
    focus: Focus | None = None
    """The focal point; null without one."""


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
    """A new post: text, photos, or both."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "caption": "Morning light on the tiles #lisbon #azulejos with @bruno",
                    "mediaIds": ["01JD8X3QG2M4ZV7T5K9P6R1W0A"],
                    "visibility": "public",
                    "sensitive": False,
                }
            ]
        }
    )

    caption: Caption = ""
    """The caption: at most 2,200 characters (code points; lines and tabs allowed, no other control
    or bidi characters). Its `#hashtags` and `@mentions` are picked out of it; empty by default."""
    media_ids: list[MediaId] = Field(default_factory=list, max_length=10)
    """0 to 10 media ids, in display order: each the author's own `ready` upload with `purpose:
    post`; none by default."""
    visibility: Visibility = "public"
    """`public` (everyone; explore and hashtags), or `followers` (the author's followers)."""
    sensitive: StrictBool = False
    """Whether clients hide the media behind its blurhash until tapped (`spoilerText` says why); a
    strict boolean."""
    spoiler_text: SpoilerText | None = None
    """Why the post is sensitive, shown over it: 1-500 characters, one line; optional."""


class PostPatchIn(ApiModel):
    """An edit of a post (author): any of its fields; those left out stay. ``mediaIds`` is the
    whole new list (add, remove, reorder; the same rules as creation)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"caption": "Morning light on the tiles #lisbon", "visibility": "followers"}
            ]
        }
    )

    caption: Caption | None = None
    """The caption: at most 2,200 characters (code points; lines and tabs allowed, no other control
    or bidi characters). Its `#hashtags` and `@mentions` are picked out of it; absent leaves it
    (null is a 400)."""
    media_ids: list[MediaId] | None = Field(None, max_length=10)
    """The whole new list: 0 to 10 media ids, in display order: each the author's own `ready`
    upload with `purpose: post`; kept ones stay, dropped ones are released. Absent leaves it
    (null is a 400)."""
    visibility: Visibility | None = None
    """`public` (everyone; explore and hashtags), or `followers` (the author's followers); absent
    leaves it (null is a 400)."""
    sensitive: StrictBool | None = None
    """Whether clients hide the media behind its blurhash until tapped; absent leaves it (null is a
    400)."""
    spoiler_text: SpoilerText | None = None
    """Why the post is sensitive, shown over it: 1-500 characters, one line; null removes it,
    absent leaves it."""


class MentionOut(ApiModel):
    """A user named ``@handle`` in a text, as resolved when it was written."""

    user_id: str
    """The user's id (the Cognito `sub`, a UUID); stable across handle changes."""
    username: str
    """The user's handle now (3-30 letters, digits, `_` or `.`; unique in any case)."""


class PostMediaOut(ApiModel):
    """A photo of a post (copied into the post: a page of posts reads no media)."""

    media_id: str
    """The media item's id."""
    width: int
    """The original's width in pixels (after EXIF orientation)."""
    height: int
    """The original's height in pixels (after EXIF orientation)."""
    blurhash: str | None
    """A BlurHash of the image, to show while the renditions load (or while hidden). Null if none
    was made."""
    renditions: Renditions
    """The rendition URLs."""
    description: str | None = None
    """The alt text; null without one."""
    focus: Focus | None = None
    """The focal point; null without one."""


class PostOut(ApiModel):
    """A post as the caller sees it."""

    post_id: str
    """The post's id (sortable by creation)."""
    author: UserSummary
    """Who wrote it."""
    caption: str
    """The caption (may be empty)."""
    hashtags: list[str]
    """The caption's hashtags, normalised (NFKC, case-folded), without `#`."""
    mentions: list[MentionOut] = Field(default_factory=list)
    """The users the caption names (`@handle`), as resolved when it was written."""
    media: list[PostMediaOut]
    """The photos, in display order (0 to 10)."""
    visibility: Visibility
    """`public` (everyone; explore and hashtags), or `followers` (the author's followers)."""
    sensitive: bool = False
    """Whether clients hide the media behind its blurhash until tapped."""
    spoiler_text: str | None = None
    """Why it is sensitive; null if not said."""
    like_count: int
    """How many likes it has."""
    comment_count: int
    """How many comments it has, replies included."""
    liked_by_me: bool
    """Whether the caller likes it."""
    bookmarked_by_me: bool = False
    """Whether the caller saved it."""
    version: int = 1
    """1, then one more at each edit; send it as `If-Match` to `PATCH /posts/{postId}` to refuse a
    stale edit (409)."""
    created_at: Timestamp
    """When it was posted."""
    edited_at: Timestamp | None
    """When it was last edited; null if never."""


class PostVersionOut(ApiModel):
    """An earlier version of a post, as it was until the edit that followed it."""

    version: int
    """This version's number (1 for the post as first made)."""
    caption: str
    """The caption then."""
    media: list[PostMediaOut]
    """The photos then."""
    visibility: Visibility
    """`public` (everyone; explore and hashtags), or `followers` (the author's followers), then."""
    sensitive: bool
    """Whether clients hide the media behind its blurhash until tapped, then."""
    spoiler_text: str | None = None
    """The spoiler text then; null if none."""
    edited_at: Timestamp
    """When this version was made (the post's creation for the first)."""


PostVersionPage = page_of(PostVersionOut, "PostVersionPage")


class BookmarkOut(ApiModel):
    bookmarked: bool
    """Whether the caller has the post saved now."""


class TagFollowOut(ApiModel):
    following: bool
    """Whether the caller follows the hashtag now."""


class FollowedTagOut(ApiModel):
    tag: str
    """The hashtag, normalised, without `#`."""
    followed_at: Timestamp
    """When the caller followed it."""


FollowedTagPage = page_of(FollowedTagOut, "FollowedTagPage")


class TagOut(ApiModel):
    """A hashtag: how many public posts carry it now, and whether the caller follows it."""

    tag: str
    """The hashtag, normalised (NFKC, case-folded), without `#`."""
    post_count: int
    """How many public posts carry it now."""
    following: bool
    """Whether the caller follows it."""


PostPage = page_of(PostOut, "PostPage")


class TagQuery(PageQuery):
    tag: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
        NoSurrogates,
        SingleLine,
        NoBidiControls,
    ]
    """The hashtag, in any spelling (with or without `#`, any case, composed or not): normalised as
    captions' tags are; letters, digits and `_` only (400 otherwise)."""


class LikeOut(ApiModel):
    liked: bool
    """Whether the caller likes the post now."""
    like_count: int
    """The post's like count now."""


class CommentIn(ApiModel):
    """A comment on a post, or a reply to one of its comments."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"text": "Where is this? @ana", "replyTo": "01JD8Y0B7C2KQ4N6M8P0R2T4V6"}]
        }
    )

    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
        NoSurrogates,
        MultiLine,
        NoBidiControls,
        Visible,
    ]
    """The comment: 1-1,000 characters (code points; trimmed), at least one visible; lines and tabs
    allowed, no other control or bidi characters. Its `@mentions` notify."""
    reply_to: MediaId | None = None
    """For a reply: the id of the comment answered (a reply to a reply attaches to the same top
    comment); 404 naming `replyTo` if unknown. Absent for a top comment."""


class CommentOut(ApiModel):
    comment_id: str
    """The comment's id (sortable by creation)."""
    post_id: str
    """The post it is on."""
    author: UserSummary
    """Who wrote it."""
    text: str
    """The text."""
    mentions: list[MentionOut] = Field(default_factory=list)
    """The users the text names (`@handle`), as resolved when it was written."""
    reply_to: str | None = None
    """For a reply: its top comment; else null."""
    reply_count: int = 0
    """For a top comment: how many replies it has."""
    created_at: Timestamp
    """When it was written."""


CommentPage = page_of(CommentOut, "CommentPage")


ActivityType = Literal[
    "like", "comment", "follow", "follow_request", "follow_accepted", "mention", "reply"
]


class ActivityOut(ApiModel):
    """A notification for the caller."""

    type: ActivityType
    """What happened: `like` (of the caller's post), `comment` (on it), `follow` (of the caller),
    `follow_request` (to the caller's private account), `follow_accepted` (the caller's request
    was), `mention` (the caller named in a post or comment), `reply` (to the caller's comment)."""
    actor: UserSummary
    """Who did it."""
    post_id: str | None
    """The post concerned; null for follows and follow requests."""
    comment_id: str | None
    """The comment concerned (comments, replies, mentions in a comment); else null."""
    created_at: Timestamp
    """When it happened."""
    read: bool
    """Whether it is at or before the caller's read mark (`POST /activity/read`)."""


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
    """The caller's read mark: notifications up to it are read."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"upTo": "2026-11-24T07:01:25.123Z"}]}
    )

    up_to: Annotated[
        str,
        StringConstraints(
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
            r"(\.[0-9]{1,6})?Z$"
        ),
        AfterValidator(real_instant),
    ] = Field(json_schema_extra={"format": "date-time"})
    """An ISO 8601 UTC timestamp ending in `Z` (e.g. the newest notification's `createdAt`): a real
    date and time, at most 5 minutes ahead of the server's clock."""


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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"category": "harassment", "details": "Insults in every reply to me."}]
        }
    )

    category: ReportCategory
    """What is wrong."""
    details: ReportText | None = None
    """How, in a few words: 1-500 characters (lines allowed); optional."""


class ReportIn(ApiModel):
    """A report of a post: the v1 ``{reason}``, or ``{category, details?}`` (one of the two
    is required; a bare ``reason`` is filed as ``other``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"category": "spam", "details": "Posts the same link every hour."}]
        }
    )

    reason: ReportText | None = None
    """The v1 free-text reason (1-500 characters); filed as category `other` when sent without
    `category`."""
    category: ReportCategory | None = None
    """What is wrong."""
    details: ReportText | None = None
    """How, in a few words: 1-500 characters (lines allowed); optional."""


class ReportTargetOut(ApiModel):
    """What a queue row is about: ``id`` is the post's, the comment's or the user's id;
    ``postId`` the post (of a comment too), ``owner`` the reported user or the author."""

    type: Literal["post", "comment", "user"]
    """What was reported."""
    id: str
    """The post's, the comment's or the user's id."""
    post_id: str | None = None
    """The post reported, or the post of the comment reported; else null."""
    owner: UserSummary | None = None
    """The reported user, or the author of the post or comment (shown whatever their standing);
    null once that account is gone."""


class ReportOut(ApiModel):
    """One row of the moderation queue: every report on one target, grouped. ``reportId``
    (the case's first report) is what ``POST /admin/reports/{reportId}/resolve`` takes (the id
    of any report in the case works too); ``reporter``, ``reason`` and ``category`` are the
    latest report's (``reporter`` null once that account is gone)."""

    report_id: str
    """The case's id (its first report's), for `POST /admin/reports/{reportId}/resolve`."""
    post_id: str | None
    """The reported post (v1 field); null for comments and users."""
    reporter: UserSummary | None
    """Who filed the latest report; null once that account is gone."""
    reason: str
    """The latest report's reason: the v1 text, or its `details`, or its category."""
    created_at: Timestamp
    """When the case's first report was filed."""
    target: ReportTargetOut
    """What the case is about."""
    category: ReportCategory
    """The latest report's category."""
    report_count: int
    """How many reports the case holds."""
    latest_at: Timestamp
    """When the latest report was filed."""
    status: Literal["open", "resolved"]
    """Whether the case is still open."""
    action: Resolution | None = None
    """How it was resolved; null while open."""
    note: str | None = None
    """The moderator's note; null if none or open."""
    resolved_at: Timestamp | None = None
    """When it was resolved; null while open."""


class ReportQuery(PageQuery):
    status: Literal["open", "resolved"] = "open"
    """Which cases: `open` (by latest report) or `resolved` (by resolution), newest first."""


class ResolveIn(ApiModel):
    """How a moderator closes a case: ``dismiss`` (nothing wrong), ``remove`` (the post or the
    comment goes), ``disable`` (the account that posted it, or the reported user, is disabled:
    admins only)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"action": "remove", "note": "Spam link, third time."}]}
    )

    action: Resolution
    """`dismiss` (nothing more), `remove` (delete the post or comment; 400 for a user), `disable`
    (the account behind the target; admins only, 403 for moderators)."""
    note: ReportText | None = None
    """A note for the moderation log (1-500 characters); reporters are not told."""


ReportPage = page_of(ReportOut, "ReportPage")


# Safety ------------------------------------------------------------------------------------------
class BlockOut(ApiModel):
    blocking: bool
    """Whether the caller blocks the user now."""


class MuteIn(ApiModel):
    """A mute: for ``durationSeconds`` (1 second to 10 years) or until undone; with
    ``notifications`` (the default) the muted user's likes, comments and follows notify no
    more."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"durationSeconds": 86400, "notifications": True}]}
    )

    duration_seconds: JsonInt | None = Field(None, ge=1, le=10 * 365 * 24 * 3600)
    """How long, in seconds: 1 to 315,360,000 (10 years); absent or null for a mute until undone."""
    notifications: bool = True
    """true (the default): the user's likes, comments and follows notify the caller no more; false:
    only their posts are muted."""


class MuteOut(ApiModel):
    muting: bool
    """Whether the caller mutes the user now."""
    until: Timestamp | None = None
    """When the mute ends by itself; null when open-ended or not muting."""


class MutedOut(ApiModel):
    """One entry of the caller's mutes."""

    user: UserSummary
    """The muted user."""
    until: Timestamp | None
    """When the mute ends by itself; null: never."""
    notifications: bool
    """Whether their notifications are muted too."""


MutePage = page_of(MutedOut, "MutePage")


# Push ------------------------------------------------------------------------------------------
PushPlatform = Literal["apns", "fcm"]
#: ``settings.push.<name>``: false turns that kind of push off (likes; comments and replies;
#: follows, requests and acceptances; mentions)
PUSH_PREFERENCES = ("like", "comment", "follow", "mention")


class PushSubscriptionIn(ApiModel):
    """A phone to push notifications to: its platform and the token the platform gave the app
    (APNs device token, FCM registration token)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "platform": "apns",
                    "token": "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad",
                }
            ]
        }
    )

    platform: PushPlatform
    """`apns` (iOS) or `fcm` (Android); 400 for one the stage has no SNS platform application
    for."""
    token: Annotated[str, Field(min_length=8, max_length=4096, pattern=r"^[\x21-\x7e]+$")]
    """The APNs device token or FCM registration token (8-4096 printable ASCII characters); the
    same token again answers the same device."""


class PushSubscriptionOut(ApiModel):
    device_id: str
    """The device's id (32 hex digits), for `DELETE /me/push-subscriptions/...`."""
    platform: PushPlatform
    """`apns` or `fcm`."""
    created_at: Timestamp
    """When the device was registered."""


class PushSubscriptionList(ApiModel):
    items: list[PushSubscriptionOut]
    """The caller's registered devices, oldest first (at most 20)."""
