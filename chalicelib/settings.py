"""The settings model: a stage's environment, validated (``config.get_settings()`` builds it).

Its own module so that ``chalicelib.config`` (what ``app.py`` reads at import time) does not load
pydantic: the model is imported, and its validator built, by the first request.
"""

from __future__ import annotations

import re
from ipaddress import ip_address
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, Json, SecretStr, model_validator

from chalicelib.limits import DEFAULT_RATE_LIMITS

Stage = Literal["local", "dev", "staging", "prod", "test"]


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseModel):
    """The validated settings of one stage."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stage: Stage = Field(alias="ECHOMATE_STAGE")
    debug: bool = Field(False, alias="ECHOMATE_DEBUG")
    region: str = Field(alias="AWS_DEFAULT_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")
    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    media_bucket: str = Field(alias="MEDIA_BUCKET", min_length=3)
    user_pool_id: str = Field(alias="COGNITO_USER_POOL_ID", min_length=1)
    app_client_id: str = Field(alias="COGNITO_APP_CLIENT_ID", min_length=1)
    # True where nothing in front of the app checks tokens (chalice local, chalice.test.Client):
    # the app then verifies every ID token itself against the pool's JWKS.
    verify_tokens: bool = Field(False, alias="VERIFY_TOKENS_IN_APP")
    cognito_issuer: str | None = Field(None, alias="COGNITO_ISSUER")
    jwks_url: str | None = Field(None, alias="COGNITO_JWKS_URL")
    cursor_secret: SecretStr | None = Field(None, alias="CURSOR_SECRET")
    cursor_secret_arn: str | None = Field(None, alias="CURSOR_SECRET_ARN")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="LOG_LEVEL")
    rate_limit_overrides: Json[dict[str, str]] = Field(default_factory=dict, alias="RATE_LIMITS")
    media_max_bytes_post: int = Field(20 * 1024 * 1024, alias="MEDIA_MAX_BYTES_POST", gt=0)
    media_max_bytes_avatar: int = Field(5 * 1024 * 1024, alias="MEDIA_MAX_BYTES_AVATAR", gt=0)
    media_max_pending: int = Field(20, alias="MEDIA_MAX_PENDING", gt=0)
    media_max_pixels: int = Field(40_000_000, alias="MEDIA_MAX_PIXELS", gt=0)
    media_upload_seconds: int = Field(600, alias="MEDIA_UPLOAD_SECONDS", gt=0)
    media_url_seconds: int = Field(3600, alias="MEDIA_URL_SECONDS", gt=0)
    media_cleanup_after_seconds: int = Field(24 * 3600, alias="MEDIA_CLEANUP_AFTER_SECONDS")
    # Accounts with at least this many followers are not fanned out: their posts are merged
    # into followers' feeds at read time, so one post never costs millions of writes.
    fanout_max_followers: int = Field(5000, alias="FANOUT_MAX_FOLLOWERS", gt=0)
    # A CloudFront domain serving media/ (infra: EnableCdn); without it, presigned GETs.
    media_cdn_domain: str | None = Field(None, alias="MEDIA_CDN_DOMAIN")
    # Where pushes to WebSocket connections go (API Gateway's management API). Unset on AWS:
    # found from the WebSocket API chalice deployed (``<app>-<stage>-websocket-api``); the
    # embedded stack points it at its own stand-in (devstack/websocket.py).
    websocket_endpoint: str | None = Field(None, alias="WEBSOCKET_ENDPOINT")
    # The SNS platform applications phones register under (made outside the template: they
    # hold the APNs key and the FCM credentials); unset: that platform is refused.
    push_apns_arn: str | None = Field(None, alias="PUSH_APNS_APPLICATION_ARN")
    push_fcm_arn: str | None = Field(None, alias="PUSH_FCM_APPLICATION_ARN")
    # likes of one post push once in this window; the next push names the ones held back
    push_group_seconds: int = Field(600, alias="PUSH_GROUP_SECONDS", gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.verify_tokens and not self.cognito_issuer:
            raise ValueError("COGNITO_ISSUER is required when VERIFY_TOKENS_IN_APP is true")
        if not (self.cursor_secret or self.cursor_secret_arn):
            raise ValueError("one of CURSOR_SECRET or CURSOR_SECRET_ARN is required")
        for name, value in self.rate_limit_overrides.items():
            if name not in DEFAULT_RATE_LIMITS:
                raise ValueError(f"RATE_LIMITS: unknown limit {name!r}")
            if not re.fullmatch(r"[1-9]\d*/[1-9]\d*", value):
                raise ValueError(f"RATE_LIMITS: {name} must look like 'hits/seconds'")
        if self.cursor_secret and len(self.cursor_secret.get_secret_value()) < 16:
            raise ValueError("CURSOR_SECRET must be at least 16 characters")
        if self.stage in ("local", "test"):
            # The local stages must never reach real AWS, whatever credentials lie around.
            if self.stage == "local" and not self.aws_endpoint_url:
                raise ValueError("AWS_ENDPOINT_URL is required on the local stage (run `make dev`)")
            if self.aws_endpoint_url and not _is_loopback(self.aws_endpoint_url):
                raise ValueError("AWS_ENDPOINT_URL must point at 127.0.0.1 on the local stages")
            if self.websocket_endpoint and not _is_loopback(self.websocket_endpoint):
                raise ValueError("WEBSOCKET_ENDPOINT must point at 127.0.0.1 on the local stages")
            if self.jwks_url and not _is_loopback(self.jwks_url):
                raise ValueError("COGNITO_JWKS_URL must point at 127.0.0.1 on the local stages")
        elif self.debug:
            raise ValueError("ECHOMATE_DEBUG may only be true on the local stages")
        return self

    def rate_limit(self, name: str) -> tuple[int, int]:
        """(hits, window seconds) of the abuse limit ``name``."""
        hits, seconds = self.rate_limit_overrides.get(name, DEFAULT_RATE_LIMITS[name]).split("/")
        return int(hits), int(seconds)

    @property
    def issuer(self) -> str:
        """The user pool's token issuer (given, or Cognito's URL for the pool)."""
        return self.cognito_issuer or (
            f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"
        )

    @property
    def jwks_location(self) -> str:
        """Where the pool's signing keys are published."""
        return self.jwks_url or f"{self.issuer}/.well-known/jwks.json"
