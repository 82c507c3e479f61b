"""Write a deployed infra stack's outputs into a cloud stage's settings and IAM policy.

    python -m infra.stage_settings --stage prod [--stack echomate-prod]
    python -m infra.stage_settings --stage prod --check     # no AWS call

After `aws cloudformation deploy` of infra/template.yaml, this reads the stack's outputs and
sets each one's variable in the stage's `environment_variables` (.chalice/config.json), then
pins the stage's policy (.chalice/policy-<stage>.json) to the deployed resources: the table,
its stream, the bucket, the secret, the user pool, the push platform applications, in the
stack's region and account, and the WebSocket API chalice deployed before (its id from the
deployed state, .chalice/deployed/<stage>.json, which `make deploy` pulls first; on a stage's
first deploy there is none yet, and the statement names any API id, at the stage's
`@connections` paths only, until the next deploy). `--check` fails while a `REPLACE` placeholder
is left in either file. `make deploy` runs it first.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "REPLACE"

#: template output -> the setting (environment variable) it feeds
OUTPUT_SETTINGS = {
    "TableName": "TABLE_NAME",
    "TableStreamArn": "TABLE_STREAM_ARN",
    "MediaBucketName": "MEDIA_BUCKET",
    "UserPoolId": "COGNITO_USER_POOL_ID",
    "UserPoolArn": "COGNITO_USER_POOL_ARN",
    "UserPoolClientId": "COGNITO_APP_CLIENT_ID",
    "CognitoIssuer": "COGNITO_ISSUER",
    "CursorSecretArn": "CURSOR_SECRET_ARN",
    "MediaCdnDomain": "MEDIA_CDN_DOMAIN",
    "PushApnsApplicationArn": "PUSH_APNS_APPLICATION_ARN",
    "PushFcmApplicationArn": "PUSH_FCM_APPLICATION_ARN",
}
#: outputs a stack has only with some parameters: without one, its setting is removed
OPTIONAL_OUTPUTS = {"MediaCdnDomain", "PushApnsApplicationArn", "PushFcmApplicationArn"}
#: template outputs the deploy steps use and the app does not (no setting): the policy's
#: failure-queue statement, and infra/after_deploy.py's wiring of the API stage and the stream
DEPLOY_OUTPUTS = {"StreamFailureQueueArn", "ApiAccessLogGroupArn"}
STAGES = ("dev", "staging", "prod")


def stage_environment(stage: str, project: Path = ROOT) -> dict[str, str]:
    """The environment variables .chalice/config.json gives ``stage`` (as chalice applies them:
    the stage's over the app-wide ones)."""
    config = json.loads((project / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def websocket_api_id(stage: str, project: Path = ROOT) -> str | None:
    """The id of the WebSocket API chalice deployed for ``stage``, from its deployed state
    (None before the stage's first deploy)."""
    state = project / ".chalice" / "deployed" / f"{stage}.json"
    if not state.exists():
        return None
    for resource in json.loads(state.read_text(encoding="utf-8")).get("resources", []):
        if resource.get("resource_type") == "websocket_api":
            api_id: str = resource["websocket_api_id"]
            return api_id
    return None


def policy_resources(
    settings: dict[str, str],
    app: str,
    stage: str,
    outputs: dict[str, str],
    *,
    api_stage: str = "api",
    websocket_api: str | None = None,
) -> dict[str, Any]:
    """Each policy statement's resources (by Sid), pinned to the deployed stack (and to the
    WebSocket API chalice deployed, when one was)."""
    _, _, _, region, account, _ = settings["COGNITO_USER_POOL_ARN"].split(":", 5)
    table = f"arn:aws:dynamodb:{region}:{account}:table/{settings['TABLE_NAME']}"
    functions = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{app}-{stage}"
    bucket = f"arn:aws:s3:::{settings['MEDIA_BUCKET']}"
    connections = f"arn:aws:execute-api:{region}:{account}:{websocket_api or '*'}/{api_stage}"
    applications = [
        settings[name]
        for name in ("PUSH_APNS_APPLICATION_ARN", "PUSH_FCM_APPLICATION_ARN")
        if settings.get(name)
    ] or [f"arn:aws:sns:{region}:{account}:app/*/{app}-{stage}-*"]  # none set: only these names
    return {
        # the API handler is <app>-<stage>, the other functions <app>-<stage>-<name>
        "Logs": [f"{functions}:*", f"{functions}-*"],
        "SingleTable": [table, f"{table}/index/*"],
        "TableStream": settings["TABLE_STREAM_ARN"],
        "MediaObjects": f"{bucket}/*",
        "MediaBucketListing": bucket,
        "CursorSecret": settings["CURSOR_SECRET_ARN"],
        "UserPool": settings["COGNITO_USER_POOL_ARN"],
        # the stream mapping's on-failure destination sends with the function's role
        "StreamFailures": outputs["StreamFailureQueueArn"],
        # X-Ray takes no resource-level permissions
        "Tracing": "*",
        # pushes down the stage's WebSocket connections (PostToConnection), closing them
        # (DeleteConnection: account deletion)
        "WebSocketConnections": [
            f"{connections}/POST/@connections/*",
            f"{connections}/DELETE/@connections/*",
        ],
        # realtime._deployed_endpoint finds the WebSocket API by name (GetApis)
        "WebSocketApiLookup": f"arn:aws:apigateway:{region}::/apis",
        # a device registers with its platform application, and is pushed to (and removed) as
        # the application's endpoint
        "PushDevices": applications,
        "PushEndpoints": [arn.replace(":app/", ":endpoint/", 1) + "/*" for arn in applications],
    }


def apply(outputs: dict[str, str], stage: str, project: Path = ROOT) -> dict[str, str]:
    """Write ``outputs`` into the stage's settings and policy; returns the settings set."""
    config_file = project / ".chalice" / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    stage_config = config["stages"][stage]
    unknown = sorted(set(outputs) - set(OUTPUT_SETTINGS) - DEPLOY_OUTPUTS)
    if unknown:
        raise SystemExit(f"outputs with no setting: {unknown} (add them to OUTPUT_SETTINGS)")
    settings = {OUTPUT_SETTINGS[n]: value for n, value in outputs.items() if n in OUTPUT_SETTINGS}
    variables = stage_config.setdefault("environment_variables", {})
    variables.update(settings)
    for name in OPTIONAL_OUTPUTS - set(outputs):
        # no CDN in this stack: presigned GETs; no platform application: no push on it
        variables.pop(OUTPUT_SETTINGS[name], None)
    _write_json(config_file, config)

    policy_file = project / ".chalice" / stage_config["iam_policy_file"]
    policy = json.loads(policy_file.read_text(encoding="utf-8"))
    resources = policy_resources(
        variables,
        config["app_name"],
        stage,
        outputs,
        api_stage=stage_config.get("api_gateway_stage", "api"),
        websocket_api=websocket_api_id(stage, project),
    )
    for statement in policy["Statement"]:
        if statement["Sid"] not in resources:
            raise SystemExit(f"{policy_file.name}: no resources known for {statement['Sid']}")
        statement["Resource"] = resources[statement["Sid"]]
    _write_json(policy_file, policy)
    return settings


def placeholders(stage: str, project: Path = ROOT) -> list[str]:
    """Where a REPLACE placeholder is left in the stage's settings or policy."""
    config = json.loads((project / ".chalice" / "config.json").read_text(encoding="utf-8"))
    stage_config = config["stages"][stage]
    left = [
        f"config.json {name}"
        for name, value in stage_config.get("environment_variables", {}).items()
        if PLACEHOLDER in value
    ]
    policy_file = project / ".chalice" / stage_config["iam_policy_file"]
    if PLACEHOLDER in policy_file.read_text(encoding="utf-8"):
        left.append(policy_file.name)
    return left


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--stack", help="the infra stack's name (default: echomate-<stage>)")
    parser.add_argument("--check", action="store_true", help="only check for placeholders")
    args = parser.parse_args(argv)
    if not args.check:
        import boto3

        outputs = stack_outputs(
            boto3.client("cloudformation"), args.stack or f"echomate-{args.stage}"
        )
        for name, value in apply(outputs, args.stage).items():
            print(f"{args.stage}: {name} = {value}")
    left = placeholders(args.stage)
    if left:
        print(f"{args.stage}: placeholders left in {', '.join(left)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
