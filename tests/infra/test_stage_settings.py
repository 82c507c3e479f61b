"""infra/stage_settings.py: a deployed stack's outputs become a cloud stage's settings and pin
its IAM policy (moto's CloudFormation in-process for the outputs)."""

import json
import shutil
from fnmatch import fnmatch
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra import stage_settings

ROOT = Path(__file__).resolve().parents[2]
POOL_ARN = "arn:aws:cognito-idp:eu-west-1:222233334444:userpool/eu-west-1_AbC123"
OUTPUTS = {
    "TableName": "echomate-prod",
    "TableStreamArn": "arn:aws:dynamodb:eu-west-1:222233334444:table/echomate-prod/stream/2026-1",
    "MediaBucketName": "echomate-prod-media-222233334444",
    "UserPoolId": "eu-west-1_AbC123",
    "UserPoolArn": POOL_ARN,
    "UserPoolClientId": "3n4b5c6d7e",
    "CognitoIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
    "CursorSecretArn": "arn:aws:secretsmanager:eu-west-1:222233334444:secret:CursorSecret-x-AbCdEf",
    "StreamFailureQueueArn": "arn:aws:sqs:eu-west-1:222233334444:echomate-prod-stream-failures",
    "ApiAccessLogGroupArn": "arn:aws:logs:eu-west-1:222233334444:log-group:/aws/apigateway/x:*",
}


@pytest.fixture
def project(tmp_path):
    (tmp_path / ".chalice").mkdir()
    for name in ("config.json", "policy-prod.json"):
        shutil.copy(ROOT / ".chalice" / name, tmp_path / ".chalice" / name)
    return tmp_path


def _read(project, name):
    return json.loads((project / ".chalice" / name).read_text())


def test_outputs_become_the_stage_settings(project):
    assert stage_settings.placeholders("prod", project)  # as committed: placeholders
    stage_settings.apply(OUTPUTS, "prod", project)
    variables = _read(project, "config.json")["stages"]["prod"]["environment_variables"]
    assert variables["COGNITO_USER_POOL_ARN"] == POOL_ARN
    assert variables["COGNITO_APP_CLIENT_ID"] == "3n4b5c6d7e"
    assert variables["CORS_ALLOW_ORIGIN"] == "https://app.echomate.example"  # kept
    assert "MEDIA_CDN_DOMAIN" not in variables  # no CDN output: presigned GETs
    assert not set(variables) & stage_settings.DEPLOY_OUTPUTS  # for the deploy, not the app
    assert not any("arn:aws:sqs" in value or "log-group" in value for value in variables.values())
    assert stage_settings.placeholders("prod", project) == []
    other_stages = _read(project, "config.json")["stages"]["dev"]
    assert (
        other_stages == json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]
    )


def test_the_policy_is_pinned_to_the_stacks_resources(project):
    stage_settings.apply(OUTPUTS, "prod", project)
    statements = {s["Sid"]: s["Resource"] for s in _read(project, "policy-prod.json")["Statement"]}
    assert statements["UserPool"] == POOL_ARN
    assert statements["CursorSecret"] == OUTPUTS["CursorSecretArn"]
    assert statements["TableStream"] == OUTPUTS["TableStreamArn"]
    assert statements["SingleTable"] == [
        "arn:aws:dynamodb:eu-west-1:222233334444:table/echomate-prod",
        "arn:aws:dynamodb:eu-west-1:222233334444:table/echomate-prod/index/*",
    ]
    assert statements["MediaObjects"] == "arn:aws:s3:::echomate-prod-media-222233334444/*"
    assert statements["StreamFailures"] == OUTPUTS["StreamFailureQueueArn"]
    flat = json.dumps(statements)
    assert ":*:*:" not in flat and "userpool/*" not in flat
    # The API handler's log group (echomate-prod) and the others' (echomate-prod-<name>)
    group = "arn:aws:logs:eu-west-1:222233334444:log-group:/aws/lambda/{}:log-stream:2026/x"
    for function in ("echomate-prod", "echomate-prod-handle_upload"):
        assert any(fnmatch(group.format(function), p) for p in statements["Logs"])
    assert not any(fnmatch(group.format("echomate-prodx"), p) for p in statements["Logs"])


def test_an_output_with_no_setting_is_refused(project):
    with pytest.raises(SystemExit, match="NewThing"):
        stage_settings.apply({**OUTPUTS, "NewThing": "x"}, "prod", project)


def test_outputs_are_read_from_the_stack():
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in OUTPUTS.items()},
    }
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
        cloudformation.create_stack(StackName="echomate-prod", TemplateBody=json.dumps(template))
        assert stage_settings.stack_outputs(cloudformation, "echomate-prod") == OUTPUTS


def test_every_template_output_has_a_setting():
    from devstack import template

    outputs = set(template.load()["Outputs"])
    assert outputs == set(stage_settings.OUTPUT_SETTINGS) | stage_settings.DEPLOY_OUTPUTS


APNS = "arn:aws:sns:eu-west-1:222233334444:app/APNS/echomate-prod-ios"
FCM = "arn:aws:sns:eu-west-1:222233334444:app/GCM/echomate-prod-android"


def test_the_platform_applications_become_the_push_settings_and_pin_the_policy(project):
    outputs = {**OUTPUTS, "PushApnsApplicationArn": APNS, "PushFcmApplicationArn": FCM}
    stage_settings.apply(outputs, "prod", project)
    variables = _read(project, "config.json")["stages"]["prod"]["environment_variables"]
    assert variables["PUSH_APNS_APPLICATION_ARN"] == APNS
    assert variables["PUSH_FCM_APPLICATION_ARN"] == FCM
    assert "WEBSOCKET_ENDPOINT" not in variables  # the app finds its WebSocket API by name
    statements = {s["Sid"]: s["Resource"] for s in _read(project, "policy-prod.json")["Statement"]}
    assert statements["PushDevices"] == [APNS, FCM]
    endpoint = "arn:aws:sns:eu-west-1:222233334444:endpoint/GCM/echomate-prod-android/0f1e2d"
    assert any(fnmatch(endpoint, p) for p in statements["PushEndpoints"])
    other = "arn:aws:sns:eu-west-1:222233334444:endpoint/GCM/someone-else/0f1e2d"
    assert not any(fnmatch(other, p) for p in statements["PushEndpoints"])
    assert statements["WebSocketApiLookup"] == "arn:aws:apigateway:eu-west-1::/apis"

    # a stack without them (the parameters left empty): no push settings left behind
    stage_settings.apply(OUTPUTS, "prod", project)
    variables = _read(project, "config.json")["stages"]["prod"]["environment_variables"]
    assert not {"PUSH_APNS_APPLICATION_ARN", "PUSH_FCM_APPLICATION_ARN"} & set(variables)


def test_the_connections_statement_names_the_deployed_websocket_api(project):
    stage_settings.apply(OUTPUTS, "prod", project)  # before the first deploy: any API id
    statements = {s["Sid"]: s["Resource"] for s in _read(project, "policy-prod.json")["Statement"]}
    assert statements["WebSocketConnections"] == [
        "arn:aws:execute-api:eu-west-1:222233334444:*/api/POST/@connections/*",
        "arn:aws:execute-api:eu-west-1:222233334444:*/api/DELETE/@connections/*",
    ]
    deployed = project / ".chalice" / "deployed"
    deployed.mkdir()
    (deployed / "prod.json").write_text(
        json.dumps(
            {
                "resources": [
                    {"name": "api_handler", "resource_type": "lambda_function"},
                    {
                        "name": "websocket_api",
                        "resource_type": "websocket_api",
                        "websocket_api_id": "w5x6y7z8",
                    },
                ]
            }
        )
    )
    stage_settings.apply(OUTPUTS, "prod", project)  # the next deploy: that API only
    statements = {s["Sid"]: s["Resource"] for s in _read(project, "policy-prod.json")["Statement"]}
    assert statements["WebSocketConnections"] == [
        "arn:aws:execute-api:eu-west-1:222233334444:w5x6y7z8/api/POST/@connections/*",
        "arn:aws:execute-api:eu-west-1:222233334444:w5x6y7z8/api/DELETE/@connections/*",
    ]
