"""Helpers shared by the test tiers: AWS resources from infra/template.yaml, tokens, requests and
what the table and the pool hold. Test data (users, media, photos) is in tests/factories.py."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from devstack import template
from devstack.provision import ACCOUNT_ID, REGION, create_cognito

_TABLE_PARAMS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
)

#: The password of every test account.
PASSWORD = "Correct-Horse-9"


def create_table(dynamodb: Any, name: str) -> None:
    """The single table, with the key schema and indexes of infra/template.yaml."""
    properties = template.load()["Resources"]["Table"]["Properties"]
    params = {k: properties[k] for k in _TABLE_PARAMS}
    params["StreamSpecification"] = {"StreamEnabled": True, **params["StreamSpecification"]}
    dynamodb.create_table(TableName=name, **params)


def create_user_pool(idp: Any, stage: str = "test") -> dict[str, str]:
    """The pool, app client and groups of infra/template.yaml; returns their ids."""
    resources = template.load()["Resources"]
    refs = {"Stage": stage, "AWS::AccountId": ACCOUNT_ID, "AWS::Region": REGION}
    return create_cognito(idp, resources, refs, {"IsProd": False})


def sign_up(
    idp: Any,
    client_id: str,
    email: str,
    password: str = PASSWORD,
    username: str | None = None,
    groups: tuple[str, ...] = (),
    pool_id: str | None = None,
) -> dict[str, str]:
    """A confirmed user, signed in: their tokens."""
    idp.sign_up(
        ClientId=client_id,
        Username=email,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    pool_id = pool_id or _pool_of(idp, client_id)
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
    if username:  # set by the backend, never by the client (see the app client's attributes)
        idp.admin_update_user_attributes(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=[{"Name": "preferred_username", "Value": username}],
        )
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    answer = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return answer["AuthenticationResult"]


def _pool_of(idp: Any, client_id: str) -> str:
    for pool in idp.list_user_pools(MaxResults=60)["UserPools"]:
        clients = idp.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)
        if any(c["ClientId"] == client_id for c in clients["UserPoolClients"]):
            return pool["Id"]
    raise LookupError(client_id)


def claims_of(token: str) -> dict[str, Any]:
    """The unverified payload of a JWT."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(claims: dict[str, Any]) -> str:
    """An ``alg: none`` token carrying ``claims``."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def moto_private_key() -> Any:
    """moto's bundled Cognito signing key (kid ``dummy``), to forge otherwise-valid tokens."""
    import jwt
    from moto.utilities.utils import load_resource

    jwk = load_resource("cognitoidp/resources/jwks-private.json")
    return jwt.PyJWK.from_dict(jwk).key


def signed_token(
    claims: dict[str, Any], key: Any | None = None, kid: str = "dummy", algorithm: str = "RS256"
) -> str:
    """A token signed with ``key`` (moto's own by default)."""
    import jwt

    return jwt.encode(
        claims,
        key if key is not None else moto_private_key(),
        algorithm=algorithm,
        headers={"kid": kid},
    )


def tampered(token: str, **changes: Any) -> str:
    """``token`` with its payload changed and the original signature kept."""
    header, _, signature = token.split(".")
    claims = claims_of(token) | changes
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def expired_claims(claims: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return claims | {"iat": now - 7200, "exp": now - 3600, "auth_time": now - 7200}


def totp(secret: str) -> Any:
    """An authenticator for ``secret``. moto's fixed secret is 60 bits (Cognito's are 256), below
    pyotp's 112-bit floor, so that floor is lowered for tests only."""
    import pyotp

    class _Totp(pyotp.TOTP):
        min_secret_length_bits = 32

    return _Totp(secret)


class StreamPump:
    """Delivers the table's stream records (moto in-process) to the app's dispatcher, as the
    Lambda event-source mapping does; ``pump()`` runs until the stream is quiet."""

    def __init__(self, table_name: str) -> None:
        import boto3
        from botocore.config import Config

        self._streams = boto3.client(
            "dynamodbstreams", config=Config(account_id_endpoint_mode="disabled")
        )
        description = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]
        self._arn = description["LatestStreamArn"]
        self._positions: dict[str, str] = {}

    def _read(self) -> list[Any]:
        from types import SimpleNamespace

        records = []
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._positions:
                iterator = self._streams.get_shard_iterator(
                    StreamArn=self._arn,
                    ShardId=shard_id,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=self._positions[shard_id],
                )["ShardIterator"]
            else:
                iterator = self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            got = self._streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
            if got:
                self._positions[shard_id] = got[-1]["dynamodb"]["SequenceNumber"]
            records += [
                SimpleNamespace(
                    event_name=r["eventName"],
                    new_image=r["dynamodb"].get("NewImage"),
                    old_image=r["dynamodb"].get("OldImage"),
                )
                for r in got
            ]
        return records

    def pump(self, rounds: int = 20) -> int:
        from chalicelib import events

        delivered = 0
        for _ in range(rounds):
            records = self._read()
            if not records:
                return delivered
            events.dispatch(records, seconds=60)
            delivered += len(records)
        return delivered


def call(
    client: Any,
    method: str,
    path: str,
    token: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """A JSON request through ``chalice.test.Client`` with the caller's token."""
    all_headers = {"Authorization": token, "Content-Type": "application/json", **(headers or {})}
    data = json.dumps(body) if body is not None else ""
    return client.http.request(method, path, headers=all_headers, body=data)


def post(client: Any, path: str, body: Any = None, token: str | None = None, method: str = "POST"):
    """A JSON request through ``chalice.test.Client``, with a token if one is given."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    return getattr(client.http, method.lower())(
        path, headers=headers, body=json.dumps(body) if body is not None else ""
    )


def table_items() -> list[dict[str, Any]]:
    """Every item of the table but the rate-limit counters."""
    import os

    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    return [i for i in table.scan()["Items"] if not i["PK"].startswith("RATE#")]


KEY_ATTRIBUTES = ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK")


def items_mentioning(user_id: str, handle: str | None = None) -> list[dict[str, Any]]:
    """Items whose keys (table or index) name ``user_id`` (or ``#<handle>``): what an account
    deletion must leave none of."""
    names = [user_id] + ([f"#{handle}"] if handle else [])
    return [
        i
        for i in table_items()
        if any(n in str(i.get(a, "")) for a in KEY_ATTRIBUTES for n in names)
    ]


def pool_users(cognito: dict[str, Any]) -> list[dict[str, Any]]:
    """The accounts in the ``cognito`` fixture's user pool."""
    return cognito["idp"].list_users(UserPoolId=cognito["pool_id"])["Users"]


def set_limits(monkeypatch: Any, **limits: str) -> None:
    """Rate limits for this test only, e.g. ``set_limits(monkeypatch, login_ip="2/60")``."""
    from chalicelib import config

    monkeypatch.setenv("RATE_LIMITS", json.dumps(limits))
    config.get_settings.cache_clear()


def deployed_rest_api(apigateway: Any, stage: str = "api") -> str:
    """A REST API with one GET method and a deployed ``stage``, as chalice leaves one: its id."""
    rest_api_id = apigateway.create_rest_api(name="echomate")["id"]
    root = apigateway.get_resources(restApiId=rest_api_id)["items"][0]["id"]
    apigateway.put_method(
        restApiId=rest_api_id, resourceId=root, httpMethod="GET", authorizationType="NONE"
    )
    apigateway.put_integration(
        restApiId=rest_api_id, resourceId=root, httpMethod="GET", type="MOCK"
    )
    apigateway.create_deployment(restApiId=rest_api_id, stageName=stage)
    return str(rest_api_id)
