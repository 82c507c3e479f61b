"""Every private route verifies the ID token, also where chalice itself would not."""

import time

import pytest
from cryptography.hazmat.primitives import serialization

from tests import support
from tests.factories import make_user

PRIVATE = "/auth/session"


def _get(client, token=None, raw_header=None):
    headers = {}
    if raw_header is not None:
        headers["Authorization"] = raw_header
    elif token is not None:
        headers["Authorization"] = token
    return client.http.get(PRIVATE, headers=headers)


def _assert_401(response, message=None):
    assert response.status_code == 401
    assert response.json_body["Code"] == "UnauthorizedError"
    if message:
        assert message in response.json_body["Message"]


def test_valid_id_token_identifies_the_caller(client, user):
    response = _get(client, user["IdToken"])
    assert response.status_code == 200
    body = response.json_body
    assert body["userId"] == user["claims"]["sub"]
    assert body["email"] == "ana@example.com"
    assert body["username"] == "ana"
    assert body["groups"] == []
    assert body["expiresAt"].endswith("Z")


def test_bearer_prefix_is_accepted(client, user):
    assert _get(client, f"Bearer {user['IdToken']}").status_code == 200


def test_groups_come_from_the_token(client, cognito):
    tokens = support.sign_up(
        cognito["idp"],
        cognito["client_id"],
        "mod@example.com",
        groups=("moderators",),
        pool_id=cognito["pool_id"],
    )
    make_user("mod", user_id=support.claims_of(tokens["IdToken"])["sub"])
    assert _get(client, tokens["IdToken"]).json_body["groups"] == ["moderators"]


def test_missing_token(client, cognito):
    _assert_401(_get(client), "missing")


@pytest.mark.parametrize(
    "header", ["garbage", "Bearer garbage", "a.b.c", "Bearer", "....", "eyJhbGciOiJSUzI1NiJ9.!!!.x"]
)
def test_garbage_token(client, cognito, header):
    _assert_401(_get(client, raw_header=header))


def test_unsigned_token(client, user):
    _assert_401(_get(client, support.unsigned_token(user["claims"])))


def test_hs256_token_signed_with_the_public_key(client, user):
    # The classic algorithm-confusion forgery: HMAC keyed with the RSA public key.
    public = (
        support.moto_private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    import base64
    import hashlib
    import hmac
    import json

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "kid": "dummy", "typ": "JWT"}).encode())
    payload = b64(json.dumps(user["claims"]).encode())
    signature = b64(hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    _assert_401(_get(client, f"{header}.{payload}.{signature}"))


def test_expired_token(client, user):
    token = support.signed_token(support.expired_claims(user["claims"]))
    _assert_401(_get(client, token), "expired")


def test_tampered_token(client, user):
    _assert_401(_get(client, support.tampered(user["IdToken"], sub="someone-else")))


def test_token_for_another_app_client(client, user):
    _assert_401(_get(client, support.signed_token(user["claims"] | {"aud": "another-client"})))


def test_token_from_another_issuer(client, user):
    claims = user["claims"] | {"iss": "https://cognito-idp.us-east-1.amazonaws.com/other"}
    _assert_401(_get(client, support.signed_token(claims)))


def test_access_token_is_not_an_id_token(client, user):
    _assert_401(_get(client, user["AccessToken"]))
    claims = user["claims"] | {"token_use": "access"}
    _assert_401(_get(client, support.signed_token(claims)), "ID token")


def test_token_signed_by_an_unknown_key(client, user):
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _assert_401(_get(client, support.signed_token(user["claims"], key=other)))
    _assert_401(_get(client, support.signed_token(user["claims"], key=other, kid="other")))


def test_token_without_expiry(client, user):
    claims = {k: v for k, v in user["claims"].items() if k != "exp"}
    _assert_401(_get(client, support.signed_token(claims)))


def test_token_from_the_future_is_refused(client, user):
    now = int(time.time())
    claims = user["claims"] | {"iat": now + 3600, "exp": now + 7200}
    _assert_401(_get(client, support.signed_token(claims)))
