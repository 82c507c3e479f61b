"""The embedded stack as a developer runs it: `python -m devstack`, then real HTTP."""

import json
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import boto3
import pytest

from tests import support
from tests.e2e.stack import Stack, call, free_port
from tests.factories import sign_up_and_log_in


@pytest.fixture(scope="module")
def tokens(stack):
    # through the API: a token is honoured only while its account (its profile) stands
    login = sign_up_and_log_in(stack, "e2e@example.com", "e2e")
    return {"IdToken": login["idToken"], "AccessToken": login["accessToken"]}


def test_health_answers(stack):
    assert call(f"{stack.api}/health") == (200, {"status": "ok", "version": "0.1.0"})


def test_openapi_document_is_served(stack):
    status, document = call(f"{stack.api}/openapi.json")
    assert status == 200 and "/auth/session" in document["paths"]


def test_real_token_identifies_the_caller(stack, tokens):
    status, body = call(f"{stack.api}/auth/session", token=tokens["IdToken"])
    assert status == 200
    assert body["userId"] == support.claims_of(tokens["IdToken"])["sub"]
    assert body["username"] == "e2e"


@pytest.mark.parametrize(
    "forge", ["missing", "garbage", "unsigned", "expired", "tampered", "access"]
)
def test_forged_tokens_are_401_not_a_dropped_connection(stack, tokens, forge):
    claims = support.claims_of(tokens["IdToken"])
    token = {
        "missing": None,
        "garbage": "garbage",
        "unsigned": support.unsigned_token(claims),
        "expired": support.signed_token(support.expired_claims(claims)),
        "tampered": support.tampered(tokens["IdToken"], sub="someone-else"),
        "access": tokens["AccessToken"],
    }[forge]
    status, body = call(f"{stack.api}/auth/session", token=token)
    assert status == 401
    assert body["Code"] == "UnauthorizedError"


def test_a_request_for_no_route_is_the_clouds_404(stack, tokens):
    """As infra/gateway_responses.py makes API Gateway answer (chalice local's own: a 403)."""
    for token in (None, tokens["IdToken"]):
        request = Request(f"{stack.api}/no/such/route", headers={"Authorization": token or ""})
        with pytest.raises(HTTPError) as answer:
            urlopen(request, timeout=10)
        assert answer.value.code == 404
        assert answer.value.headers["Access-Control-Allow-Origin"] == "*"
        assert json.loads(answer.value.read()) == {
            "Code": "NotFoundError",
            "Message": "no route for this method and path",
        }


def test_nothing_listens_beyond_loopback(stack):
    settings = stack.settings()
    assert settings["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert settings["COGNITO_JWKS_URL"].startswith("http://127.0.0.1:")


def test_ctrl_c_stops_cleanly_and_a_rerun_works(tmp_path):
    moto_port, port = free_port(), free_port()
    # The first run is started as a background job is (SIGINT inherited as ignored, as CI runners
    # and `make dev &` do); Ctrl-C must stop it all the same.
    first = Stack(tmp_path / "first", moto_port, port, sigint_ignored=True)
    try:
        first.wait_ready()
    finally:
        assert first.stop() == 0
    assert "embedded stack stopped" in first.lines
    again = Stack(tmp_path / "again", moto_port, port)
    try:
        again.wait_ready()
        assert call(f"{again.api}/health")[0] == 200
    finally:
        assert again.stop() == 0


def test_bucket_rules_come_from_the_template(stack):
    s3 = boto3.client("s3", endpoint_url=stack.moto, region_name="us-east-1")
    bucket = stack.settings()["MEDIA_BUCKET"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {(r["ID"], r.get("Expiration", {}).get("Days")) for r in rules} == {
        ("abort-incomplete-multipart-uploads", None),
        ("expire-abandoned-uploads", 2),
        ("expire-data-exports", 7),
    }
    blocked = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(blocked.values())
