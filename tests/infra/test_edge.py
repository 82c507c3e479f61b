"""The edge (issue 10, point 12): the template's WAF web ACL, its association with the API
stage and the stage's throttling after a deploy (moto's WAFv2 and API Gateway in-process), and
reserved concurrency per function in .chalice/config.json."""

import json

import boto3
import pytest
from moto import mock_aws

from devstack import template
from infra import edge
from infra.gateway_responses import ROOT
from tests import support

CLOUD_STAGES = ("dev", "staging", "prod")


def _acl_properties(stage: str) -> dict:
    resource = template.load()["Resources"]["ApiWebAcl"]
    refs = {"Stage": stage, "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
    return template.resolve(resource["Properties"], refs, {"IsProd": stage == "prod"})


def _rules(stage: str = "prod") -> dict:
    return {rule["Name"]: rule for rule in _acl_properties(stage)["Rules"]}


def test_the_web_acl_has_the_managed_groups_and_per_address_rate_rules():
    rules = _rules()
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in rules.values()
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert managed == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    rated = [r for r in rules.values() if "RateBasedStatement" in r["Statement"]]
    assert rated and all(
        r["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP" for r in rated
    )
    for rule in rated:  # a flood gets the app's envelope and a 429, not WAF's bare 403
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        body = _acl_properties("prod")["CustomResponseBodies"][response["CustomResponseBodyKey"]]
        assert set(json.loads(body["Content"])) == {"Code", "Message"}
    # rate rules are evaluated before the managed groups, priorities are unique
    priorities = [r["Priority"] for r in rules.values()]
    assert len(set(priorities)) == len(priorities)
    assert max(r["Priority"] for r in rated) < min(
        r["Priority"] for r in rules.values() if r not in rated
    )


def test_the_common_rule_sets_8_kb_body_cap_only_counts():
    """The app takes JSON bodies up to 64 KB (a profile patch) and answers a 413 itself."""
    import app

    common = _rules()["aws-common"]["Statement"]["ManagedRuleGroupStatement"]
    overrides = {o["Name"]: o["ActionToUse"] for o in common["RuleActionOverrides"]}
    assert overrides == {"SizeRestrictions_BODY": {"Count": {}}}
    assert app.MAX_BODY_BYTES > 8 * 1024


@pytest.fixture
def deployed():
    """A REST API with a stage (as chalice leaves it) and the template's web ACL, on moto."""
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name="us-east-1")
        wafv2 = boto3.client("wafv2", region_name="us-east-1")
        rest_api_id = support.deployed_rest_api(apigateway)
        properties = _acl_properties("prod")
        properties.pop("CustomResponseBodies")  # not needed for the association
        wafv2.create_web_acl(**properties)
        yield apigateway, wafv2, rest_api_id


def _apply(deployed, stage: str) -> str:
    apigateway, wafv2, rest_api_id = deployed
    return edge.apply(
        apigateway,
        wafv2,
        region="us-east-1",
        rest_api_id=rest_api_id,
        stage_name="api",
        acl_name=edge.web_acl_name(stage),
        limits=edge.throttling(stage),
    )


def test_apply_throttles_the_stage_and_associates_the_web_acl(deployed):
    apigateway, wafv2, rest_api_id = deployed
    limits = edge.throttling("prod")
    arn = _apply(deployed, "prod")
    stage_arn = edge.stage_arn("us-east-1", rest_api_id, "api")
    assert wafv2.get_web_acl_for_resource(ResourceArn=stage_arn)["WebACL"]["ARN"] == arn
    settings = apigateway.get_stage(restApiId=rest_api_id, stageName="api")["methodSettings"]
    assert settings["*/*"]["throttlingBurstLimit"] == limits["burst_limit"] == 1000
    assert settings["*/*"]["throttlingRateLimit"] == limits["rate_limit"] == 500


def test_apply_refuses_a_stage_without_its_web_acl(deployed):
    with pytest.raises(SystemExit, match="no web ACL echomate-dev-api"):
        _apply(deployed, "dev")


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_every_function_has_its_own_reserved_concurrency(stage):
    import app

    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    functions = config["stages"][stage]["lambda_functions"]
    handlers = {"api_handler"} | {
        name
        for name in ("handle_table_changes", "sweep_jobs", "handle_upload", "clean_up_media")
        if hasattr(app, name)
    }
    # chalice's names of the WebSocket API's functions
    routes = {"$connect": "connect", "$disconnect": "disconnect"}
    handlers |= {f"websocket_{routes.get(key, 'message')}" for key in app.app.websocket_handlers}
    assert set(functions) == handlers
    reserved = [f["reserved_concurrency"] for f in functions.values()]
    assert all(isinstance(n, int) and n >= 1 for n in reserved)
    # Lambda keeps at least 100 of an account's (default 1,000) concurrency unreserved
    assert sum(reserved) <= 900
    # no stage-wide value left: chalice would apply it to every function
    assert "reserved_concurrency" not in config["stages"][stage]


def test_staging_has_the_limits_of_prod():
    """Staging mirrors prod (issue 14): the same reserved concurrency per function and the same
    stage throttling, so what passes there meets prod's limits. (Both stages together reserve
    548, under the 900 a default account leaves reservable, should they share an account.)"""
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))["stages"]
    for key in ("lambda_functions", "api_gateway_throttling"):
        assert stages["staging"][key] == stages["prod"][key]
    reserved = sum(
        f["reserved_concurrency"]
        for stage in ("staging", "prod")
        for f in stages[stage]["lambda_functions"].values()
    )
    assert reserved == 548
