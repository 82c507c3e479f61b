"""Sessions that really end (a disabled, deleted or signed-out account's token is refused on
every private route) and sign-ups that expire unconfirmed."""

import time

import pytest

from chalicelib import accounts, auth, sessions
from chalicelib.errors import Unauthorized
from tests import support
from tests.factories import confirmed_user, log_in, sign_up
from tests.support import call, post

# One request of each kind a token opens: reads, writes of every class, uploads, account routes
ROUTES = [
    ("GET", "/me", None),
    ("GET", "/feed", None),
    ("POST", "/posts", {"caption": "still here?"}),
    ("PUT", "/users/bob/follow", None),
    ("POST", "/media", {"contentType": "image/jpeg", "contentLength": 100, "purpose": "post"}),
    ("PATCH", "/me", {"name": "Renamed"}),
    ("PUT", "/me/username", {"username": "newname"}),
    ("DELETE", "/me", None),
]


@pytest.fixture
def ana_and_bob(client, cognito):
    ana = confirmed_user(client)
    confirmed_user(client, "bob@example.com", "bob")
    return ana


def _refused_everywhere(client, token):
    for method, path, body in ROUTES:
        answer = call(client, method, path, token, body)
        assert answer.status_code == 401, (method, path, answer.json_body)
        assert answer.json_body["Code"] == "UnauthorizedError"


def test_after_logout_the_id_token_is_refused_everywhere(client, ana_and_bob):
    ana = ana_and_bob
    assert call(client, "GET", "/me", ana["idToken"]).status_code == 200
    out = call(client, "POST", "/auth/logout", ana["idToken"], {"accessToken": ana["accessToken"]})
    assert out.status_code == 204
    _refused_everywhere(client, ana["idToken"])
    # a new sign-in is a new session, honoured at once (even within the same second)
    again = log_in(client).json_body
    assert call(client, "GET", "/me", again["idToken"]).status_code == 200


def test_a_password_change_ends_the_other_sessions_only(client, ana_and_bob):
    phone = ana_and_bob
    laptop = log_in(client).json_body
    time.sleep(1.1)  # the change comes after both sign-ins, by whole seconds (iat)
    changed = call(
        client,
        "POST",
        "/auth/change-password",
        laptop["idToken"],
        {
            "accessToken": laptop["accessToken"],
            "oldPassword": support.PASSWORD,
            "newPassword": support.PASSWORD + "X",
        },
    )
    assert changed.status_code == 200, changed.json_body
    assert call(client, "GET", "/me", laptop["idToken"]).status_code == 200
    assert call(client, "GET", "/me", phone["idToken"]).status_code == 401


def test_a_disabled_account_is_refused_everywhere_even_for_a_moderator(client, cognito):
    confirmed_user(client, "bob@example.com", "bob")
    victim = confirmed_user(client, "mod@example.com", "mod")
    confirmed_user(client, "root@example.com", "root")
    for email, group in (("root@example.com", "admins"), ("mod@example.com", "moderators")):
        cognito["idp"].admin_add_user_to_group(
            UserPoolId=cognito["pool_id"], Username=email, GroupName=group
        )
    admin = log_in(client, "root@example.com").json_body
    moderator = log_in(client, "mod@example.com").json_body
    post_id = call(client, "POST", "/posts", victim["idToken"], {"caption": "x"}).json_body
    assert post(client, "/admin/users/mod/disable", token=admin["idToken"]).status_code == 200
    _refused_everywhere(client, moderator["idToken"])
    gone = call(client, "DELETE", f"/posts/{post_id['postId']}", moderator["idToken"])
    assert gone.status_code == 401


def test_a_deleted_account_is_refused_everywhere_and_writes_nothing(client, ana_and_bob):
    ana = ana_and_bob
    bobs_post = call(
        client,
        "POST",
        "/posts",
        log_in(client, "bob@example.com").json_body["idToken"],
        {"caption": "by bob"},
    ).json_body["postId"]
    assert call(client, "DELETE", "/me", ana["idToken"]).status_code == 202
    before = support.table_items()
    for method, path, body in [
        ("PUT", f"/posts/{bobs_post}/like", None),
        ("POST", f"/posts/{bobs_post}/comments", {"text": "ghost"}),
        ("POST", f"/posts/{bobs_post}/report", {"reason": "spam"}),
    ]:
        assert call(client, method, path, ana["idToken"], body).status_code == 401
    assert [i for i in support.table_items() if i not in before] == []
    _refused_everywhere(client, ana["idToken"])


def test_a_password_reset_ends_every_session(client, cognito, ana_and_bob):
    ana = ana_and_bob
    time.sleep(1.1)  # the reset comes after the sign-in, by whole seconds (iat)
    reset = post(
        client,
        "/auth/reset-password",
        {"email": "ana@example.com", "code": "123456", "newPassword": "N3w-password!"},
    )
    assert reset.status_code == 200, reset.json_body
    assert call(client, "GET", "/me", ana["idToken"]).status_code == 401


def test_standing_is_cached_per_instance_for_a_bounded_time(ana_and_bob, monkeypatch):
    claims = support.claims_of(ana_and_bob["idToken"])
    user_id, iat, session = claims["sub"], claims["iat"], claims.get("origin_jti")
    sessions.check(user_id, iat, session, now=1000.0)  # read once, cached at t=1000
    # Another instance ends the sessions: the table changes, this instance's copy does not
    monkeypatch.setattr(accounts, "forget", lambda user_id: None)
    sessions.end_sessions(user_id, ending=session)
    sessions.check(user_id, iat, session, now=1000.0 + accounts.CACHE_SECONDS - 1)
    with pytest.raises(Unauthorized, match="session has ended"):
        sessions.check(user_id, iat, session, now=1000.0 + accounts.CACHE_SECONDS + 1)


# Unconfirmed sign-ups ---------------------------------------------------------------------------
def test_an_unconfirmed_account_is_neither_found_nor_followable(client, cognito):
    bob = confirmed_user(client, "bob@example.com", "bob")["idToken"]
    assert sign_up(client, "eve@example.com", "evelyn", name="Evelyn").status_code == 201
    assert call(client, "GET", "/users/evelyn", bob).status_code == 404
    assert call(client, "PUT", "/users/evelyn/follow", bob).status_code == 404
    assert call(client, "GET", "/users?q=evel", bob).json_body["items"] == []
    confirm = post(client, "/auth/confirm", {"email": "eve@example.com", "code": "1"})
    assert confirm.status_code == 200
    assert call(client, "GET", "/users/evelyn", bob).status_code == 200
    assert [
        u["username"] for u in call(client, "GET", "/users?q=evel", bob).json_body["items"]
    ] == ["evelyn"]


def test_an_unconfirmed_account_expires_and_frees_its_email_and_handle(client, cognito):
    assert sign_up(client, "eve@example.com", "evelyn").status_code == 201
    assert auth.expire_unconfirmed() == 0  # not yet: it has a week
    later = time.time() + auth.UNCONFIRMED_EXPIRE_SECONDS + 60
    assert auth.expire_unconfirmed(now=later) == 1
    assert support.pool_users(cognito) == []
    assert [i for i in support.table_items() if "evelyn" in str(i).lower()] == []
    assert sign_up(client, "eve@example.com", "evelyn").status_code == 201  # both free again


def test_a_confirmed_account_is_never_expired(client, cognito):
    confirmed_user(client, "eve@example.com", "evelyn")
    later = time.time() + auth.UNCONFIRMED_EXPIRE_SECONDS + 60
    assert auth.expire_unconfirmed(now=later) == 0
    assert len(support.pool_users(cognito)) == 1
