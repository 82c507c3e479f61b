import os

import boto3
import pytest
from chalice.test import Client

from chalicelib import config
from chalicelib.identity import SigningKeys
from tests import support


@pytest.fixture(autouse=True)
def _aws(moto_aws):
    """Every test of this tier runs on moto in-process."""


@pytest.fixture
def cognito(monkeypatch):
    """The template's user pool on moto, wired into the settings; tokens verify against moto's
    published key (fetched over HTTP on the embedded stack, read from moto's files here)."""
    from moto.utilities.utils import load_resource

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
def user(cognito):
    """A confirmed, signed-in user: their tokens and claims."""
    tokens = support.sign_up(
        cognito["idp"],
        cognito["client_id"],
        "ana@example.com",
        username="ana",
        pool_id=cognito["pool_id"],
    )
    return {**tokens, "claims": support.claims_of(tokens["IdToken"])}


@pytest.fixture
def client():
    import app as application

    with Client(application.app, stage_name="test") as test_client:
        yield test_client
