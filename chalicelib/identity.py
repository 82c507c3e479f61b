"""Who is calling: the identity in a verified Cognito ID token.

In the cloud, API Gateway's Cognito authorizer has verified the token before the function runs,
and the claims arrive in the request context. Where nothing in front of the app verifies tokens
(``chalice local``, ``chalice.test.Client``), ``VERIFY_TOKENS_IN_APP`` is on and the token is
verified here against the pool's JWKS: RS256 signature, issuer, audience (the app client), expiry
and ``token_use`` = ``id``. Either way the caller is an ``Identity``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from chalicelib.clock import iso_timestamp
from chalicelib.config import get_settings
from chalicelib.errors import Forbidden, Unauthorized, Unavailable

if TYPE_CHECKING:
    from chalicelib.models import SessionOut

ADMINS, MODERATORS = "admins", "moderators"
_LEEWAY_SECONDS = 5


class Identity(NamedTuple):
    """The caller, from the claims of their ID token."""

    user_id: str
    username: str | None
    email: str | None
    groups: frozenset[str]
    expires_at: int
    issued_at: int = 0  # the token's iat
    session_id: str | None = None  # the sign-in the token comes from (origin_jti)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Identity:
        try:
            user_id = str(claims["sub"])
            expires_at = int(claims["exp"])
            issued_at = int(claims.get("iat") or 0)
        except (KeyError, TypeError, ValueError) as exc:
            raise Unauthorized("invalid token") from exc
        return cls(
            user_id=user_id,
            username=claims.get("preferred_username"),
            email=claims.get("email"),
            groups=_groups(claims.get("cognito:groups")),
            expires_at=expires_at,
            issued_at=issued_at,
            session_id=claims.get("origin_jti") or None,
        )

    @property
    def is_moderator(self) -> bool:
        """Whether the caller may act on others' content (moderators and admins)."""
        return not self.groups.isdisjoint({MODERATORS, ADMINS})

    def require_group(self, *groups: str) -> None:
        """Forbidden unless the caller is in one of ``groups``."""
        if groups and self.groups.isdisjoint(groups):
            raise Forbidden(f"requires membership of one of: {', '.join(sorted(groups))}")

    def session(self) -> SessionOut:
        from chalicelib.models import SessionOut  # (pydantic: not at import, see app.py)

        return SessionOut(
            user_id=self.user_id,
            username=self.username,
            email=self.email,
            groups=sorted(self.groups),
            expires_at=iso_timestamp(self.expires_at),
        )


def _groups(value: Any) -> frozenset[str]:
    # A verified token carries a JSON list; API Gateway hands the authorizer's claims to the
    # function as strings, e.g. "[admins moderators]" or "admins,moderators".
    if not value:
        return frozenset()
    if isinstance(value, str):
        value = value.strip("[]").replace(",", " ").split()
    return frozenset(str(g) for g in value)


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an ``Authorization`` header (``Bearer `` prefix optional)."""
    parts = (headers.get("authorization") or "").split(None, 1)
    if parts and parts[0].lower() == "bearer":
        parts = parts[1:]
    value = parts[0].strip() if parts else ""
    if not value:
        raise Unauthorized("missing Authorization header")
    return value


def identify(headers: Mapping[str, str], authorizer_claims: Mapping[str, Any] | None) -> Identity:
    """The caller of a private route; Unauthorized when there is no valid ID token."""
    if get_settings().verify_tokens:
        return Identity.from_claims(verify_id_token(bearer_token(headers)))
    if not authorizer_claims:
        # A private route without the Cognito authorizer in front: refuse, never trust.
        raise Unauthorized("missing Authorization header")
    return Identity.from_claims(authorizer_claims)


def verify_id_token(token: str) -> dict[str, Any]:
    """The claims of a Cognito ID token, verified against the pool's JWKS."""
    import jwt

    settings = get_settings()
    try:
        header = jwt.get_unverified_header(token)
        key = signing_keys().key_for(header.get("kid"))
        claims = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            audience=settings.app_client_id,
            issuer=settings.issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("invalid token") from exc
    if claims.get("token_use") != "id":
        raise Unauthorized("invalid token: an ID token is required")
    return claims


class SigningKeys:
    """The pool's public keys by ``kid``, fetched once and again when an unknown kid shows up
    (Cognito rotates keys), at most once a minute."""

    _REFRESH_INTERVAL = 60.0

    def __init__(self, url: str) -> None:
        self._url = url
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> Any:
        import time

        import jwt

        if not kid:
            raise jwt.InvalidTokenError("no kid")
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self._REFRESH_INTERVAL
            if kid not in self._keys and stale:
                self._keys = self._fetch()
                self._fetched_at = time.monotonic()
            try:
                return self._keys[kid]
            except KeyError:
                raise jwt.InvalidTokenError("unknown kid") from None

    def _fetch(self) -> dict[str, Any]:
        import jwt

        try:
            data = jwt.PyJWKClient(self._url, cache_jwk_set=False).fetch_data()
        except jwt.PyJWKClientError as exc:
            raise Unavailable("cannot fetch the signing keys right now") from exc
        return self.parse(data)

    @staticmethod
    def parse(jwks: dict[str, Any]) -> dict[str, Any]:
        """RSA public keys by kid, from a JWKS document."""
        import jwt

        keys = jwt.PyJWKSet.from_dict(jwks).keys
        return {k.key_id: k.key for k in keys if k.key_id and k.key_type == "RSA"}


@cache
def signing_keys() -> SigningKeys:
    """The cached key set of the stage's user pool."""
    return SigningKeys(get_settings().jwks_location)
