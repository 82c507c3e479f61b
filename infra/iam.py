"""Which IAM actions the app's AWS calls need, and whether a policy allows them.

The calls are recorded by the tests (tests/conftest.py hooks every boto3 session the app makes);
tests/infra/test_iam_policy.py checks the committed policy files, and the deploy rehearsal
(infra/rehearsal.py --policy) the policy as deployed, pinned to the stack's resources.
"""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

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
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
}
#: API Gateway's IAM actions are HTTP verbs on resource paths (apigateway:GET on /apis for
#: GetApis), and one action covers its management API's connections (PostToConnection,
#: DeleteConnection, GetConnection).
_APIGATEWAY_VERBS = {"Get": "GET", "Create": "POST", "Update": "PATCH", "Delete": "DELETE"}
_MANAGE_CONNECTIONS = "execute-api:ManageConnections"
#: Presigned requests make no call here, but S3 checks the signer's rights when they are used.
PRESIGNED = {"s3:PutObject", "s3:GetObject"}


def required_actions(operations: set[tuple[str, str]]) -> set[str]:
    """The IAM actions behind ``operations``. Cognito's public APIs (sign-up, login, a user's
    own token operations) take no IAM rights; its Admin* APIs do."""
    actions = set(PRESIGNED)
    for service, operation in operations:
        if service == "cognito-idp" and not operation.startswith("Admin"):
            continue
        if service == "dynamodb":
            actions |= {f"dynamodb:{a}" for a in _DYNAMODB_ACTIONS.get(operation, [operation])}
        elif service == "s3" and operation in _S3_ACTIONS:
            actions.add(f"s3:{_S3_ACTIONS[operation]}")
        elif service == "apigatewaymanagementapi":
            actions.add(_MANAGE_CONNECTIONS)
        elif service in ("apigateway", "apigatewayv2"):
            verbs = [v for p, v in _APIGATEWAY_VERBS.items() if operation.startswith(p)]
            actions.add(f"apigateway:{verbs[0] if verbs else operation}")  # unknown: never allowed
        else:
            actions.add(f"{service}:{operation}")
    return actions


def allowed(policy: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement of ``policy`` grants ``action`` (wildcards as IAM reads them)."""
    for statement in policy["Statement"]:
        granted = statement["Action"]
        granted = [granted] if isinstance(granted, str) else granted
        if statement["Effect"] == "Allow" and any(fnmatch(action, g) for g in granted):
            return True
    return False
