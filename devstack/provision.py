"""Provisions the embedded stack from infra/template.yaml: one source of truth.

moto's CloudFormation creates the table and the bucket; it skips (or ignores) the rest: the
Cognito pool, client and groups, the table's TTL and the bucket's CORS, lifecycle and public
access block. Those are applied here through the service APIs, from the template's own
properties. A resource type the template gains and this module does not know stops provisioning,
so the two cannot drift apart silently.
"""

from __future__ import annotations

import json
from typing import Any

from devstack import template
from infra.stage_settings import OUTPUT_SETTINGS

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
STACK_NAME = "echomate-local"
S3_EVENTS_QUEUE = "echomate-local-s3-events"

# Created by moto's CloudFormation.
_CFN_TYPES = {"AWS::DynamoDB::Table", "AWS::S3::Bucket"}
# Applied through the service APIs below.
_API_TYPES = {
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
}
# Not needed on the embedded stack, and why.
_SKIPPED_TYPES = {
    # the deny-insecure-transport policy would refuse the stack's plain-HTTP loopback traffic
    "AWS::S3::BucketPolicy",
    # the local stage signs cursors with CURSOR_SECRET from .chalice/config.json
    "AWS::SecretsManager::Secret",
    # no CDN locally (EnableCdn is false): renditions are served by presigned GETs
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::Distribution",
    # moto stores alarms but never evaluates them, and has no Lambda metrics to evaluate
    "AWS::SNS::Topic",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    # chalice local writes to the console; no Lambda, no API Gateway stage, no access log
    "AWS::Logs::LogGroup",
    "AWS::IAM::Role",
    "AWS::ApiGateway::Account",
    # the event pump retries a failed batch itself; there is no event source mapping to fail
    "AWS::SQS::Queue",
    # nothing to keep: the embedded stack's data lives as long as the process
    "AWS::Backup::BackupVault",
    "AWS::Backup::BackupPlan",
    "AWS::Backup::BackupSelection",
    # the edge (WAF) sits in front of API Gateway, which the embedded stack does not have
    "AWS::WAFv2::WebACL",
}


def local_environment(moto_url: str) -> dict[str, str]:
    """What every process of the embedded stack needs: dummy credentials, moto's address."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": moto_url,
    }


def clients(moto_url: str) -> Any:
    """A factory of boto3 clients aimed at the moto server."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )

    def make(service: str) -> Any:
        config = Config(signature_version="s3v4") if service == "s3" else None
        return session.client(service, endpoint_url=moto_url, config=config)

    return make


def provision(moto_url: str, stage: str = "local") -> dict[str, str]:
    """Create every resource of the template on the moto server; return the settings."""
    tpl = template.load()
    types = {r["Type"] for r in tpl["Resources"].values()}
    unknown = types - _CFN_TYPES - _API_TYPES - _SKIPPED_TYPES
    if unknown:
        raise SystemExit(f"devstack/provision.py does not know how to create {sorted(unknown)}")
    make = clients(moto_url)
    refs: dict[str, Any] = {
        "Stage": stage,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Region": REGION,
        "CorsAllowedOrigin": "*",
    }
    conditions = {"IsProd": stage == "prod"}

    outputs = _create_stack(make("cloudformation"), tpl, stage)
    refs.update(Table=outputs["TableName"], MediaBucket=outputs["MediaBucketName"])
    resources = tpl["Resources"]
    _apply_table_extras(make("dynamodb"), resources["Table"]["Properties"], outputs["TableName"])
    _apply_bucket_extras(
        make("s3"), _resolve(resources["MediaBucket"], refs, conditions), outputs["MediaBucketName"]
    )
    outputs.update(create_cognito(make("cognito-idp"), resources, refs, conditions))
    settings = {OUTPUT_SETTINGS[k]: v for k, v in outputs.items()}
    settings["COGNITO_JWKS_URL"] = (
        f"{moto_url}/{settings['COGNITO_USER_POOL_ID']}/.well-known/jwks.json"
    )
    settings["AWS_ENDPOINT_URL"] = moto_url
    settings["AWS_DEFAULT_REGION"] = REGION
    settings.update(create_push_platforms(make("sns"), stage))
    return settings


def create_push_platforms(sns: Any, stage: str) -> dict[str, str]:
    """The SNS platform applications phones register under (on AWS made by hand, outside the
    template: they hold the APNs key and the FCM credentials), as the stage's settings."""
    arns = {}
    for setting, platform in (
        ("PUSH_APNS_APPLICATION_ARN", "APNS_SANDBOX"),
        ("PUSH_FCM_APPLICATION_ARN", "GCM"),
    ):
        arns[setting] = sns.create_platform_application(
            Name=f"echomate-{stage}-{platform.lower()}",
            Platform=platform,
            Attributes={"PlatformCredential": "local-dummy-credential"},
        )["PlatformApplicationArn"]
    return arns


def _resolve(
    resource: dict[str, Any], refs: dict[str, Any], conditions: dict[str, bool]
) -> dict[str, Any]:
    return template.resolve(resource.get("Properties", {}), refs, conditions)


def _create_stack(cfn: Any, tpl: dict[str, Any], stage: str) -> dict[str, str]:
    part = dict(tpl)
    part["Resources"] = {k: v for k, v in tpl["Resources"].items() if v["Type"] in _CFN_TYPES}
    part["Outputs"] = {
        k: v for k, v in tpl.get("Outputs", {}).items() if _refers_only_to(v, part["Resources"])
    }
    cfn.create_stack(
        StackName=STACK_NAME,
        TemplateBody=json.dumps(part),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
    )
    stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise SystemExit(
            f"stack {STACK_NAME}: {stack['StackStatus']} {stack.get('StackStatusReason', '')}"
        )
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _refers_only_to(output: dict[str, Any], resources: dict[str, Any]) -> bool:
    return _referenced_names(output["Value"]) <= set(resources)


def _referenced_names(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(_referenced_names(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if "Ref" in value:
        return {value["Ref"]}
    if "Fn::GetAtt" in value:
        return {value["Fn::GetAtt"][0]}
    return set().union(*(_referenced_names(v) for v in value.values())) if value else set()


def _apply_table_extras(dynamodb: Any, properties: dict[str, Any], table_name: str) -> None:
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)


def _apply_bucket_extras(s3: Any, properties: dict[str, Any], bucket: str) -> None:
    if "PublicAccessBlockConfiguration" in properties:
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"],
        )
    if "CorsConfiguration" in properties:
        rules = [_cors_rule(r) for r in properties["CorsConfiguration"]["CorsRules"]]
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    if "LifecycleConfiguration" in properties:
        rules = [_lifecycle_rule(r) for r in properties["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": rules}
        )


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    renamed = {"Id": "ID", "MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders"}
    return {renamed.get(k, k): v for k, v in rule.items()}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    # CloudFormation's flat rule properties, in the S3 API's shape.
    out: dict[str, Any] = {
        "ID": rule["Id"],
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return out


def create_cognito(
    idp: Any, resources: dict[str, Any], refs: dict[str, Any], conditions: dict[str, bool]
) -> dict[str, str]:
    """Create the template's user pools, app clients and groups; return their outputs."""
    outputs: dict[str, str] = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Cognito::UserPool":
            continue
        props = _resolve(resource, refs, conditions)
        mfas = props.pop("EnabledMfas", [])
        props["PoolName"] = props.pop("UserPoolName")
        pool = idp.create_user_pool(**props)["UserPool"]
        if "SOFTWARE_TOKEN_MFA" in mfas:
            idp.set_user_pool_mfa_config(
                UserPoolId=pool["Id"],
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=props.get("MfaConfiguration", "OFF"),
            )
        refs[name] = pool["Id"]
        outputs["UserPoolId"] = pool["Id"]
        outputs["UserPoolArn"] = pool["Arn"]
        # moto signs tokens with the AWS issuer of the pool's region, as Cognito does.
        outputs["CognitoIssuer"] = f"https://cognito-idp.us-east-1.amazonaws.com/{pool['Id']}"
    for resource in resources.values():
        if resource["Type"] == "AWS::Cognito::UserPoolClient":
            client = idp.create_user_pool_client(**_resolve(resource, refs, conditions))
            outputs["UserPoolClientId"] = client["UserPoolClient"]["ClientId"]
        elif resource["Type"] == "AWS::Cognito::UserPoolGroup":
            idp.create_group(**_resolve(resource, refs, conditions))
    return outputs
