"""What `chalice deploy` cannot configure, applied to a stage right after it (every deploy).

    python -m infra.after_deploy --stage prod [--stack echomate-prod]

1. API Gateway's own error answers in the app's envelope, with CORS (infra/gateway_responses.py);
   and a new deployment of the API stage, so they take effect;
2. the API stage's access log: one JSON object per request, into the stack's access log group,
   and X-Ray tracing as .chalice/config.json says;
3. the stream handler's event source mapping: bisect a failing batch, retry a bounded number of
   times, then send the batch's description to the stack's failure queue (alarmed on its depth)
   instead of blocking the shard for up to a day.

Chalice rewrites the API and the mapping on every deploy (aws/chalice#1268 for the responses;
the mapping's failure settings are not in chalice's config), so `make deploy` runs this after
each `chalice deploy`, and the deploy rehearsal checks the result.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from infra import gateway_responses
from infra.stage_settings import STAGES, stack_outputs

ROOT = Path(__file__).resolve().parent.parent

#: $context variables of each access log record (API Gateway renders them into JSON)
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "time": "$context.requestTimeEpoch",
    "method": "$context.httpMethod",
    "path": "$context.resourcePath",
    "status": "$context.status",
    "latencyMs": "$context.responseLatency",
    "integrationMs": "$context.integrationLatency",
    "bytes": "$context.responseLength",
    "userId": "$context.authorizer.claims.sub",
    "error": "$context.error.message",
    "xrayTraceId": "$context.xrayTraceId",
}
#: the stream mapping's failure handling (a poison record can otherwise stall a shard for 24 h)
STREAM_FAILURE_SETTINGS = {
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 5,
    "MaximumRecordAgeInSeconds": 6 * 3600,
}
STREAM_FUNCTION = "handle_table_changes"


def access_log_format() -> str:
    """The access log format: one JSON object; numbers unquoted, strings quoted."""
    numeric = {"time", "status", "latencyMs", "integrationMs"}
    parts = [
        f'"{name}": {value}' if name in numeric else f'"{name}": "{value}"'
        for name, value in ACCESS_LOG_FIELDS.items()
    ]
    return "{" + ", ".join(parts) + "}"


def stage_patch(access_log_group_arn: str, xray: bool) -> list[dict[str, str]]:
    """update_stage operations: the JSON access log, and X-Ray as the stage's config says
    (chalice passes `xray` only when it creates a deployment; set on the stage, it stays)."""
    return [
        {"op": "replace", "path": "/tracingEnabled", "value": str(xray).lower()},
        # the stage takes the group's ARN without the ":*" CloudFormation's Arn attribute has
        {
            "op": "replace",
            "path": "/accessLogSettings/destinationArn",
            "value": access_log_group_arn.removesuffix(":*"),
        },
        {"op": "replace", "path": "/accessLogSettings/format", "value": access_log_format()},
    ]


def xray_enabled(stage: str, project: Path = ROOT) -> bool:
    """Whether .chalice/config.json turns X-Ray on for ``stage`` (the stage's over the app's)."""
    config = json.loads((project / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return bool(config["stages"][stage].get("xray", config.get("xray", False)))


def stream_mapping_uuid(stage: str, project: Path = ROOT) -> str:
    """The UUID of the stream handler's event source mapping, from chalice's deployed state."""
    deployed = json.loads(
        (project / ".chalice" / "deployed" / f"{stage}.json").read_text(encoding="utf-8")
    )
    for resource in deployed["resources"]:
        if resource.get("resource_type") == "dynamodb_event" and resource["name"].startswith(
            STREAM_FUNCTION
        ):
            return str(resource["event_uuid"])
    raise SystemExit(f".chalice/deployed/{stage}.json has no stream mapping for {STREAM_FUNCTION}")


def apply(make: Any, stage: str, outputs: dict[str, str], project: Path = ROOT) -> None:
    """Apply every step to the deployed ``stage``; ``make(service, region)`` gives clients."""
    region, rest_api_id, stage_name, origin = gateway_responses.deployed_api(stage, project)
    apigateway = make("apigateway", region)
    gateway_responses.apply(apigateway, rest_api_id, stage_name, origin)  # redeploys the stage
    apigateway.update_stage(
        restApiId=rest_api_id,
        stageName=stage_name,
        patchOperations=stage_patch(outputs["ApiAccessLogGroupArn"], xray_enabled(stage, project)),
    )
    make("lambda", region).update_event_source_mapping(
        UUID=stream_mapping_uuid(stage, project),
        DestinationConfig={"OnFailure": {"Destination": outputs["StreamFailureQueueArn"]}},
        **STREAM_FAILURE_SETTINGS,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--stack", help="the infra stack's name (default: echomate-<stage>)")
    args = parser.parse_args(argv)
    import boto3

    outputs = stack_outputs(boto3.client("cloudformation"), args.stack or f"echomate-{args.stage}")

    def make(service: str, region: str) -> Any:
        return boto3.client(service, region_name=region)

    apply(make, args.stage, outputs)
    print(
        f"{args.stage}: gateway responses, JSON access log and the stream's failure queue set; "
        "stage redeployed"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
