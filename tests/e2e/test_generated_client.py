"""A client generated from the stack's own `/openapi.json` (openapi-python-client, as a frontend
team would make one) drives the journey over HTTP, errors included (issue 12).

The client is made with ``raise_on_unexpected_status=True``: a status the document does not
declare for the operation raises ``UnexpectedStatus`` instead of passing as ``None``, and every
declared answer is parsed into the generated model (an answer that does not fit its schema
raises while parsing). The generator must also take the document whole: a schema it cannot
read (it drops the model and every operation answering it) fails the test.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
import uuid
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import support
from tests.factories import jpeg

_GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(stack, tmp_path_factory) -> Any:
    """The generated package, imported: `echomate_client`, from the running stack's document."""
    folder = tmp_path_factory.mktemp("client")
    document = folder / "openapi.json"
    document.write_bytes(requests.get(f"{stack.api}/openapi.json", timeout=30).content)
    (folder / "config.yaml").write_text(
        "post_hooks: []\nproject_name_override: echomate-client\n"
        "package_name_override: echomate_client\n",
        encoding="utf-8",
    )
    made = subprocess.run(
        [str(_GENERATOR), "generate", "--path", str(document), "--config", "config.yaml"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = made.stdout + made.stderr
    assert made.returncode == 0, output
    # every schema and every response read: the generator warns, and drops them, otherwise
    for complaint in ("Unable to process", "Cannot parse response", "WARNING"):
        assert complaint not in output, output
    sys.path.insert(0, str(folder / "echomate-client"))
    try:
        yield importlib.import_module("echomate_client")
    finally:
        sys.path.remove(str(folder / "echomate-client"))
        for name in [m for m in sys.modules if m.split(".")[0] == "echomate_client"]:
            del sys.modules[name]


def _op(name: str) -> Any:
    area, operation = name.split(".")
    return importlib.import_module(f"echomate_client.api.{area}.{operation}")


def _models() -> Any:
    return importlib.import_module("echomate_client.models")


def _sign_up(client: Any, handle: str) -> Any:
    """Sign up, confirm (moto takes any code) and sign in with the generated operations."""
    m = _models()
    email = f"{handle}@example.com"
    signed = _op("auth.post_auth_signup").sync_detailed(
        client=client,
        body=m.SignupIn(email=email, password=support.PASSWORD, username=handle, name=handle),
    )
    assert signed.status_code == HTTPStatus.CREATED, signed.content
    confirmed = _op("auth.post_auth_confirm").sync_detailed(
        client=client, body=m.ConfirmIn(email=email, code="123456")
    )
    assert confirmed.status_code == HTTPStatus.OK, confirmed.content
    login = _op("auth.post_auth_login").sync_detailed(
        client=client, body=m.LoginIn(email=email, password=support.PASSWORD)
    )
    assert login.status_code == HTTPStatus.OK
    assert isinstance(login.parsed, m.TokensOut)
    return login.parsed


def test_a_generated_client_drives_the_journey_errors_included(stack, generated):
    m = _models()
    anonymous = generated.Client(base_url=stack.api, raise_on_unexpected_status=True, timeout=30)
    health = _op("meta.get_health").sync_detailed(client=anonymous)
    assert health.status_code == HTTPStatus.OK and health.parsed.status == "ok"

    # errors a frontend meets before signing in, each parsed as the error envelope
    wrong = _op("auth.post_auth_login").sync_detailed(
        client=anonymous, body=m.LoginIn(email="nobody@example.com", password="Not-it-123")
    )
    assert wrong.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(wrong.parsed, m.ErrorOut) and wrong.parsed.code
    stale = _op("auth.post_auth_refresh").sync_detailed(
        client=anonymous, body=m.RefreshIn(refresh_token="not-a-refresh-token")
    )
    assert stale.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
    assert isinstance(stale.parsed, m.ErrorOut)
    tag = uuid.uuid4().hex[:6]
    ana_tokens = _sign_up(anonymous, f"gen_ana_{tag}")
    ben_tokens = _sign_up(anonymous, f"gen_ben_{tag}")

    def signed_in(tokens: Any) -> Any:
        return generated.AuthenticatedClient(
            base_url=stack.api, token=tokens.id_token, raise_on_unexpected_status=True, timeout=30
        )

    ana, ben = signed_in(ana_tokens), signed_in(ben_tokens)
    no_token = _op("users.get_me").sync_detailed(
        client=generated.AuthenticatedClient(
            base_url=stack.api, token="forged.token.value", raise_on_unexpected_status=True
        )
    )
    assert no_token.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(no_token.parsed, m.ErrorOut)

    # the profile: read, then a merge patch
    me = _op("users.get_me").sync_detailed(client=ana)
    assert me.status_code == HTTPStatus.OK and me.parsed.username == f"gen_ana_{tag}"
    patched = _op("users.patch_me").sync_detailed(
        client=ana, body=m.MePatch(name="Ana from the generated client")
    )
    assert patched.status_code == HTTPStatus.OK
    assert patched.parsed.name == "Ana from the generated client"

    # a photo: the presigned POST straight to the embedded S3, then `ready`
    data = jpeg(1200, 900)
    request = m.MediaRequestIn(
        content_type="image/jpeg",
        content_length=len(data),
        purpose=m.MediaRequestInPurpose.POST,
    )
    upload = _op("media.post_media").sync_detailed(client=ana, body=request)
    assert upload.status_code == HTTPStatus.CREATED
    form = upload.parsed.upload
    sent = requests.post(
        form.url,
        data=form.fields.to_dict(),
        files={"file": ("photo.jpg", data, "image/jpeg")},
        timeout=30,
    )
    assert sent.status_code in (200, 204), sent.text
    deadline = time.monotonic() + 10
    while True:
        media = _op("media.get_media_by_media_id").sync_detailed(upload.parsed.media_id, client=ana)
        assert media.status_code == HTTPStatus.OK
        if media.parsed.status != m.MediaOutStatus.PENDING or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert media.parsed.status == m.MediaOutStatus.READY
    assert media.parsed.blurhash and media.parsed.renditions.thumb.startswith("http://127.0.0.1:")

    # a post, created once under an Idempotency-Key, replayed, then refused for another body
    key = uuid.uuid4().hex
    body = m.PostIn(caption="From a generated client #genclient", media_ids=[media.parsed.media_id])
    post = _op("posts.post_posts").sync_detailed(client=ana, body=body, idempotency_key=key)
    assert post.status_code == HTTPStatus.CREATED
    assert post.parsed.hashtags == ["genclient"]
    again = _op("posts.post_posts").sync_detailed(client=ana, body=body, idempotency_key=key)
    assert again.status_code == HTTPStatus.CREATED
    assert again.parsed.post_id == post.parsed.post_id
    other = _op("posts.post_posts").sync_detailed(
        client=ana, body=m.PostIn(caption="another body"), idempotency_key=key
    )
    assert other.status_code == HTTPStatus.CONFLICT and isinstance(other.parsed, m.ErrorOut)
    post_id = post.parsed.post_id

    # Ben follows Ana, sees the post in his feed, likes and comments; Ana sees both
    follow = _op("users.put_users_by_username_follow").sync_detailed(f"gen_ana_{tag}", client=ben)
    assert follow.status_code == HTTPStatus.OK
    itself = _op("users.put_users_by_username_follow").sync_detailed(f"gen_ben_{tag}", client=ben)
    assert itself.status_code == HTTPStatus.BAD_REQUEST and isinstance(itself.parsed, m.ErrorOut)
    deadline = time.monotonic() + 10
    while True:  # the followed account's posts join the feed from the stream (the event pump)
        feed = _op("feed.get_feed").sync_detailed(client=ben, limit=10)
        assert feed.status_code == HTTPStatus.OK
        shown = [p for p in feed.parsed.items if p.post_id == post_id]
        if shown or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    (shown,) = shown
    assert shown.author.username == f"gen_ana_{tag}" and len(shown.media) == 1
    like = _op("interactions.put_posts_by_post_id_like").sync_detailed(post_id, client=ben)
    assert like.status_code == HTTPStatus.OK and like.parsed.like_count == 1
    comment = _op("interactions.post_posts_by_post_id_comments").sync_detailed(
        post_id, client=ben, body=m.CommentIn(text="Lovely light")
    )
    assert comment.status_code == HTTPStatus.CREATED
    deadline = time.monotonic() + 10
    while True:  # notifications are written by the stream handler (the event pump, locally)
        activity = _op("activity.get_activity").sync_detailed(client=ana)
        assert activity.status_code == HTTPStatus.OK
        kinds = {item.type_.value for item in activity.parsed.items}
        if {"like", "comment"} <= kinds or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {"like", "comment"} <= kinds

    # what a client gets wrong: someone else's post, an unknown post, a stale version
    refused = _op("posts.delete_posts_by_post_id").sync_detailed(post_id, client=ben)
    assert refused.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)
    assert isinstance(refused.parsed, m.ErrorOut)
    unknown = _op("posts.get_posts_by_post_id").sync_detailed(
        "01J0000000000000000000000", client=ana
    )
    assert unknown.status_code == HTTPStatus.NOT_FOUND and isinstance(unknown.parsed, m.ErrorOut)
    stale_edit = _op("users.patch_me").sync_detailed(
        client=ana, body=m.MePatch(name="stale"), if_match="1"
    )
    assert stale_edit.status_code in (HTTPStatus.CONFLICT, HTTPStatus.PRECONDITION_FAILED)

    # and Ana deletes the post: a 204 with nothing to parse
    gone = _op("posts.delete_posts_by_post_id").sync_detailed(post_id, client=ana)
    assert gone.status_code == HTTPStatus.NO_CONTENT
    after = _op("posts.get_posts_by_post_id").sync_detailed(post_id, client=ben)
    assert after.status_code == HTTPStatus.NOT_FOUND
