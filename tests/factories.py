"""Test data shared by the tiers: users, media and photos, made the way the app makes them.

Service tier: straight through chalicelib, on moto in-process. API tier: through the routes
(``chalice.test.Client``). E2E tier: over HTTP on the embedded stack.
"""

from __future__ import annotations

import io
from typing import Any

from tests import support

#: The media bucket of the test settings (TEST_ENV["MEDIA_BUCKET"]).
BUCKET = "echomate-test-media"


# Photos ----------------------------------------------------------------------------------------
def jpeg(width=1600, height=1200, *, orientation: int | None = None, gps=False) -> bytes:
    """A JPEG photo: red with a blue top band, so its orientation can be seen."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width, height // 4))  # a blue top band
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (59.0, 54.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


# Service tier ----------------------------------------------------------------------------------
def make_user(handle: str, name: str | None = None, user_id: str | None = None) -> str:
    """A profile with its handle reserved and bound (no Cognito account): its user id."""
    from chalicelib import users

    user_id = user_id or f"id-{handle.lower()}"
    reservation = users.reserve_handle(handle)
    users.create_profile(
        user_id, handle, f"{handle.lower()}@example.com", name or handle, reservation
    )
    return user_id


def upload(
    owner: str,
    data: bytes,
    *,
    purpose: str = "post",
    content_type: str = "image/jpeg",
    length: int | None = None,
) -> tuple[str, str]:
    """Ask for an upload, then put the bytes where the presigned POST would: (media id, key)."""
    import boto3

    from chalicelib import media
    from chalicelib.models import MediaRequestIn

    out = media.request_upload(
        owner,
        MediaRequestIn(
            content_type=content_type, content_length=length or len(data), purpose=purpose
        ),
    )
    key = out.upload.fields["key"]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=data)
    return out.media_id, key


def ready_media(owner: str, purpose: str = "post") -> str:
    """An uploaded and processed photo of ``owner``'s: its media id."""
    from chalicelib import media

    media_id, key = upload(owner, jpeg(), purpose=purpose)
    assert media.process_upload(BUCKET, key) == "ready"
    return media_id


def objects() -> list[str]:
    """The keys in the media bucket, sorted."""
    import boto3

    listing = boto3.client("s3").list_objects_v2(Bucket=BUCKET)
    return sorted(o["Key"] for o in listing.get("Contents", []))


# API tier: through the routes ------------------------------------------------------------------
def sign_up(
    client: Any,
    email: str = "ana@example.com",
    username: str = "ana",
    password: str = support.PASSWORD,
    name: str = "Ana",
) -> Any:
    """POST /auth/signup: the response."""
    return support.post(
        client,
        "/auth/signup",
        {"email": email, "password": password, "username": username, "name": name},
    )


def log_in(client: Any, email: str = "ana@example.com", password: str = support.PASSWORD) -> Any:
    """POST /auth/login: the response."""
    return support.post(client, "/auth/login", {"email": email, "password": password})


def confirmed_user(client: Any, email: str = "ana@example.com", username: str = "ana") -> Any:
    """A user signed up, confirmed and logged in through the routes: the login's body."""
    assert sign_up(client, email, username).status_code == 201
    confirmed = support.post(client, "/auth/confirm", {"email": email, "code": "123456"})
    assert confirmed.status_code == 200
    response = log_in(client, email)
    assert response.status_code == 200, response.json_body
    return response.json_body


# E2E tier: over HTTP on the embedded stack -----------------------------------------------------
def sign_up_and_log_in(stack: Any, email: str, username: str) -> dict[str, Any]:
    """A user signed up, confirmed and logged in on the running stack: the login's body."""
    from tests.e2e.stack import call

    password = support.PASSWORD
    body = {"email": email, "password": password, "username": username, "name": username}
    assert call(f"{stack.api}/auth/signup", "POST", body=body)[0] == 201
    assert call(f"{stack.api}/auth/confirm", "POST", body={"email": email, "code": "1"})[0] == 200
    status, tokens = call(
        f"{stack.api}/auth/login", "POST", body={"email": email, "password": password}
    )
    assert status == 200, tokens
    return tokens
