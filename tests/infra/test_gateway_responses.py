"""API Gateway's own errors (authorizer 401, unknown route, throttling...) in the app's envelope,
set on a deployed API after `chalice deploy` (moto's API Gateway in-process)."""

import json

import boto3
import pytest
from moto import mock_aws

from chalicelib import errors
from infra import gateway_responses
from tests import support

ORIGIN = "https://app.echomate.example"


def render(answer: dict, message: str) -> dict:
    """The body API Gateway makes of a gateway response for an error ``message``."""
    return json.loads(gateway_responses.render(answer, message)[1])


@pytest.fixture
def api():
    with mock_aws():
        client = boto3.client("apigateway", region_name="us-east-1")
        rest_api_id = support.deployed_rest_api(client)
        yield client, rest_api_id


def test_every_response_is_the_apps_envelope_with_cors(api):
    client, rest_api_id = api
    gateway_responses.apply(client, rest_api_id, "api", ORIGIN)
    answers = {
        r["responseType"]: r
        for r in client.get_gateway_responses(restApiId=rest_api_id)["items"]
        if r["responseType"] in gateway_responses.RESPONSES
    }
    assert set(answers) == set(gateway_responses.RESPONSES)
    # Chalice's own codes: the app's, its 500, and a timeout the app never answers itself
    codes = {error.CODE for error in errors.ERRORS}
    codes |= {"InternalServerError", "GatewayTimeoutError"}
    for answer in answers.values():
        body = render(answer, "Unauthorized")
        assert set(body) == {"Code", "Message"} and body["Code"] in codes
        headers = answer["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{ORIGIN}'"
    assert answers["UNAUTHORIZED"]["statusCode"] == "401"
    assert render(answers["UNAUTHORIZED"], "x") == {
        "Code": "UnauthorizedError",
        "Message": "x",
    }
    assert answers["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert answers["THROTTLED"]["responseParameters"]["gatewayresponse.header.Retry-After"]


def test_apply_redeploys_the_stage(api):
    client, rest_api_id = api
    before = {d["id"] for d in client.get_deployments(restApiId=rest_api_id)["items"]}
    gateway_responses.apply(client, rest_api_id, "api", ORIGIN)
    after = {d["id"] for d in client.get_deployments(restApiId=rest_api_id)["items"]}
    (new,) = after - before
    assert client.get_stage(restApiId=rest_api_id, stageName="api")["deploymentId"] == new


def test_reads_the_deployed_stage_and_its_origin(tmp_path):
    (tmp_path / ".chalice" / "deployed").mkdir(parents=True)
    (tmp_path / ".chalice" / "config.json").write_text(
        json.dumps(
            {
                "stages": {
                    "prod": {
                        "api_gateway_stage": "v1",
                        "environment_variables": {"CORS_ALLOW_ORIGIN": ORIGIN},
                    }
                }
            }
        )
    )
    with pytest.raises(SystemExit, match="chalice deploy --stage prod"):
        gateway_responses.deployed_api("prod", tmp_path)
    (tmp_path / ".chalice" / "deployed" / "prod.json").write_text(
        json.dumps(
            {
                "resources": [
                    {"name": "api_handler", "resource_type": "lambda_function"},
                    {
                        "name": "rest_api",
                        "resource_type": "rest_api",
                        "rest_api_id": "abc123",
                        "rest_api_url": "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/",
                    },
                ]
            }
        )
    )
    assert gateway_responses.deployed_api("prod", tmp_path) == ("eu-west-1", "abc123", "v1", ORIGIN)


def test_render_gives_the_headers_and_body_api_gateway_sends():
    answers = gateway_responses.gateway_responses(ORIGIN)
    headers, body = gateway_responses.render(answers["THROTTLED"], "Too Many Requests")
    assert headers == {
        "Access-Control-Allow-Origin": ORIGIN,
        "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key,If-Match",
        "Content-Type": "application/json",
        "Retry-After": "1",
    }
    assert json.loads(body) == {"Code": "TooManyRequestsError", "Message": "Too Many Requests"}
