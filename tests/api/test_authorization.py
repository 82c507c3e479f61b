"""Every private route refuses a missing or forged token; every group route refuses others.

Ownership ("a user who doesn't own the thing") is tested with each route's own feature.
"""

import re

import pytest

import app as application
from tests import support

PRIVATE = [r for r in application.ROUTES if not r.public]
RESTRICTED = [r for r in PRIVATE if r.groups]


def _call(client, spec, token=None):
    path = re.sub(r"{\w+}", "someone", spec.path)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = token
    body = "{}" if spec.method in ("POST", "PUT", "PATCH", "DELETE") else None
    return client.http.request(spec.method, path, headers=headers, body=body or b"")


def _ids(routes):
    return [f"{r.method} {r.path}" for r in routes]


def test_the_contract_routes_are_private():
    private = {(r.method, r.path) for r in PRIVATE}
    for route in [
        ("GET", "/me"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/change-password"),
        ("POST", "/auth/mfa/setup"),
        ("POST", "/auth/mfa/verify"),
        ("DELETE", "/auth/mfa"),
        ("POST", "/admin/users/{username}/disable"),
    ]:
        assert route in private


@pytest.mark.parametrize("spec", PRIVATE, ids=_ids(PRIVATE))
def test_private_route_without_a_token_is_401(client, cognito, spec):
    response = _call(client, spec)
    assert response.status_code == 401
    assert response.json_body["Code"] == "UnauthorizedError"


@pytest.mark.parametrize("spec", PRIVATE, ids=_ids(PRIVATE))
def test_private_route_with_a_forged_token_is_401(client, user, spec):
    forged = support.unsigned_token(user["claims"] | {"cognito:groups": ["admins"]})
    assert _call(client, spec, forged).status_code == 401
    expired = support.signed_token(support.expired_claims(user["claims"]))
    assert _call(client, spec, expired).status_code == 401


@pytest.mark.parametrize("spec", RESTRICTED, ids=_ids(RESTRICTED))
def test_group_route_refuses_a_user_outside_the_group(client, user, spec):
    response = _call(client, spec, user["IdToken"])
    assert response.status_code == 403
    assert response.json_body["Code"] == "ForbiddenError"
