"""Settings for every tier, and a guard: no test may open a connection beyond 127.0.0.1."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from pathlib import Path

import pytest

# Applied before anything imports the app: chalice.test.Client would apply a stage's variables
# only during each call, and the authorizer wiring is decided at import.
TEST_ENV = {
    "ECHOMATE_STAGE": "test",
    "ECHOMATE_DEBUG": "false",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "TABLE_NAME": "echomate-test",
    "MEDIA_BUCKET": "echomate-test-media",
    "COGNITO_USER_POOL_ID": "set-by-the-cognito-fixture",
    "COGNITO_APP_CLIENT_ID": "set-by-the-cognito-fixture",
    "COGNITO_ISSUER": "set-by-the-cognito-fixture",
    "VERIFY_TOKENS_IN_APP": "true",
    "CURSOR_SECRET": "test-cursor-secret-0123456789",
    # generous, so tests of other things never trip them; rate-limit tests set low ones
    "RATE_LIMITS": '{"signup_ip": "1000/60", "login_ip": "1000/60", "login_account": "1000/60",'
    ' "code_ip": "1000/60", "code_account": "1000/60", "forgot_ip": "1000/60",'
    ' "forgot_account": "1000/60", "mfa_ip": "1000/60", "mfa_account": "1000/60",'
    ' "rename_account": "1000/60", "api_account": "10000/60", "api_ip": "10000/60"}',
    "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true",
}
for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "STACK_OUTPUTS_FILE", "AWS_REGION"):
    os.environ.pop(_name, None)
os.environ.update(TEST_ENV)

_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo


def _loopback(host: object) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> object:
    inet = self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
    if inet and not _loopback(address[0]):
        raise ConnectionRefusedError(f"tests may only reach 127.0.0.1, not {address[0]}")
    return _real_connect(self, address)


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    if not _loopback(host):
        raise socket.gaierror(f"tests may only reach 127.0.0.1, not {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def _only_loopback():
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.getaddrinfo = _real_getaddrinfo


#: Every AWS operation the app itself made in this run, as (service, operation), e.g.
#: ("dynamodb", "TransactWriteItems"); tests/infra/test_iam_policy.py checks the policies allow
#: them.
AWS_OPERATIONS: set[tuple[str, str]] = set()
#: Where each pytest process writes what it recorded when it ends (set by `make pytest`).
OPERATIONS_DIR = "ECHOMATE_OPERATIONS_DIR"
_POLICY_TEST = "tests/infra/test_iam_policy.py::"
_STATUSES_TEST = "tests/infra/test_declared_statuses.py::"


def _record_operation(model: object, **_: object) -> None:
    AWS_OPERATIONS.add((model.service_model.service_name, model.name))  # type: ignore[attr-defined]


@pytest.fixture(autouse=True, scope="session")
def _record_aws_operations():
    """Hook every boto3 session the app creates (chalicelib.aws) to record its operations."""
    import functools

    from chalicelib import aws

    original = aws._session

    @functools.cache
    def recording_session() -> object:
        session = original.__wrapped__()
        session.events.register("before-call", _record_operation)
        return session

    aws._session = recording_session
    yield
    aws._session = original
    if where := os.environ.get(OPERATIONS_DIR):
        # under pytest-xdist each worker records its own share: the policy test, run after
        # the workers (make pytest), reads the union from this directory
        folder = Path(where)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{os.getpid()}.json").write_text(json.dumps(sorted(AWS_OPERATIONS)))


ROUTE_STATUSES: set[tuple[str, str, int]] = set()


@pytest.fixture(autouse=True, scope="session")
def _record_route_statuses():
    """Every (method, route, status) the app's routes answer in this process (the api tier),
    for tests/infra/test_declared_statuses.py."""
    import app as application

    def observe(method: str, path: str, status: int) -> None:
        ROUTE_STATUSES.add((method, path, status))

    application.ANSWER_OBSERVERS.append(observe)
    yield
    application.ANSWER_OBSERVERS.remove(observe)
    if where := os.environ.get(OPERATIONS_DIR):
        folder = Path(where)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{os.getpid()}.statuses").write_text(json.dumps(sorted(ROUTE_STATUSES)))


def recorded_statuses() -> set[tuple[str, str, int]]:
    """This process's route answers and those other pytest processes left in OPERATIONS_DIR."""
    statuses = set(ROUTE_STATUSES)
    if where := os.environ.get(OPERATIONS_DIR):
        for path in Path(where).glob("*.statuses"):
            statuses |= {(m, p, s) for m, p, s in json.loads(path.read_text())}
    return statuses


def recorded_operations() -> set[tuple[str, str]]:
    """This process's AWS operations and those other pytest processes left in OPERATIONS_DIR."""
    operations = set(AWS_OPERATIONS)
    if where := os.environ.get(OPERATIONS_DIR):
        for path in Path(where).glob("*.json"):
            operations |= {(service, name) for service, name in json.loads(path.read_text())}
    return operations


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The IAM policy and declared-status tests run last, when every other test has made its
    AWS calls and its requests."""
    items.sort(key=lambda item: item.nodeid.startswith((_POLICY_TEST, _STATUSES_TEST)))


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Every test starts from the test settings, with nothing cached from the one before."""
    from chalicelib import accounts, aws, config, db
    from chalicelib.identity import signing_keys

    accounts.forget_all()  # ids repeat across tests; each test has a fresh table
    yield
    os.environ.update(TEST_ENV)
    config.get_settings.cache_clear()
    aws.reset()
    db.reset()
    signing_keys.cache_clear()


@pytest.fixture
def moto_aws():
    """moto in-process, with the single table created from infra/template.yaml."""
    import boto3
    from moto import mock_aws

    from tests.support import create_table

    with mock_aws():
        create_table(boto3.client("dynamodb"), TEST_ENV["TABLE_NAME"])
        boto3.client("s3").create_bucket(Bucket=TEST_ENV["MEDIA_BUCKET"])
        yield


@pytest.fixture
def store(moto_aws):
    """The app's table access object, on moto."""
    from chalicelib.db import get_store

    return get_store()


@pytest.fixture
def dynamodb_calls(moto_aws):
    """The DynamoDB operations the app sends, in order (a botocore event hook)."""
    from chalicelib import aws, db

    calls: list[str] = []
    aws.reset()
    db.reset()
    aws._session().events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    return calls


@pytest.fixture
def cognito(monkeypatch):
    """The template's user pool on moto, wired into the settings; tokens verify against moto's
    published key (fetched over HTTP on the embedded stack, read from moto's files here)."""
    import boto3
    from moto.utilities.utils import load_resource

    from chalicelib import config
    from chalicelib.identity import SigningKeys
    from tests import support

    idp = boto3.client("cognito-idp")
    ids = support.create_user_pool(idp)
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{ids['UserPoolId']}"
    monkeypatch.setitem(os.environ, "COGNITO_USER_POOL_ID", ids["UserPoolId"])
    monkeypatch.setitem(os.environ, "COGNITO_APP_CLIENT_ID", ids["UserPoolClientId"])
    monkeypatch.setitem(os.environ, "COGNITO_ISSUER", issuer)
    config.get_settings.cache_clear()
    jwks = load_resource("cognitoidp/resources/jwks-public.json")
    monkeypatch.setattr(SigningKeys, "_fetch", lambda self: SigningKeys.parse(jwks))
    return {
        "idp": idp,
        "pool_id": ids["UserPoolId"],
        "client_id": ids["UserPoolClientId"],
        "issuer": issuer,
    }


@pytest.fixture
def stream(moto_aws):
    """The table's stream, delivered on demand to chalicelib.events (``stream.pump()``)."""
    from tests.support import StreamPump

    return StreamPump(TEST_ENV["TABLE_NAME"])
