"""Health, the OpenAPI document, and how every route answers bad input and failures."""

import json

import pytest
from pydantic import Field

import app as application
from chalicelib.errors import RateLimited
from chalicelib.models import ApiModel
from tests.factories import make_user


class _Echo(ApiModel):
    caption: str = Field(max_length=5)
    count: int = 1


@pytest.fixture
def test_routes():
    """Routes that exist only during a test, registered the way app.py registers its own."""
    added = []

    def add(path, method, **spec):
        def register(view):
            application.route(path, method, summary="test route", **spec)(view)
            added.append(path)
            return view

        return register

    @add("/test/echo", "POST", body=_Echo)
    def test_echo(caller, body):
        return {"caption": body.caption, "count": body.count}

    @add("/test/boom", "GET", public=True)
    def test_boom():
        raise RuntimeError("secret internals")

    @add("/test/busy", "GET", public=True)
    def test_busy():
        raise RateLimited("slow down", 7)

    @add("/test/admins", "GET", groups=("admins",))
    def test_admins(caller):
        return {"ok": True}

    yield
    for path in added:
        del application.app.routes[path]
    application.ROUTES[:] = [r for r in application.ROUTES if r.path not in added]


def _post(client, path, body, token, raw=None):
    headers = {"Authorization": token, "Content-Type": "application/json"}
    return client.http.post(
        path, headers=headers, body=raw if raw is not None else json.dumps(body)
    )


def test_health_is_public(client):
    response = client.http.get("/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok", "version": application.__version__}


def test_openapi_document_lists_the_routes(client):
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json_body
    assert document["openapi"] == "3.1.0"
    assert {"/health", "/openapi.json", "/auth/session"} <= set(document["paths"])


def test_valid_body_reaches_the_view(client, user, test_routes):
    response = _post(client, "/test/echo", {"caption": "hi", "count": 3}, user["IdToken"])
    assert response.status_code == 200
    assert response.json_body == {"caption": "hi", "count": 3}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "body: malformed JSON"),
        ("", "body: a JSON object is required"),
        ("[1, 2]", "body: a JSON object is required"),
        ('{"caption": "far too long"}', "caption: String should have at most 5 characters"),
        ('{"caption": "ok", "count": "many"}', "count:"),
        ('{"caption": "ok", "extra": 1}', "extra: Extra inputs are not permitted"),
        ('{"count": 2}', "caption: Field required"),
    ],
)
def test_bad_body_is_a_400_naming_the_field(client, user, test_routes, raw, message):
    response = _post(client, "/test/echo", None, user["IdToken"], raw=raw)
    assert response.status_code == 400
    assert response.json_body["Code"] == "BadRequestError"
    assert response.json_body["Message"].startswith(message)


def test_validation_details_are_machine_readable(client, user, test_routes):
    response = _post(
        client, "/test/echo", {"caption": "far too long", "count": "x"}, user["IdToken"]
    )
    fields = [d["field"] for d in response.json_body["Details"]]
    assert fields == ["caption", "count"]


def test_auth_is_checked_before_the_body(client, cognito, test_routes):
    response = _post(client, "/test/echo", None, "garbage", raw="{not json")
    assert response.status_code == 401


def test_unexpected_error_is_a_500_without_internals(client, test_routes):
    response = client.http.get("/test/boom")
    assert response.status_code == 500
    assert response.json_body == {"Code": "InternalServerError", "Message": "internal error"}
    assert "secret internals" not in response.body.decode()
    assert "Traceback" not in response.body.decode()


def test_rate_limit_carries_retry_after(client, test_routes):
    response = client.http.get("/test/busy")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json_body["Code"] == "TooManyRequestsError"


def test_group_route_refuses_other_users(client, user, test_routes):
    response = client.http.get("/test/admins", headers={"Authorization": user["IdToken"]})
    assert response.status_code == 403
    assert response.json_body["Code"] == "ForbiddenError"


def test_group_route_admits_members(client, cognito, test_routes):
    from tests import support

    tokens = support.sign_up(
        cognito["idp"],
        cognito["client_id"],
        "root@example.com",
        groups=("admins",),
        pool_id=cognito["pool_id"],
    )
    make_user("root", user_id=support.claims_of(tokens["IdToken"])["sub"])
    response = client.http.get("/test/admins", headers={"Authorization": tokens["IdToken"]})
    assert response.status_code == 200


def test_misconfigured_stage_fails_closed(client, monkeypatch):
    from chalicelib import config

    monkeypatch.delenv("TABLE_NAME")
    config.get_settings.cache_clear()
    response = client.http.get("/health")
    assert response.status_code == 500
    assert response.json_body["Message"] == "the service is misconfigured"
