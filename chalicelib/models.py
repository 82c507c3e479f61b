"""Request and response models. They validate bodies and generate the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


def iso_timestamp(moment: datetime | float) -> str:
    """ISO 8601 UTC with milliseconds: ``2026-11-24T07:01:25.123Z``."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown request fields are refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


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
