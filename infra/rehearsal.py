"""The deploy rehearsal: the real deploy commands against a fresh moto server, then checks.

    python -m infra.rehearsal              # what `make deploy-rehearsal` runs

In a scratch copy of the project (the checkout's .chalice files are never rewritten) and on a
moto server on a free 127.0.0.1 port, with dummy credentials:

1. provision infra/template.yaml as the stack `echomate-prod`: moto's CloudFormation creates what
   it can; what it skips is made through the service APIs from the template's own properties (as
   devstack/provision.py does), and the stack's outputs carry those resources' ids, so the deploy
   steps read the stack as they would in AWS;
2. `make deploy STAGE=prod STATE_BUCKET=...`: the same command the deploy workflow runs
   (stage settings from the stack, the real `chalice deploy --stage prod`, its state pushed to
   the state bucket, infra/after_deploy.py);
3. check what was built (functions, routes and authorizers, the WebSocket API's routes,
   integrations and stage, stream mapping, S3 notification, schedules, gateway responses, access
   log, failure destination, the roles' policy, which is left in build/rehearsal/ for
   tests/infra/test_iam_policy.py to check against every AWS call the tests made: `make test`
   runs pytest after the rehearsal);
4. deploy again from a new scratch copy whose only memory is the state bucket: an update (same
   REST and WebSocket APIs, same functions, the policy now naming the WebSocket API), checked
   again;
5. `chalice delete --stage prod`, and check the functions, both APIs and rules are gone.

Between 1 and 2 it rehearses the restore runbook (docs/operations.md) as far as moto plays it:
a point-in-time restore into a new table, its stream, PITR and TTL put back, and a scratch copy
of the stage pointed at it (before the deploy: once a stream mapping exists, moto tries to run
the stream handler, in Docker, on every write).

The push platform applications are made on moto first (SNS CreatePlatformApplication with dummy
credentials), as an operator makes them by hand, and passed to the stack as its
`ApnsPlatformApplicationArn` / `FcmPlatformApplicationArn` parameters.

Four adaptations of moto, in this process only (`_Adapted`, a WSGI wrapper; the deploy
commands are not changed): S3 notification filter rule names are lower-cased (AWS accepts any
case and chalice sends `Prefix`; moto answers 500); chalice's Swagger 2.0 REST API import is
played through moto's API Gateway backend; and API Gateway v2's CreateDeployment, which moto
5.2 does not have (a 404), is answered with a new deployment id for an existing API, the id
chalice then creates the WebSocket API's stage on (the rest of chalice's WebSocket deploy,
update and delete path, CreateApi, Create/Get/DeleteIntegration(s), Create/Get/DeleteRoute(s),
CreateStage, DeleteApi, and Lambda AddPermission, moto plays itself); and UpdateRestApi's
`/minimumCompressionSize`, which moto answers but drops, is kept on its REST API.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGE = "prod"
STACK = f"echomate-{STAGE}"
STATE_BUCKET = "echomate-deploy-state-rehearsal"
REPORT_DIR = ROOT / "build" / "rehearsal"
#: the policy as deployed (pinned to the stack), for tests/infra/test_iam_policy.py
DEPLOYED_POLICY = REPORT_DIR / f"policy-{STAGE}.json"
#: what the scratch copy holds: what chalice packages, and what `make deploy` runs
PROJECT_FILES = ["app.py", "chalicelib", "infra", "requirements.txt", "requirements-dev.txt"]
PROJECT_FILES += ["Makefile", "pyproject.toml"]

# How each resource type of the template is played on moto.
_CFN_TYPES = {  # moto's CloudFormation creates these
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::IAM::Role",
    "AWS::CloudWatch::Dashboard",
}
_API_TYPES = {  # moto's CloudFormation skips these: made through the service APIs below
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::SecretsManager::Secret",
    "AWS::CloudWatch::Alarm",
    "AWS::Backup::BackupVault",
    "AWS::Backup::BackupPlan",
    "AWS::ApiGateway::Account",
    "AWS::WAFv2::WebACL",
}
#: template parameter -> the SNS platform of the application the rehearsal makes for it
PLATFORM_APPLICATIONS = {"ApnsPlatformApplicationArn": "APNS", "FcmPlatformApplicationArn": "GCM"}
_NOT_PLAYED = {  # and why
    "AWS::S3::BucketPolicy": "moto stores bucket policies but never evaluates them",
    "AWS::Backup::BackupSelection": "moto has no backup selections (CreateBackupSelection)",
    "AWS::CloudFront::OriginAccessControl": "EnableCdn is false in the rehearsal",
    "AWS::CloudFront::Distribution": "EnableCdn is false in the rehearsal",
}


class Failed(Exception):
    """A rehearsal check did not hold."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


# moto --------------------------------------------------------------------------------------------
class _Adapted:
    """The four places where moto refuses (or drops) what AWS accepts from `chalice deploy`,
    adapted on the way into moto (this process only; the deploy commands are not changed):

    - S3 notification filter rule names: AWS takes any case, chalice sends `Prefix`, moto accepts
      only `prefix` (a 500 otherwise): lower-cased here;
    - the REST API import: chalice sends a Swagger 2.0 document with API Gateway's extensions
      (ImportRestApi, then PutRestApi mode=overwrite on updates); moto imports only OpenAPI 3
      and ignores security: the document is played here through moto's own API Gateway
      backend, as API Gateway does (resources, methods with their authorizer, integrations);
    - API Gateway v2's CreateDeployment (`POST /v2/apis/{apiId}/deployments`), which chalice
      calls once when it creates the WebSocket API, before CreateStage: moto 5.2 has no such
      route (a 404). Answered here as AWS does, with a new DeploymentId for an existing API
      (NotFoundException otherwise), recorded in WEBSOCKET_DEPLOYMENTS for the checks;
    - UpdateRestApi's ``replace /minimumCompressionSize`` (API Gateway's compression of large
      answers): moto answers 200 and drops it; kept on moto's REST API, then passed on.
    """

    _NAME = re.compile(rb"<Name>(Prefix|Suffix)</Name>")
    _API = re.compile(r"^/restapis(?:/(?P<id>[^/]+))?/?$")
    _DEPLOYMENTS = re.compile(r"^/v2/apis/(?P<id>[^/]+)/deployments/?$")

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        query = environ.get("QUERY_STRING", "").split("&")
        method = environ["REQUEST_METHOD"]
        if method == "PUT" and "notification" in query:
            body = self._body(environ)
            body = self._NAME.sub(lambda m: b"<Name>" + m.group(1).lower() + b"</Name>", body)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        api = self._API.match(environ.get("PATH_INFO", ""))
        if api and api["id"] and method == "PATCH":
            body = self._body(environ)
            _keep_compression(environ.get("HTTP_AUTHORIZATION", ""), api["id"], body)
            environ["wsgi.input"] = io.BytesIO(body)
        if api and "/apigateway/" in environ.get("HTTP_AUTHORIZATION", ""):
            importing = method == "POST" and "mode=import" in query
            if importing or (method == "PUT" and api["id"]):
                region = environ["HTTP_AUTHORIZATION"].split("/")[2]
                document = json.loads(self._body(environ))
                played = _play_swagger(region, api["id"], document)
                start_response(
                    "201 Created" if importing else "200 OK",
                    [("Content-Type", "application/json")],
                )
                return [json.dumps(played).encode()]
        deployments = self._DEPLOYMENTS.match(environ.get("PATH_INFO", ""))
        signed_for = environ.get("HTTP_AUTHORIZATION", "")
        if deployments and method == "POST" and "/apigateway/" in signed_for:
            region = signed_for.split("/")[2]
            status, answer = _deploy_websocket_api(region, deployments["id"])
            headers = [("Content-Type", "application/json")]
            if status.startswith("404"):
                headers.append(("x-amzn-ErrorType", "NotFoundException"))
            start_response(status, headers)
            return [json.dumps(answer).encode()]
        return self._app(environ, start_response)

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        return bytes(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))


_COMPRESSION = "/minimumCompressionSize"


def _keep_compression(signed_for: str, api_id: str, body: bytes) -> None:
    """UpdateRestApi's ``replace /minimumCompressionSize`` (chalice sends it on every deploy,
    ``""`` when unset), which moto 5.2 answers 200 but drops: kept on moto's REST API."""
    if "/apigateway/" not in signed_for:
        return
    from moto.apigateway.models import apigateway_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    region = signed_for.split("/")[2]
    api = apigateway_backends[DEFAULT_ACCOUNT_ID][region].apis.get(api_id)
    for op in json.loads(body or b"{}").get("patchOperations", []):
        if api is not None and (op.get("op"), op.get("path")) == ("replace", _COMPRESSION):
            value = str(op.get("value") or "")
            api.minimum_compression_size = int(value) if value.isdigit() else None


def _play_swagger(region: str, api_id: str | None, document: dict[str, Any]) -> dict[str, Any]:
    """Create (or overwrite) a REST API from chalice's Swagger document in moto's backend."""
    from moto.apigateway.models import apigateway_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = apigateway_backends[DEFAULT_ACCOUNT_ID][region]
    if api_id is None:
        api = backend.create_rest_api(name=document["info"]["title"], description="")
    else:
        api = backend.get_rest_api(api_id)
        api.resources = {}
        api.default = api.add_child("/")
        api.authorizers = {}
    authorizers = {}
    for name, definition in document.get("securityDefinitions", {}).items():
        extension = definition["x-amazon-apigateway-authorizer"]
        authorizers[name] = backend.create_authorizer(
            api.id,
            name=name,
            authorizer_type=extension["type"].upper(),
            provider_arns=extension.get("providerARNs"),
            identity_source=f"method.request.header.{definition['name']}",
        ).id
    if "x-amazon-apigateway-binary-media-types" in document:
        api.binaryMediaTypes = document["x-amazon-apigateway-binary-media-types"]
    for path, operations in sorted(document["paths"].items()):
        parent = api.default
        for part in path.strip("/").split("/") if path != "/" else []:
            existing = [
                r
                for r in api.resources.values()
                if r.parent_id == parent.id and r.path_part == part
            ]
            parent = existing[0] if existing else backend.create_resource(api.id, parent.id, part)
        for verb, operation in operations.items():
            security = [name for entry in operation.get("security", []) for name in entry]
            authorizer = authorizers[security[0]] if security else None
            backend.put_method(
                api.id,
                parent.id,
                verb.upper(),
                authorization_type=(
                    document["securityDefinitions"][security[0]][
                        "x-amazon-apigateway-authtype"
                    ].upper()
                    if security
                    else "NONE"
                ),
                authorizer_id=authorizer,
            )
            integration = operation["x-amazon-apigateway-integration"]
            backend.put_integration(
                api.id,
                parent.id,
                verb.upper(),
                integration_type=integration["type"].upper(),
                uri=integration.get("uri", ""),
                integration_method=integration.get("httpMethod", "POST"),
            )
    return dict(api.to_dict())


#: chalice's function of each WebSocket route (websocket_<this>; any other key: message)
WEBSOCKET_ROUTES = {"$connect": "connect", "$disconnect": "disconnect"}
#: push settings -> the stack output (a template parameter) each must carry
PUSH_SETTINGS = {
    "PUSH_APNS_APPLICATION_ARN": "PushApnsApplicationArn",
    "PUSH_FCM_APPLICATION_ARN": "PushFcmApplicationArn",
}
#: API id -> the deployments CreateDeployment made (moto's apigatewayv2 has none)
WEBSOCKET_DEPLOYMENTS: dict[str, list[str]] = {}


def _deploy_websocket_api(region: str, api_id: str) -> tuple[str, dict[str, Any]]:
    """CreateDeployment of an API Gateway v2 API, as AWS answers it: a new deployment id (what
    a deployment snapshots is not played: moto never serves the API)."""
    from moto.apigatewayv2.models import apigatewayv2_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    if api_id not in apigatewayv2_backends[DEFAULT_ACCOUNT_ID][region].apis:
        message = f"Invalid API identifier specified {DEFAULT_ACCOUNT_ID}:{api_id}"
        return "404 Not Found", {"message": message}
    deployment_id = secrets.token_hex(3)
    WEBSOCKET_DEPLOYMENTS.setdefault(api_id, []).append(deployment_id)
    return "201 Created", {
        "deploymentId": deployment_id,
        "deploymentStatus": "DEPLOYED",
        "autoDeployed": False,
        "createdDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def start_moto() -> Any:
    from devstack.motoserver import MotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    moto = MotoServer(port).start()
    moto._server.app = _Adapted(moto._server.app)  # werkzeug reads it per request
    return moto


# 1. the infra stack ------------------------------------------------------------------------------
def provision(make: Callable[[str], Any], stage: str = STAGE) -> dict[str, str]:
    """Play infra/template.yaml on moto as the stack echomate-<stage>; its outputs."""
    from devstack import provision as devstack_provision
    from devstack import template

    tpl = template.load()
    conditions = {
        "IsProd": stage == "prod",
        "MirrorsProd": stage in ("prod", "staging"),
        "UseCdn": False,
        "HasAlarmEmail": False,
        "HasApns": True,
        "HasFcm": True,
    }
    resources = {
        name: resource
        for name, resource in tpl["Resources"].items()
        if conditions.get(resource.get("Condition", ""), True)
    }
    types = {r["Type"] for r in resources.values()}
    unknown = types - _CFN_TYPES - _API_TYPES - set(_NOT_PLAYED)
    expect(not unknown, f"infra/rehearsal.py does not know how to play {sorted(unknown)}")
    refs: dict[str, Any] = {
        "Stage": stage,
        "AWS::AccountId": devstack_provision.ACCOUNT_ID,
        "AWS::Region": devstack_provision.REGION,
        "AWS::Partition": "aws",
        "CorsAllowedOrigin": "https://app.echomate.example",
        "AlarmEmail": "",
    }

    # The push platform applications, made by hand outside the template (they hold the APNs key
    # and the FCM credentials) and passed to the stack as parameters.
    sns = make("sns")
    parameters = {"Stage": stage}
    for parameter, platform in PLATFORM_APPLICATIONS.items():
        application = sns.create_platform_application(
            Name=f"echomate-{stage}-{platform.lower()}",
            Platform=platform,
            Attributes={"PlatformCredential": "rehearsal-only", "PlatformPrincipal": "rehearsal"},
        )
        parameters[parameter] = refs[parameter] = application["PlatformApplicationArn"]

    # What the stack must output but moto's CloudFormation cannot make: made first, by API.
    made = devstack_provision.create_cognito(make("cognito-idp"), resources, refs, conditions)
    secret = make("secretsmanager").create_secret(
        Name=f"CursorSecret-{stage}", SecretString=secrets.token_urlsafe(36)
    )
    made["CursorSecretArn"] = secret["ARN"]

    cfn_resources = {n: r for n, r in resources.items() if r["Type"] in _CFN_TYPES}
    outputs_part = {}
    played = set(cfn_resources) | set(tpl["Parameters"])  # outputs moto's CloudFormation makes
    for name, output in tpl["Outputs"].items():
        if not conditions.get(output.get("Condition", ""), True):
            continue
        if devstack_provision._referenced_names(output["Value"]) <= played:
            outputs_part[name] = output
        else:
            expect(name in made, f"output {name}: its resource is neither made nor known")
            outputs_part[name] = {"Value": made[name]}
    body = {**tpl, "Resources": cfn_resources, "Outputs": outputs_part}
    body["Conditions"] = {k: v for k, v in tpl["Conditions"].items()}
    cfn = make("cloudformation")
    cfn.create_stack(
        StackName=f"echomate-{stage}",
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    (stack,) = cfn.describe_stacks(StackName=f"echomate-{stage}")["Stacks"]
    expect(stack["StackStatus"] == "CREATE_COMPLETE", f"stack: {stack['StackStatus']}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=f"echomate-{stage}")["StackResourceSummaries"]
    }
    refs.update(physical)
    arns = {  # Fn::GetAtt X.Arn of the resources the API-made ones refer to
        name: f"arn:aws:iam::{refs['AWS::AccountId']}:role/{physical[name]}"
        for name, r in cfn_resources.items()
        if r["Type"] == "AWS::IAM::Role"
    }

    def props(name: str) -> dict[str, Any]:
        resolved: dict[str, Any] = template.resolve(
            _get_arns(resources[name].get("Properties", {}), arns), refs, conditions
        )
        return resolved

    # What CloudFormation stores but moto ignores, through the service APIs (as make dev does).
    table = outputs["TableName"]
    dynamodb = make("dynamodb")
    devstack_provision._apply_table_extras(dynamodb, resources["Table"]["Properties"], table)
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    devstack_provision._apply_bucket_extras(
        make("s3"), props("MediaBucket"), outputs["MediaBucketName"]
    )
    backup, cloudwatch = make("backup"), make("cloudwatch")
    for name, resource in resources.items():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            cloudwatch.put_metric_alarm(AlarmName=f"{STACK}-{name}", **props(name))
        elif resource["Type"] == "AWS::Backup::BackupVault":
            refs[name] = backup.create_backup_vault(**props(name))["BackupVaultName"]
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Backup::BackupPlan":
            plan = props(name)["BackupPlan"]
            plan["Rules"] = plan.pop("BackupPlanRule")
            for rule in plan["Rules"]:  # CloudFormation's name, in the API's shape
                rule["TargetBackupVaultName"] = rule.pop("TargetBackupVault")
            backup.create_backup_plan(BackupPlan=plan)
        elif resource["Type"] == "AWS::WAFv2::WebACL":
            # the edge step of `make deploy` (infra/edge.py) finds it by name and associates it
            make("wafv2").create_web_acl(**props(name))
        elif resource["Type"] == "AWS::ApiGateway::Account":
            role = props(name)["CloudWatchRoleArn"]
            make("apigateway").update_account(
                patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
            )
    return outputs


def _get_arns(value: Any, arns: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_get_arns(v, arns) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][1] == "Arn":
        return arns[value["Fn::GetAtt"][0]]
    return {k: _get_arns(v, arns) for k, v in value.items()}


# 2. the deploy -----------------------------------------------------------------------------------
def scratch_copy(target: Path) -> Path:
    """The project as CI checks it out, sharing the checkout's virtualenv and package cache."""
    target.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)  # mtimes kept: make sees .venv as up to date
    chalice = target / ".chalice"
    chalice.mkdir()
    for source in (ROOT / ".chalice").glob("*.json"):
        shutil.copy2(source, chalice / source.name)
    if (ROOT / ".chalice" / "deployments").is_dir():  # chalice's cache of built dependencies
        shutil.copytree(ROOT / ".chalice" / "deployments", chalice / "deployments")
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def run(command: list[str], project: Path, env: dict[str, str], log: list[str]) -> float:
    """Run a deploy command in the scratch project; its output joins the log. Seconds taken."""
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 (our own commands)
        command, cwd=project, env=env, capture_output=True, text=True, check=False
    )
    took = time.monotonic() - started
    log.append(f"$ {' '.join(command)}  ({took:.1f}s)\n{done.stdout}{done.stderr}")
    expect(done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return took


# 3. the checks -----------------------------------------------------------------------------------
def function_name(app_name: str, stage: str, function: str) -> str:
    """Chalice's name of a function: <app>-<stage> for the API, <app>-<stage>-<name> otherwise."""
    return f"{app_name}-{stage}" + ("" if function == "api_handler" else f"-{function}")


def check(make: Callable[[str], Any], project: Path, outputs: dict[str, str]) -> dict[str, Any]:
    """Every check on the deployed stage; what was built, for the report."""
    sys.path.insert(0, str(ROOT))
    import app as application
    from infra.after_deploy import STREAM_FAILURE_SETTINGS, access_log_format
    from infra.gateway_responses import RESPONSES
    from infra.stage_settings import stage_environment

    config = json.loads((project / ".chalice" / "config.json").read_text(encoding="utf-8"))
    environment = stage_environment(STAGE, project)
    expect("REPLACE" not in json.dumps(environment), "placeholders left in the stage settings")
    built: dict[str, Any] = {}

    # Functions: handler, memory, timeout, environment, role, tracing.
    lam, iam = make("lambda"), make("iam")
    handlers = {"api_handler": "app.app"}
    websocket_functions = {  # route key -> chalice's name of its function
        key: f"websocket_{WEBSOCKET_ROUTES.get(key, 'message')}"
        for key in application.app.websocket_handlers
    }
    for key, handler in application.app.websocket_handlers.items():
        handlers[websocket_functions[key]] = handler.handler_string
    expect(
        set(websocket_functions.values()) <= set(config["lambda_functions"]),
        "a WebSocket function is not sized in lambda_functions",
    )
    for name, arn in PUSH_SETTINGS.items():
        expect(environment.get(name) == outputs[arn], f"{name} is not the stack's {arn}")
    expect("WEBSOCKET_ENDPOINT" not in environment, "WEBSOCKET_ENDPOINT set on a cloud stage")
    functions = {}
    for function, sizes in config["lambda_functions"].items():
        name = function_name(config["app_name"], STAGE, function)
        conf = lam.get_function(FunctionName=name)["Configuration"]
        expect(conf["Handler"] == handlers.get(function, f"app.{function}"), f"{name} handler")
        expect(conf["MemorySize"] == sizes["lambda_memory_size"], f"{name} memory")
        expect(conf["Timeout"] == sizes["lambda_timeout"], f"{name} timeout")
        expect(conf["Environment"]["Variables"] == environment, f"{name} environment")
        expect(conf.get("TracingConfig", {}).get("Mode") == "Active", f"{name}: X-Ray is off")
        functions[function] = conf
        built.setdefault("functions", []).append(
            f"{name}: {conf['Handler']}, {conf['MemorySize']} MB, {conf['Timeout']} s, "
            f"{conf['Runtime']}, role {conf['Role'].rsplit('/', 1)[1]}"
        )
    pinned = json.loads(
        (project / ".chalice" / config["stages"][STAGE]["iam_policy_file"]).read_text()
    )
    for conf in functions.values():  # chalice gives each function of lambda_functions a role
        role = conf["Role"].rsplit("/", 1)[1]
        (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        policy = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
        policy = json.loads(policy) if isinstance(policy, str) else policy
        expect(policy == pinned, f"{role}: its policy is not the pinned policy file")
    expect(":*:*:" not in json.dumps(pinned), "the deployed policy still has account wildcards")
    built["policy"] = pinned

    # The WebSocket API: one, each route integrated with its function, the stage deployed.
    built["websocket"], built["websocket_id"] = check_websocket_api(
        make, config, functions, websocket_functions
    )
    (connections,) = [
        st["Resource"] for st in pinned["Statement"] if st["Sid"] == "WebSocketConnections"
    ]
    named = {arn.split(":")[5].split("/")[0] for arn in connections}
    # "*" on a stage's first deploy only: stage_settings reads the API id from the state
    expect(named in ({"*"}, {built["websocket_id"]}), f"connections of the APIs {named}")
    built["connections_pinned"] = named == {built["websocket_id"]}

    # The REST API: one, every route of the OpenAPI document, the authorizer where it belongs.
    apigateway = make("apigateway")
    apis = [a for a in apigateway.get_rest_apis()["items"] if a["name"] == config["app_name"]]
    expect(len(apis) == 1, f"{len(apis)} REST APIs named {config['app_name']}")
    api_id = apis[0]["id"]
    (authorizer,) = apigateway.get_authorizers(restApiId=api_id)["items"]
    expect(authorizer["type"] == "COGNITO_USER_POOLS", "the authorizer is not Cognito's")
    expect(authorizer["providerARNs"] == [environment["COGNITO_USER_POOL_ARN"]], "user pool")
    methods = {}
    for resource in apigateway.get_resources(restApiId=api_id, embed=["methods"], limit=500)[
        "items"
    ]:
        for verb, method in resource.get("resourceMethods", {}).items():
            if verb != "OPTIONS":
                methods[(resource["path"], verb)] = method
    document = application._openapi_document()
    routes = {
        (path, verb.upper()): operation
        for path, operations in document["paths"].items()
        for verb, operation in operations.items()
    }
    expect(set(methods) == set(routes), f"routes differ: {set(methods) ^ set(routes)}")
    for key, operation in routes.items():
        method = methods[key]
        if operation.get("security") == []:
            expect(method["authorizationType"] == "NONE", f"{key} is public but authorized")
        else:
            expect(method["authorizationType"] == "COGNITO_USER_POOLS", f"{key} has no authorizer")
            expect(method["authorizerId"] == authorizer["id"], f"{key}: another authorizer")
    public = sorted(f"{verb} {path}" for (path, verb), o in routes.items() if o["security"] == [])
    built["api"] = (
        f"{api_id}: {len(routes)} routes, {len(routes) - len(public)} behind the Cognito "
        f"authorizer, public: {', '.join(public)}"
    )
    built["api_id"] = api_id
    # Compression of large answers (chalice's minimum_compression_size, sent by UpdateRestApi)
    wanted = config["stages"][STAGE].get(
        "minimum_compression_size", config.get("minimum_compression_size")
    )
    compression = apigateway.get_rest_api(restApiId=api_id).get("minimumCompressionSize")
    expect(wanted is not None and compression == wanted, f"compression from {compression} bytes")
    built["api"] += f"; answers over {compression} bytes compressed"

    # API stage: gateway responses, JSON access log, X-Ray.
    stage = apigateway.get_stage(
        restApiId=api_id, stageName=config["stages"][STAGE]["api_gateway_stage"]
    )
    answers = {
        r["responseType"]: r for r in apigateway.get_gateway_responses(restApiId=api_id)["items"]
    }
    for response_type in RESPONSES:
        template = answers.get(response_type, {}).get("responseTemplates", {})
        expect('"Code"' in template.get("application/json", ""), f"{response_type} envelope")
    log_settings = stage.get("accessLogSettings", {})
    expect(log_settings.get("format") == access_log_format(), "the access log is not JSON")
    json.loads(re.sub(r"\$context\.[\w.]+", "1", log_settings["format"]))
    expect(
        log_settings.get("destinationArn") == outputs["ApiAccessLogGroupArn"].removesuffix(":*"),
        "the access log goes elsewhere",
    )
    expect(stage.get("tracingEnabled") is True, "X-Ray is off on the API stage")
    # The edge (infra/edge.py): the stage's throttling and its web ACL.
    from infra import edge

    limits = edge.throttling(STAGE, project)
    method = stage.get("methodSettings", {}).get("*/*", {})
    expect(
        method.get("throttlingBurstLimit") == limits["burst_limit"]
        and method.get("throttlingRateLimit") == limits["rate_limit"],
        f"the stage's throttling is {method}, not {limits}",
    )
    arn = edge.stage_arn(make("wafv2").meta.region_name, api_id, stage["stageName"])
    acl = make("wafv2").get_web_acl_for_resource(ResourceArn=arn).get("WebACL") or {}
    expect(acl.get("Name") == edge.web_acl_name(STAGE), "no web ACL guards the API stage")
    built["stage"] = (
        f"stage {stage['stageName']}: {len(RESPONSES)} gateway responses, JSON access log to "
        f"{log_settings['destinationArn'].rsplit(':', 1)[1]}, X-Ray on, throttled at "
        f"{limits['rate_limit']:g}/s (burst {limits['burst_limit']}), web ACL {acl['Name']}"
    )

    # Event sources: the stream mapping, the S3 notification, the schedules.
    sources = {type(s).__name__: [] for s in application.app.event_sources}
    for source in application.app.event_sources:
        sources[type(source).__name__].append(source)
    (stream_source,) = sources["DynamoDBEventConfig"]
    (mapping,) = [
        m
        for m in lam.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"] == functions[stream_source.name]["FunctionArn"]
    ]
    expect(mapping["EventSourceArn"] == outputs["TableStreamArn"], "the mapping reads elsewhere")
    expect(mapping["BatchSize"] == stream_source.batch_size, "the mapping's batch size")
    expect(
        mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        == outputs["StreamFailureQueueArn"],
        "the stream mapping has no on-failure destination",
    )
    for setting, value in STREAM_FAILURE_SETTINGS.items():
        expect(mapping.get(setting) == value, f"the stream mapping's {setting}")
    built["stream"] = (
        f"{mapping['EventSourceArn'].split('/')[1]} stream -> {stream_source.name} "
        f"(batch {mapping['BatchSize']}, on failure -> "
        f"{outputs['StreamFailureQueueArn'].rsplit(':', 1)[1]})"
    )
    (s3_source,) = sources["S3EventConfig"]
    notification = make("s3").get_bucket_notification_configuration(
        Bucket=outputs["MediaBucketName"]
    )
    (target,) = notification["LambdaFunctionConfigurations"]
    rules = {r["Name"].lower(): r["Value"] for r in target["Filter"]["Key"]["FilterRules"]}
    expect(target["LambdaFunctionArn"] == functions[s3_source.name]["FunctionArn"], "S3 target")
    expect(rules == {"prefix": s3_source.prefix}, f"S3 filter {rules}")
    expect(target["Events"] == s3_source.events, "S3 events")
    built["s3"] = f"{outputs['MediaBucketName']}/{s3_source.prefix}* -> {s3_source.name}"
    events = make("events")
    built["schedules"] = []
    for schedule in sources["ScheduledEventConfig"]:
        arn = functions[schedule.name]["FunctionArn"]
        (rule_name,) = events.list_rule_names_by_target(TargetArn=arn)["RuleNames"]
        rule = events.describe_rule(Name=rule_name)
        expect(rule["ScheduleExpression"] == schedule.schedule_expression, f"{rule_name}")
        built["schedules"].append(f"{rule['ScheduleExpression']} -> {schedule.name}")
    known = {"DynamoDBEventConfig", "S3EventConfig", "ScheduledEventConfig"}
    expect(set(sources) <= known, f"event sources this check does not know: {set(sources)}")
    return built


def check_websocket_api(
    make: Callable[[str], Any],
    config: dict[str, Any],
    functions: dict[str, dict[str, Any]],
    websocket_functions: dict[str, str],
) -> tuple[str, str]:
    """The stage's WebSocket API: one, a route per handler, each integrated (AWS_PROXY) with its
    own function, which API Gateway may invoke; the stage, on a deployment. Its line and id."""
    from moto.apigatewayv2.models import apigatewayv2_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    v2 = make("apigatewayv2")
    name = f"{config['app_name']}-{STAGE}-websocket-api"
    apis = [a for a in v2.get_apis()["Items"] if a["Name"] == name]
    expect(len(apis) == 1, f"{len(apis)} WebSocket APIs named {name}")
    (api,) = apis
    api_id = api["ApiId"]
    expect(api["ProtocolType"] == "WEBSOCKET", f"{name} is {api['ProtocolType']}")
    expect(api["RouteSelectionExpression"] == "$request.body.action", "route selection")
    region = v2.meta.region_name
    routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=api_id)["Items"]}
    integrations = {i["IntegrationId"]: i for i in v2.get_integrations(ApiId=api_id)["Items"]}
    expect(set(routes) == set(websocket_functions), f"WebSocket routes {sorted(routes)}")
    expect(len(integrations) == len(routes), f"{len(integrations)} integrations for the routes")
    for key, function in websocket_functions.items():
        arn = functions[function]["FunctionArn"]
        target = routes[key].get("Target", "").removeprefix("integrations/")
        integration = integrations.get(target, {})
        expect(integration.get("IntegrationType") == "AWS_PROXY", f"{key}: no Lambda proxy")
        uri = f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"
        expect(integration.get("IntegrationUri") == uri, f"{key} is not integrated with {function}")
        policy = json.loads(make("lambda").get_policy(FunctionName=arn)["Policy"])
        expect(
            any(
                statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
                and f":{api_id}/" in json.dumps(statement.get("Condition", {}))
                for statement in policy["Statement"]
            ),
            f"API Gateway may not invoke {function} from {api_id}",
        )
    stage_name = config["stages"][STAGE]["api_gateway_stage"]
    stages = [s["StageName"] for s in v2.get_stages(ApiId=api_id)["Items"]]
    expect(stages == [stage_name], f"WebSocket API stages {stages}")
    stage = apigatewayv2_backends[DEFAULT_ACCOUNT_ID][region].get_stage(api_id, stage_name)
    deployments = WEBSOCKET_DEPLOYMENTS.get(api_id, [])
    expect(stage.config.get("deploymentId") in deployments, "the stage is on no deployment")
    line = (
        f"{api_id} ({name}): "
        + ", ".join(f"{key} -> {websocket_functions[key]}" for key in sorted(routes))
        + f", stage {stage_name} on deployment {stage.config['deploymentId']}"
    )
    return line, api_id


def check_deleted(make: Callable[[str], Any], app_name: str) -> None:
    """After `chalice delete`: no function, no API, no rule left of the stage."""
    left = [
        f["FunctionName"]
        for f in make("lambda").list_functions()["Functions"]
        if f["FunctionName"].startswith(f"{app_name}-{STAGE}")
    ]
    expect(not left, f"functions left after chalice delete: {left}")
    apis = [a for a in make("apigateway").get_rest_apis()["items"] if a["name"] == app_name]
    expect(not apis, "the REST API is left after chalice delete")
    websocket = [a["Name"] for a in make("apigatewayv2").get_apis()["Items"]]
    expect(not websocket, f"WebSocket APIs left after chalice delete: {websocket}")
    rules = make("events").list_rules()["Rules"]
    expect(not rules, f"rules left after chalice delete: {[r['Name'] for r in rules]}")


# 5. the restore runbook --------------------------------------------------------------------------
def rehearse_restore(make: Callable[[str], Any], table: str, project: Path) -> str:
    """docs/operations.md's restore, as far as moto plays it: PITR into a new table, the
    settings AWS does not copy put back, and a scratch copy of the stage pointed at it."""
    from infra.stage_settings import apply, stage_environment

    dynamodb = make("dynamodb")
    item = {"PK": {"S": "REHEARSAL#restore"}, "SK": {"S": "PROBE"}, "note": {"S": "before"}}
    dynamodb.put_item(TableName=table, Item=item)
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    status = backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    expect(status == "ENABLED", f"PITR is {status}")
    restored = f"{table}-restored"
    dynamodb.restore_table_to_point_in_time(  # runbook step 2
        SourceTableName=table, TargetTableName=restored, UseLatestRestorableTime=True
    )
    got = dynamodb.get_item(TableName=restored, Key={k: item[k] for k in ("PK", "SK")})
    expect(got.get("Item") == item, "the restored table lacks the probe item")
    source = dynamodb.describe_table(TableName=table)["Table"]
    target = dynamodb.describe_table(TableName=restored)["Table"]
    expect(
        {i["IndexName"] for i in target.get("GlobalSecondaryIndexes", [])}
        == {i["IndexName"] for i in source["GlobalSecondaryIndexes"]},
        "the restored table lacks indexes",
    )
    if "LatestStreamArn" not in target:  # runbook step 3 (AWS never copies the stream)
        dynamodb.update_table(
            TableName=restored,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
    dynamodb.update_continuous_backups(
        TableName=restored, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    dynamodb.update_time_to_live(
        TableName=restored, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    stream = dynamodb.describe_table(TableName=restored)["Table"]["LatestStreamArn"]
    # runbook step 4, up to the deploy: the stage's settings and policy name the new table
    outputs = {**_stack_outputs(make), "TableName": restored, "TableStreamArn": stream}
    apply(outputs, STAGE, project)
    environment = stage_environment(STAGE, project)
    expect(environment["TABLE_NAME"] == restored, "the stage still names the old table")
    policy_file = project / ".chalice" / f"policy-{STAGE}.json"
    expect(f"table/{restored}" in policy_file.read_text(), "the policy still names the old table")
    return f"{table} -> {restored} (latest restorable time): items, indexes, stream; stage pointed"


def _stack_outputs(make: Callable[[str], Any]) -> dict[str, str]:
    from infra.stage_settings import stack_outputs

    return stack_outputs(make("cloudformation"), STACK)


# -------------------------------------------------------------------------------------------------
def rehearse() -> list[str]:
    """The whole rehearsal; the report's lines."""
    from devstack.provision import clients, local_environment

    started = time.monotonic()
    report: list[str] = []
    log: list[str] = []
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    DEPLOYED_POLICY.unlink(missing_ok=True)  # only a passing rehearsal leaves one
    moto = start_moto()
    make = clients(moto.url)
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PIP_CONFIG_FILE", "PIP_INDEX_URL"}
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("PIP_")}
    env.update(local_environment(moto.url))
    deploy = ["make", "--no-print-directory", "deploy", f"STAGE={STAGE}"]
    deploy.append(f"STATE_BUCKET={STATE_BUCKET}")
    try:
        with tempfile.TemporaryDirectory(prefix="echomate-rehearsal-") as tmp:
            outputs = provision(make)
            make("s3").create_bucket(Bucket=STATE_BUCKET)  # infra/deploy-role.yaml's, in AWS
            report.append(f"infra stack {STACK}: {len(outputs)} outputs")
            # Before any deploy: once a stream mapping exists, moto tries to run the stream
            # handler (in Docker, absent here) on every write to the table.
            restore = scratch_copy(Path(tmp) / "restore")
            restored = rehearse_restore(make, outputs["TableName"], restore)
            report.append(f"restore runbook: {restored}")
            first = scratch_copy(Path(tmp) / "first")
            took = run(deploy, first, env, log)
            built = check(make, first, outputs)
            report.append(f"first deploy ({took:.0f}s), created:")
            report += [f"  function {line}" for line in built["functions"]]
            report.append(f"  REST API {built['api']}")
            report.append(f"  WebSocket API {built['websocket']}")
            report.append(f"  {built['stage']}")
            report.append(f"  stream mapping {built['stream']}")
            report.append(f"  S3 notification {built['s3']}")
            report += [f"  schedule {line}" for line in built["schedules"]]

            second = scratch_copy(Path(tmp) / "second")  # a new CI runner: only the state bucket
            took = run(deploy, second, env, log)
            again = check(make, second, outputs)
            expect(again["api_id"] == built["api_id"], "the second deploy made another API")
            expect(
                again["websocket_id"] == built["websocket_id"],
                "the second deploy made another WebSocket API",
            )
            expect(again["functions"] == built["functions"], "the second deploy changed functions")
            # the first deploy could not name the WebSocket API it was making; the second does
            expect(again["connections_pinned"], "the policy allows connections of any API")
            DEPLOYED_POLICY.write_text(json.dumps(again["policy"], indent=2), encoding="utf-8")
            report.append(
                f"second deploy ({took:.0f}s): an update of API {again['api_id']} and WebSocket "
                f"API {again['websocket_id']}; the policy now names the WebSocket API"
            )

            chalice = str(Path(sys.executable).parent / "chalice")
            took = run([chalice, "delete", "--stage", STAGE], second, env, log)
            check_deleted(make, "echomate")
            report.append(
                f"chalice delete ({took:.0f}s): no function, REST or WebSocket API, or rule left"
            )
    except Failed:
        (REPORT_DIR / "deploy.log").parent.mkdir(parents=True, exist_ok=True)
        (REPORT_DIR / "deploy.log").write_text("\n".join(log), encoding="utf-8")
        raise
    finally:
        moto.stop()
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "deploy.log").write_text("\n".join(log), encoding="utf-8")
    report.append(f"rehearsal passed in {time.monotonic() - started:.0f}s (log: {REPORT_DIR})")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    try:
        lines = rehearse()
    except Failed as failure:
        print(f"deploy rehearsal FAILED: {failure}", file=sys.stderr)
        return 1
    for line in lines:
        print(f"rehearsal: {line}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
