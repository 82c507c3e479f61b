"""Every /auth flow and error row, through the routes, on moto's Cognito."""

import pytest

from tests import support
from tests.factories import confirmed_user, log_in, sign_up
from tests.support import PASSWORD, pool_users, post, set_limits, table_items


# Sign-up ---------------------------------------------------------------------------------------
def test_sign_up_creates_account_handle_and_profile(client, cognito):
    response = sign_up(client, email="Ana@Example.com", username="Ana.B")
    assert response.status_code == 201
    body = response.json_body
    assert body["username"] == "Ana.B" and body["confirmed"] is False
    items = {(i["PK"], i["SK"]): i for i in table_items()}
    handle = items[("HANDLE#ana.b", "HANDLE")]
    assert handle["status"] == "active" and handle["userId"] == body["userId"]
    assert "ttl" not in handle
    profile = items[(f"USER#{body['userId']}", "PROFILE")]
    assert profile["email"] == "ana@example.com" and profile["name"] == "Ana"
    (user,) = pool_users(cognito)
    attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
    assert attributes["preferred_username"] == "Ana.B"
    assert attributes["sub"] == body["userId"]


def test_taken_email_is_409_and_leaves_no_reservation(client, cognito):
    assert sign_up(client).status_code == 201
    response = sign_up(client, username="other")
    assert response.status_code == 409
    assert response.json_body["Details"] == [{"field": "email", "reason": "taken"}]
    assert not [i for i in table_items() if i["PK"] == "HANDLE#other"]


@pytest.mark.parametrize("handle", ["ana", "ANA", "Ana"])
def test_taken_handle_is_409_case_insensitively(client, cognito, handle):
    assert sign_up(client).status_code == 201
    response = sign_up(client, email="two@example.com", username=handle)
    assert response.status_code == 409
    assert response.json_body["Message"].startswith("username:")
    assert len(pool_users(cognito)) == 1


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short1A", "at least 10 characters"),
        ("alllowercase1", "an upper-case letter"),
        ("ALLUPPERCASE1", "a lower-case letter"),
        ("NoDigitsHere", "a digit"),
    ],
)
def test_weak_password_is_400_naming_the_rule_and_creates_nothing(client, cognito, password, rule):
    response = sign_up(client, password=password)
    assert response.status_code == 400
    assert response.json_body["Message"].startswith("password: must contain")
    assert rule in response.json_body["Message"]
    assert table_items() == [] and pool_users(cognito) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "ab"}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "x" * 31}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "n" * 81}, "name"),
    ],
)
def test_invalid_sign_up_is_400_naming_the_field(client, cognito, changes, field):
    body = {"email": "ana@example.com", "password": PASSWORD, "username": "ana", "name": "Ana"}
    response = post(client, "/auth/signup", body | changes)
    assert response.status_code == 400
    assert response.json_body["Message"].startswith(f"{field}:")
    assert table_items() == []


def test_failed_cognito_sign_up_releases_the_handle(client, cognito, monkeypatch):
    from chalicelib import cognito as user_pool

    real = user_pool.call

    def failing(operation, *args, **kwargs):
        if operation == "admin_update_user_attributes":
            raise user_pool.cognito_error("InternalErrorException")
        return real(operation, *args, **kwargs)

    monkeypatch.setattr(user_pool, "call", failing)
    assert sign_up(client).status_code == 503
    assert table_items() == []
    assert pool_users(cognito) == []  # the half-made Cognito user was deleted


# Confirm, login --------------------------------------------------------------------------------
def test_unconfirmed_login_is_403_saying_so(client, cognito):
    sign_up(client)
    response = log_in(client)
    assert response.status_code == 403
    assert response.json_body["Details"] == [{"reason": "user_not_confirmed"}]


def test_confirmed_login_gives_tokens_that_open_private_routes(client, cognito):
    tokens = confirmed_user(client)
    assert set(tokens) == {"idToken", "accessToken", "refreshToken", "expiresIn"}
    me = client.http.get("/me", headers={"Authorization": tokens["idToken"]})
    assert me.status_code == 200
    assert me.json_body["username"] == "ana"
    assert me.json_body["followerCount"] == 0
    session = client.http.get("/auth/session", headers={"Authorization": tokens["idToken"]})
    assert session.json_body["username"] == "ana"


def test_confirm_with_an_unknown_email_is_400(client, cognito):
    response = post(client, "/auth/confirm", {"email": "ghost@example.com", "code": "1"})
    assert response.status_code == 400
    assert response.json_body["Message"].startswith("code:")


def test_wrong_password_and_unknown_account_answer_the_same(client, cognito):
    confirmed_user(client)
    wrong = log_in(client, password="Wrong-Password-1")
    unknown = log_in(client, email="ghost@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json_body == unknown.json_body


def test_resend_code_is_always_accepted(client, cognito):
    sign_up(client)
    known = post(client, "/auth/resend-code", {"email": "ana@example.com"})
    unknown = post(client, "/auth/resend-code", {"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json_body == unknown.json_body


# Tokens ----------------------------------------------------------------------------------------
def test_refresh_gives_new_tokens_but_no_refresh_token(client, cognito):
    tokens = confirmed_user(client)
    response = post(client, "/auth/refresh", {"refreshToken": tokens["refreshToken"]})
    assert response.status_code == 200
    assert set(response.json_body) == {"idToken", "accessToken", "expiresIn"}


def test_logout_revokes_the_refresh_token(client, cognito):
    tokens = confirmed_user(client)
    response = post(
        client, "/auth/logout", {"accessToken": tokens["accessToken"]}, token=tokens["idToken"]
    )
    assert response.status_code == 204
    again = post(client, "/auth/refresh", {"refreshToken": tokens["refreshToken"]})
    assert again.status_code == 401


def test_garbage_refresh_token_is_401(client, cognito):
    assert post(client, "/auth/refresh", {"refreshToken": "garbage"}).status_code == 401


# Passwords -------------------------------------------------------------------------------------
def test_forgot_password_answers_the_same_for_unknown_accounts(client, cognito):
    confirmed_user(client)
    known = post(client, "/auth/forgot-password", {"email": "ana@example.com"})
    unknown = post(client, "/auth/forgot-password", {"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json_body == unknown.json_body


def test_reset_password_with_the_code(client, cognito):
    confirmed_user(client)
    post(client, "/auth/forgot-password", {"email": "ana@example.com"})
    body = {"email": "ana@example.com", "code": "123456", "newPassword": "Another-Horse-7"}
    assert post(client, "/auth/reset-password", body).status_code == 200
    assert log_in(client, password="Another-Horse-7").status_code == 200


def test_reset_password_with_a_wrong_code_is_400(client, cognito):
    confirmed_user(client)
    post(client, "/auth/forgot-password", {"email": "ana@example.com"})
    # moto checks codes that carry its prefix; any other code it accepts (docs/architecture.md)
    body = {
        "email": "ana@example.com",
        "code": "moto-confirmation-code:0000",
        "newPassword": "Another-Horse-7",
    }
    response = post(client, "/auth/reset-password", body)
    assert response.status_code == 400
    assert response.json_body["Message"].startswith("code:")


def test_reset_password_checks_the_policy(client, cognito):
    body = {"email": "ana@example.com", "code": "1", "newPassword": "weak"}
    response = post(client, "/auth/reset-password", body)
    assert response.status_code == 400
    assert response.json_body["Message"].startswith("newPassword: must contain")


def test_change_password(client, cognito):
    tokens = confirmed_user(client)
    body = {
        "accessToken": tokens["accessToken"],
        "oldPassword": "Wrong-Password-1",
        "newPassword": "Another-Horse-7",
    }
    wrong = post(client, "/auth/change-password", body, token=tokens["idToken"])
    assert wrong.status_code == 400
    assert wrong.json_body["Message"].startswith("oldPassword:")
    body["oldPassword"] = PASSWORD
    assert post(client, "/auth/change-password", body, token=tokens["idToken"]).status_code == 200
    assert log_in(client, password="Another-Horse-7").status_code == 200


def test_access_token_of_another_user_is_403(client, cognito):
    ana = confirmed_user(client)
    bob = confirmed_user(client, "bob@example.com", "bob")
    for path in ("/auth/logout", "/auth/mfa/setup"):
        response = post(client, path, {"accessToken": bob["accessToken"]}, token=ana["idToken"])
        assert response.status_code == 403, path
    response = post(
        client,
        "/auth/change-password",
        {
            "accessToken": bob["accessToken"],
            "oldPassword": PASSWORD,
            "newPassword": "Another-Horse-7",
        },
        token=ana["idToken"],
    )
    assert response.status_code == 403
    assert log_in(client, "bob@example.com").status_code == 200  # bob untouched


# MFA -------------------------------------------------------------------------------------------
def test_totp_mfa_round_trip(client, cognito):
    tokens = confirmed_user(client)
    auth_header = tokens["idToken"]
    setup = post(
        client, "/auth/mfa/setup", {"accessToken": tokens["accessToken"]}, token=auth_header
    )
    assert setup.status_code == 200
    secret = setup.json_body["secret"]
    assert setup.json_body["otpauthUri"].startswith("otpauth://totp/Echomate%3Aana%40example.com?")
    assert f"secret={secret}" in setup.json_body["otpauthUri"]
    totp = support.totp(secret)

    wrong_code = str((int(totp.now()) + 1) % 1_000_000).zfill(6)
    verify = {"accessToken": tokens["accessToken"], "code": wrong_code}
    assert post(client, "/auth/mfa/verify", verify, token=auth_header).status_code == 400
    verify["code"] = totp.now()
    response = post(client, "/auth/mfa/verify", verify, token=auth_header)
    assert response.status_code == 200 and response.json_body == {"mfaEnabled": True}

    challenge = log_in(client).json_body
    assert challenge["challenge"] == "SOFTWARE_TOKEN_MFA" and challenge["session"]
    answer = {"email": "ana@example.com", "session": challenge["session"], "code": wrong_code}
    assert post(client, "/auth/mfa/challenge", answer).status_code == 401
    answer["code"] = totp.now()
    response = post(client, "/auth/mfa/challenge", answer)
    assert response.status_code == 200 and "idToken" in response.json_body

    off = post(
        client,
        "/auth/mfa",
        {"accessToken": tokens["accessToken"]},
        token=auth_header,
        method="DELETE",
    )
    assert off.status_code == 204
    assert "idToken" in log_in(client).json_body


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567"])
def test_malformed_totp_code_is_400(client, cognito, code):
    body = {"email": "ana@example.com", "session": "s" * 40, "code": code}
    response = post(client, "/auth/mfa/challenge", body)
    assert response.status_code == 400
    assert response.json_body["Message"].startswith("code:")


# Admins ----------------------------------------------------------------------------------------
def test_admin_disables_an_account(client, cognito):
    victim = confirmed_user(client, "bob@example.com", "bob")
    confirmed_user(client, "root@example.com", "root")
    cognito["idp"].admin_add_user_to_group(
        UserPoolId=cognito["pool_id"], Username="root@example.com", GroupName="admins"
    )
    admin = log_in(client, "root@example.com").json_body  # a new sign-in carries the group
    response = post(client, "/admin/users/BOB/disable", token=admin["idToken"])
    assert response.status_code == 200
    assert response.json_body == {
        "userId": support.claims_of(victim["idToken"])["sub"],
        "username": "bob",
        "disabled": True,
    }
    assert log_in(client, "bob@example.com").status_code == 401
    refresh = post(client, "/auth/refresh", {"refreshToken": victim["refreshToken"]})
    assert refresh.status_code == 401
    profile = next(i for i in table_items() if i["SK"] == "PROFILE" and i["username"] == "bob")
    assert profile["disabled"] is True and profile["disabledBy"]
    assert post(client, "/admin/users/root/disable", token=admin["idToken"]).status_code == 400
    assert post(client, "/admin/users/nobody/disable", token=admin["idToken"]).status_code == 404


def test_non_admin_cannot_disable(client, cognito):
    confirmed_user(client, "bob@example.com", "bob")
    ana = confirmed_user(client)
    response = post(client, "/admin/users/bob/disable", token=ana["idToken"])
    assert response.status_code == 403
    assert log_in(client, "bob@example.com").status_code == 200


# Abuse limits and throttling -------------------------------------------------------------------
def test_sign_ups_per_address_are_limited(client, cognito, monkeypatch):
    set_limits(monkeypatch, signup_ip="2/1800")
    assert sign_up(client, "a1@example.com", "a1_user").status_code == 201
    assert sign_up(client, "a2@example.com", "a2_user").status_code == 201
    response = sign_up(client, "a3@example.com", "a3_user")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 1800
    assert len(pool_users(cognito)) == 2


def test_logins_per_account_are_limited(client, cognito, monkeypatch):
    confirmed_user(client)
    set_limits(monkeypatch, login_account="3/900")
    codes = [log_in(client, password="Wrong-Password-1").status_code for _ in range(4)]
    assert codes == [401, 401, 429, 429] or codes == [401, 401, 401, 429]
    assert log_in(client).status_code == 429  # even the right password waits


def test_forgot_password_is_limited_per_account(client, cognito, monkeypatch):
    set_limits(monkeypatch, forgot_account="1/3600")
    body = {"email": "ana@example.com"}
    assert post(client, "/auth/forgot-password", body).status_code == 202
    assert post(client, "/auth/forgot-password", body).status_code == 429


def test_cognito_throttling_is_429_with_retry_after(client, cognito, monkeypatch):
    from botocore.exceptions import ClientError

    from chalicelib import aws

    class Throttled:
        def __getattr__(self, name):
            def call(**kwargs):
                raise ClientError(
                    {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}},
                    name,
                )

            return call

    real = aws.client
    monkeypatch.setattr(aws, "client", lambda s: Throttled() if s == "cognito-idp" else real(s))
    response = log_in(client)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
