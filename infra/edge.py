"""The API's edge, set after each deploy: the stage's throttling and its WAF web ACL.

chalice creates and re-imports the REST API on every deploy and knows neither stage throttling
nor WAF, so, like `infra.gateway_responses`, this runs after `chalice deploy` (`make deploy`):

- the stage's default method throttling (``burstLimit``, ``rateLimit``) from the stage's
  ``api_gateway_throttling`` in .chalice/config.json (chalice ignores the key; this reads it);
- the web ACL ``echomate-<stage>-api`` of infra/template.yaml associated with the stage (found
  by name, so the template needs no output for it).

    python -m infra.edge --stage prod   # reads .chalice/deployed/prod.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from infra.gateway_responses import deployed_api

ROOT = Path(__file__).resolve().parent.parent


def web_acl_name(stage: str) -> str:
    """The name infra/template.yaml gives the stage's web ACL."""
    return f"echomate-{stage}-api"


def throttling(stage: str, project: Path = ROOT) -> dict[str, float]:
    """The stage's ``{"burst_limit": ..., "rate_limit": ...}`` from .chalice/config.json."""
    config = json.loads((project / ".chalice" / "config.json").read_text(encoding="utf-8"))
    limits = config["stages"][stage].get("api_gateway_throttling")
    if not limits or set(limits) != {"burst_limit", "rate_limit"}:
        raise SystemExit(f"stage {stage}: api_gateway_throttling needs burst_limit and rate_limit")
    return {"burst_limit": int(limits["burst_limit"]), "rate_limit": float(limits["rate_limit"])}


def stage_arn(region: str, rest_api_id: str, stage_name: str) -> str:
    """The ARN WAF takes for a REST API stage."""
    return f"arn:aws:apigateway:{region}::/restapis/{rest_api_id}/stages/{stage_name}"


def find_web_acl(wafv2: Any, name: str) -> str:
    """The ARN of the regional web ACL called ``name``."""
    params: dict[str, Any] = {"Scope": "REGIONAL", "Limit": 100}
    while True:
        page = wafv2.list_web_acls(**params)
        for acl in page.get("WebACLs", []):
            if acl["Name"] == name:
                return str(acl["ARN"])
        if not page.get("NextMarker"):
            raise SystemExit(f"no web ACL {name}: deploy infra/template.yaml first")
        params["NextMarker"] = page["NextMarker"]


def apply(
    apigateway: Any,
    wafv2: Any,
    *,
    region: str,
    rest_api_id: str,
    stage_name: str,
    acl_name: str,
    limits: dict[str, float],
) -> str:
    """Throttle the stage and associate the web ACL with it; returns the ACL's ARN."""
    apigateway.update_stage(
        restApiId=rest_api_id,
        stageName=stage_name,
        patchOperations=[
            {
                "op": "replace",
                "path": "/*/*/throttling/burstLimit",
                "value": str(int(limits["burst_limit"])),
            },
            {
                "op": "replace",
                "path": "/*/*/throttling/rateLimit",
                "value": str(float(limits["rate_limit"])),
            },
        ],
    )
    arn = find_web_acl(wafv2, acl_name)
    wafv2.associate_web_acl(WebACLArn=arn, ResourceArn=stage_arn(region, rest_api_id, stage_name))
    return arn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    import boto3

    region, rest_api_id, stage_name, _ = deployed_api(args.stage)
    limits = throttling(args.stage)
    arn = apply(
        boto3.client("apigateway", region_name=region),
        boto3.client("wafv2", region_name=region),
        region=region,
        rest_api_id=rest_api_id,
        stage_name=stage_name,
        acl_name=web_acl_name(args.stage),
        limits=limits,
    )
    print(f"stage {stage_name} of {rest_api_id}: throttled at {limits}, web ACL {arn}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
