"""API Gateway's own error answers, in the app's envelope and with CORS headers.

API Gateway answers some requests before any Lambda runs, in its own shape and without CORS
headers (so a browser sees a network error, not the status):

- a missing, expired or forged token, refused by the Cognito authorizer: 401 `{"message": ...}`;
- a path or method with no route: 403 "Missing Authentication Token";
- throttling (429), a body over API Gateway's 10 MB (413), a Lambda over 29 s (504).

`chalice deploy` cannot configure these (aws/chalice#1268) and re-imports the API on every
deploy, so this runs after each one (`make deploy STAGE=prod` does both). It puts one gateway
response per type, then redeploys the stage (gateway responses take effect on a deployment).

    python -m infra.gateway_responses --stage prod   # reads .chalice/deployed/prod.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from infra.stage_settings import stage_environment

ROOT = Path(__file__).resolve().parent.parent

# type -> (status, Code, Message as a VTL expression that renders a JSON string)
RESPONSES: dict[str, tuple[str, str, str]] = {
    "UNAUTHORIZED": ("401", "UnauthorizedError", "$context.error.messageString"),
    "MISSING_AUTHENTICATION_TOKEN": ("404", "NotFoundError", '"no route for this method and path"'),
    "ACCESS_DENIED": ("403", "ForbiddenError", "$context.error.messageString"),
    "THROTTLED": ("429", "TooManyRequestsError", "$context.error.messageString"),
    "QUOTA_EXCEEDED": ("429", "TooManyRequestsError", "$context.error.messageString"),
    "REQUEST_TOO_LARGE": ("413", "RequestEntityTooLargeError", '"the request is too large"'),
    "BAD_REQUEST_BODY": ("400", "BadRequestError", "$context.error.messageString"),
    "BAD_REQUEST_PARAMETERS": ("400", "BadRequestError", "$context.error.messageString"),
    "UNSUPPORTED_MEDIA_TYPE": ("415", "UnsupportedMediaType", "$context.error.messageString"),
    "INTEGRATION_TIMEOUT": ("504", "GatewayTimeoutError", '"the request took too long"'),
    "DEFAULT_4XX": ("", "BadRequestError", "$context.error.messageString"),
    "DEFAULT_5XX": ("", "InternalServerError", '"an internal server error occurred"'),
}


def gateway_responses(allow_origin: str) -> dict[str, dict[str, Any]]:
    """The put_gateway_response arguments for each response type ("" status: keep API Gateway's)."""
    headers = {
        "gatewayresponse.header.Access-Control-Allow-Origin": f"'{allow_origin}'",
        "gatewayresponse.header.Access-Control-Allow-Headers": (
            "'Authorization,Content-Type,Idempotency-Key,If-Match'"
        ),
        "gatewayresponse.header.Content-Type": "'application/json'",
    }
    answers = {}
    for response_type, (status, code, message) in RESPONSES.items():
        template = '{"Code": "%s", "Message": %s}' % (code, message)  # noqa: UP031 (VTL braces)
        answer: dict[str, Any] = {
            "responseParameters": dict(headers),
            "responseTemplates": {"application/json": template},
        }
        if response_type in ("THROTTLED", "QUOTA_EXCEEDED"):
            answer["responseParameters"]["gatewayresponse.header.Retry-After"] = "'1'"
        if status:
            answer["statusCode"] = status
        answers[response_type] = answer
    return answers


def render(answer: dict[str, Any], message: str) -> tuple[dict[str, str], bytes]:
    """The headers and body API Gateway sends for ``answer`` (one of ``gateway_responses``)
    when its error message is ``message``: what the embedded stack answers too."""
    prefix = "gatewayresponse.header."
    headers = {
        name.removeprefix(prefix): value.strip("'")
        for name, value in answer["responseParameters"].items()
    }
    template = answer["responseTemplates"]["application/json"]
    body = template.replace("$context.error.messageString", json.dumps(message))
    return headers, body.encode()


def apply(client: Any, rest_api_id: str, stage_name: str, allow_origin: str) -> None:
    """Put every gateway response on the API, then deploy its stage so they take effect."""
    for response_type, answer in gateway_responses(allow_origin).items():
        client.put_gateway_response(restApiId=rest_api_id, responseType=response_type, **answer)
    client.create_deployment(
        restApiId=rest_api_id, stageName=stage_name, description="gateway responses"
    )


def deployed_api(stage: str, project: Path = ROOT) -> tuple[str, str, str, str]:
    """(region, rest API id, API Gateway stage, CORS origin) of a stage chalice has deployed."""
    deployed_file = project / ".chalice" / "deployed" / f"{stage}.json"
    if not deployed_file.exists():
        raise SystemExit(f"{deployed_file} is missing: run `chalice deploy --stage {stage}` first")
    deployed = json.loads(deployed_file.read_text(encoding="utf-8"))
    rest_api = next(
        (r for r in deployed["resources"] if r.get("resource_type") == "rest_api"), None
    )
    if rest_api is None:
        raise SystemExit(f"{deployed_file} lists no rest_api")
    config = json.loads((project / ".chalice" / "config.json").read_text(encoding="utf-8"))
    stage_name = config["stages"][stage].get(
        "api_gateway_stage", config.get("api_gateway_stage", "api")
    )
    origin = stage_environment(stage, project).get("CORS_ALLOW_ORIGIN", "*")
    _, host = rest_api["rest_api_url"].split("://", 1)  # <id>.execute-api.<region>.amazonaws...
    region = host.split(".")[2]
    return region, rest_api["rest_api_id"], stage_name, origin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    import boto3

    region, rest_api_id, stage_name, allow_origin = deployed_api(args.stage)
    apply(boto3.client("apigateway", region_name=region), rest_api_id, stage_name, allow_origin)
    print(f"gateway responses set on {rest_api_id}, stage {stage_name} redeployed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
