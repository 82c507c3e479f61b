import pytest
from chalice.test import Client

from chalicelib import config
from tests import support
from tests.factories import confirmed_user, make_user


@pytest.fixture(autouse=True)
def _aws(moto_aws):
    """Every test of this tier runs on moto in-process."""


@pytest.fixture
def user(cognito):
    """A confirmed, signed-in user with a profile (a token is honoured only while its account
    stands): their tokens and claims."""
    tokens = support.sign_up(
        cognito["idp"],
        cognito["client_id"],
        "ana@example.com",
        username="ana",
        pool_id=cognito["pool_id"],
    )
    claims = support.claims_of(tokens["IdToken"])
    make_user("ana", user_id=claims["sub"])
    return {**tokens, "claims": claims}


@pytest.fixture
def client():
    import app as application

    with Client(application.app, stage_name="test") as test_client:
        yield test_client


@pytest.fixture
def ana(client, cognito):
    """A signed-up, confirmed user "ana": her ID token."""
    return confirmed_user(client)["idToken"]


@pytest.fixture
def bob(client, cognito):
    """A signed-up, confirmed user "bob": his ID token."""
    return confirmed_user(client, "bob@example.com", "bob")["idToken"]


@pytest.fixture
def platforms(moto_aws, monkeypatch):
    """SNS platform applications for APNs and FCM on moto, wired into the settings."""
    import boto3

    sns = boto3.client("sns")
    arns = {}
    for platform, name in (("apns", "APNS"), ("fcm", "GCM")):
        arns[platform] = sns.create_platform_application(
            Name=f"echomate-test-{platform}", Platform=name, Attributes={}
        )["PlatformApplicationArn"]
    monkeypatch.setenv("PUSH_APNS_APPLICATION_ARN", arns["apns"])
    monkeypatch.setenv("PUSH_FCM_APPLICATION_ARN", arns["fcm"])
    config.get_settings.cache_clear()
    return arns
