"""The cloud stages' IAM policies allow every AWS call the app made during this test run.

`autogen_policy` is off (chalice's generator does not see calls made in chalicelib), so a new
call with no matching policy line would fail only in the cloud, with AccessDenied. This test
checks what the others recorded: in one pytest process it runs last (tests/conftest.py orders
it so); `make pytest` runs it after the parallel workers, which leave their calls in
ECHOMATE_OPERATIONS_DIR.
"""

import json
from fnmatch import fnmatch
from pathlib import Path

import pytest

from infra.iam import PRESIGNED, allowed, required_actions
from infra.rehearsal import DEPLOYED_POLICY
from infra.stage_settings import STAGES
from tests.conftest import recorded_operations

CHALICE = Path(__file__).resolve().parents[2] / ".chalice"


def test_required_actions_map_transactions_and_skip_public_cognito_calls():
    operations = {
        ("dynamodb", "TransactWriteItems"),
        ("cognito-idp", "InitiateAuth"),
        ("cognito-idp", "AdminDeleteUser"),
        ("s3", "ListObjectsV2"),
        ("s3", "HeadObject"),
    }
    assert required_actions(operations) == PRESIGNED | {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "cognito-idp:AdminDeleteUser",
        "s3:ListBucket",
        "s3:GetObject",
    }


def test_required_actions_map_the_websocket_and_push_calls():
    operations = {
        ("apigatewaymanagementapi", "PostToConnection"),
        ("apigatewaymanagementapi", "DeleteConnection"),
        ("apigatewayv2", "GetApis"),
        ("sns", "CreatePlatformEndpoint"),
        ("sns", "Publish"),
    }
    assert required_actions(operations) == PRESIGNED | {
        "execute-api:ManageConnections",
        "apigateway:GET",
        "sns:CreatePlatformEndpoint",
        "sns:Publish",
    }


#: what the real-time and push code calls, recorded or not (tests/api/test_realtime.py replaces
#: the management client with a recorder: PostToConnection never reaches botocore there)
REALTIME_AND_PUSH = {
    ("apigatewaymanagementapi", "PostToConnection"),
    ("apigatewaymanagementapi", "DeleteConnection"),
    ("apigatewayv2", "GetApis"),
    ("sns", "CreatePlatformEndpoint"),
    ("sns", "Publish"),
    ("sns", "DeleteEndpoint"),
}


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_policy_allows_the_websocket_and_push_calls(stage):
    policy = json.loads((CHALICE / f"policy-{stage}.json").read_text())
    missing = sorted(a for a in required_actions(REALTIME_AND_PUSH) if not allowed(policy, a))
    assert missing == [], f"policy-{stage}.json lacks {missing}"


@pytest.mark.parametrize("stage", STAGES)
def test_every_aws_call_made_is_allowed_by_the_stage_policy(stage):
    operations = recorded_operations()
    if len(operations) < 10:
        pytest.skip("checks the calls the whole suite made: run it with the other tests")
    policy = json.loads((CHALICE / f"policy-{stage}.json").read_text())
    missing = sorted(a for a in required_actions(operations) if not allowed(policy, a))
    assert missing == [], f"policy-{stage}.json lacks {missing}"


def test_the_policy_the_rehearsal_deployed_allows_every_call_made():
    """The prod policy as `make deploy-rehearsal` deployed it, pinned to the stack's resources
    (`make test` runs the rehearsal before pytest)."""
    operations = recorded_operations()
    if len(operations) < 10:
        pytest.skip("checks the calls the whole suite made: run it with the other tests")
    if not DEPLOYED_POLICY.exists():
        pytest.skip("no deploy rehearsal has passed here: `make deploy-rehearsal` leaves it")
    policy = json.loads(DEPLOYED_POLICY.read_text())
    missing = sorted(a for a in required_actions(operations) if not allowed(policy, a))
    assert missing == [], f"the deployed policy lacks {missing}"
    assert ":*:*:" not in json.dumps(policy)  # pinned to one account and region


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_may_write_its_logs(stage):
    config = json.loads((CHALICE / "config.json").read_text())
    policy = json.loads((CHALICE / f"policy-{stage}.json").read_text())
    (logs,) = [s["Resource"] for s in policy["Statement"] if s["Sid"] == "Logs"]
    for function in config["lambda_functions"]:  # the API handler is <app>-<stage>
        name = f"echomate-{stage}" + ("" if function == "api_handler" else f"-{function}")
        stream = f"arn:aws:logs:us-east-1:1:log-group:/aws/lambda/{name}:log-stream:2026/x"
        assert any(fnmatch(stream, pattern) for pattern in logs), name
