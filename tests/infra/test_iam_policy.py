"""The cloud stages' IAM policies allow every AWS call the app made during this test run.

`autogen_policy` is off (chalice's generator does not see calls made in chalicelib), so a new
call with no matching policy line would fail only in the cloud, with AccessDenied. This test
runs after all the others (tests/conftest.py orders it last) and checks what they recorded.
"""

import json
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tests.conftest import AWS_OPERATIONS

CHALICE = Path(__file__).resolve().parents[2] / ".chalice"

#: A transaction needs the item-level action of each of its operations.
_DYNAMODB_ACTIONS = {
    "TransactWriteItems": ["PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"],
    "TransactGetItems": ["GetItem"],
}
#: S3 operations whose IAM action has another name.
_S3_ACTIONS = {
    "ListObjectsV2": "ListBucket",
    "DeleteObjects": "DeleteObject",
    "HeadObject": "GetObject",
}
#: Presigned requests make no call here, but S3 checks the signer's rights when they are used.
_PRESIGNED = {"s3:PutObject", "s3:GetObject"}


def required_actions(operations: set[tuple[str, str]]) -> set[str]:
    """The IAM actions behind ``operations``. Cognito's public APIs (sign-up, login, a user's
    own token operations) take no IAM rights; its Admin* APIs do."""
    actions = set(_PRESIGNED)
    for service, operation in operations:
        if service == "cognito-idp" and not operation.startswith("Admin"):
            continue
        if service == "dynamodb":
            actions |= {f"dynamodb:{a}" for a in _DYNAMODB_ACTIONS.get(operation, [operation])}
        elif service == "s3" and operation in _S3_ACTIONS:
            actions.add(f"s3:{_S3_ACTIONS[operation]}")
        else:
            actions.add(f"{service}:{operation}")
    return actions


def allowed(policy: dict, action: str) -> bool:
    for statement in policy["Statement"]:
        granted = statement["Action"]
        granted = [granted] if isinstance(granted, str) else granted
        if statement["Effect"] == "Allow" and any(fnmatch(action, g) for g in granted):
            return True
    return False


def test_required_actions_map_transactions_and_skip_public_cognito_calls():
    operations = {
        ("dynamodb", "TransactWriteItems"),
        ("cognito-idp", "InitiateAuth"),
        ("cognito-idp", "AdminDeleteUser"),
        ("s3", "ListObjectsV2"),
        ("s3", "HeadObject"),
    }
    assert required_actions(operations) == _PRESIGNED | {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "cognito-idp:AdminDeleteUser",
        "s3:ListBucket",
        "s3:GetObject",
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_aws_call_made_is_allowed_by_the_stage_policy(stage):
    if len(AWS_OPERATIONS) < 10:
        pytest.skip("checks the calls the whole suite made: run it with the other tests")
    policy = json.loads((CHALICE / f"policy-{stage}.json").read_text())
    missing = sorted(a for a in required_actions(AWS_OPERATIONS) if not allowed(policy, a))
    assert missing == [], f"policy-{stage}.json lacks {missing}"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_function_may_write_its_logs(stage):
    config = json.loads((CHALICE / "config.json").read_text())
    policy = json.loads((CHALICE / f"policy-{stage}.json").read_text())
    (logs,) = [s["Resource"] for s in policy["Statement"] if s["Sid"] == "Logs"]
    for function in config["lambda_functions"]:  # the API handler is <app>-<stage>
        name = f"echomate-{stage}" + ("" if function == "api_handler" else f"-{function}")
        stream = f"arn:aws:logs:us-east-1:1:log-group:/aws/lambda/{name}:log-stream:2026/x"
        assert any(fnmatch(stream, pattern) for pattern in logs), name
