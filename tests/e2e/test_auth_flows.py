"""Account flows over real HTTP on the embedded stack (moto server Cognito, real TOTP)."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3

from tests import support
from tests.e2e.stack import ROOT, call
from tests.factories import sign_up_and_log_in
from tests.support import PASSWORD


def test_sign_up_to_logout(stack):
    api = stack.api
    tokens = sign_up_and_log_in(stack, "flow@example.com", "flow")
    status, me = call(f"{api}/me", token=tokens["idToken"])
    assert status == 200 and me["username"] == "flow" and me["email"] == "flow@example.com"
    status, fresh = call(
        f"{api}/auth/refresh", "POST", body={"refreshToken": tokens["refreshToken"]}
    )
    assert status == 200 and "refreshToken" not in fresh
    assert call(f"{api}/me", token=fresh["idToken"])[0] == 200
    assert (
        call(
            f"{api}/auth/logout",
            "POST",
            token=tokens["idToken"],
            body={"accessToken": tokens["accessToken"]},
        )[0]
        == 204
    )
    status, error = call(
        f"{api}/auth/refresh", "POST", body={"refreshToken": tokens["refreshToken"]}
    )
    assert status == 401 and error["Code"] == "UnauthorizedError"


def test_mfa_challenge_with_real_totp_codes(stack):
    api = stack.api
    tokens = sign_up_and_log_in(stack, "mfa@example.com", "mfa_user")
    status, setup = call(
        f"{api}/auth/mfa/setup",
        "POST",
        token=tokens["idToken"],
        body={"accessToken": tokens["accessToken"]},
    )
    assert status == 200
    totp = support.totp(setup["secret"])
    wrong = str((int(totp.now()) + 1) % 1_000_000).zfill(6)
    assert (
        call(
            f"{api}/auth/mfa/verify",
            "POST",
            token=tokens["idToken"],
            body={"accessToken": tokens["accessToken"], "code": wrong},
        )[0]
        == 400
    )
    assert (
        call(
            f"{api}/auth/mfa/verify",
            "POST",
            token=tokens["idToken"],
            body={"accessToken": tokens["accessToken"], "code": totp.now()},
        )[0]
        == 200
    )
    status, challenge = call(
        f"{api}/auth/login", "POST", body={"email": "mfa@example.com", "password": PASSWORD}
    )
    assert status == 200 and challenge["challenge"] == "SOFTWARE_TOKEN_MFA"
    answer = {"email": "mfa@example.com", "session": challenge["session"], "code": wrong}
    assert call(f"{api}/auth/mfa/challenge", "POST", body=answer)[0] == 401
    answer["code"] = totp.now()
    status, signed_in = call(f"{api}/auth/mfa/challenge", "POST", body=answer)
    assert status == 200 and call(f"{api}/me", token=signed_in["idToken"])[0] == 200


def test_concurrent_sign_ups_for_one_handle(stack):
    def attempt(i):
        body = {
            "email": f"racer{i}@example.com",
            "password": PASSWORD,
            "username": "Racer",
            "name": f"Racer {i}",
        }
        return call(f"{stack.api}/auth/signup", "POST", body=body)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409, 409, 409, 409, 409]
    winner = next(body for status, body in results if status == 201)

    settings = stack.settings()
    idp = boto3.client("cognito-idp", endpoint_url=stack.moto, region_name="us-east-1")
    racers = [
        u
        for u in idp.list_users(UserPoolId=settings["COGNITO_USER_POOL_ID"])["Users"]
        if any(a["Value"].startswith("racer") for a in u["Attributes"])
    ]
    assert len(racers) == 1
    assert {"Name": "sub", "Value": winner["userId"]} in racers[0]["Attributes"]
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.moto, region_name="us-east-1")
    handle = dynamodb.get_item(
        TableName=settings["TABLE_NAME"], Key={"PK": {"S": "HANDLE#racer"}, "SK": {"S": "HANDLE"}}
    )["Item"]
    assert handle["userId"]["S"] == winner["userId"] and handle["status"]["S"] == "active"
    profile = dynamodb.get_item(
        TableName=settings["TABLE_NAME"],
        Key={"PK": {"S": f"USER#{winner['userId']}"}, "SK": {"S": "PROFILE"}},
    )
    assert "Item" in profile


def test_make_grant_then_an_admin_disables_an_account(stack):
    api = stack.api
    sign_up_and_log_in(stack, "boss@example.com", "boss")
    victim = sign_up_and_log_in(stack, "victim@example.com", "victim")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack.grant",
            "boss",
            "admins",
            "--state-dir",
            str(stack.outputs_file.parent),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "boss (boss@example.com) is now in admins" in done.stdout
    _, admin = call(
        f"{api}/auth/login", "POST", body={"email": "boss@example.com", "password": PASSWORD}
    )
    status, session = call(f"{api}/auth/session", token=admin["idToken"])
    assert session["groups"] == ["admins"]
    status, body = call(f"{api}/admin/users/victim/disable", "POST", token=admin["idToken"])
    assert status == 200 and body["disabled"] is True
    assert (
        call(
            f"{api}/auth/login", "POST", body={"email": "victim@example.com", "password": PASSWORD}
        )[0]
        == 401
    )
    assert (
        call(f"{api}/auth/refresh", "POST", body={"refreshToken": victim["refreshToken"]})[0] == 401
    )
