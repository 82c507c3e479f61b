from openapi_spec_validator import validate

import app as application
from chalicelib.models import HealthOut, SessionOut
from chalicelib.openapi import RouteSpec, build_document


def _document(*routes):
    return build_document(routes, title="t", version="1")


def test_document_is_valid_openapi_31():
    document = build_document(application.ROUTES, title="Echomate API", version="1")
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_registered_route_is_documented():
    document = build_document(application.ROUTES, title="Echomate API", version="1")
    registered = {
        (path, method.lower())
        for path, methods in application.app.routes.items()
        for method in methods
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert registered == documented


def test_private_route_requires_the_token_and_lists_401():
    document = _document(RouteSpec("/me", "GET", "me", response=SessionOut))
    operation = document["paths"]["/me"]["get"]
    assert operation["security"] == [{"cognito": []}]
    assert {"200", "401"} <= set(operation["responses"])
    assert "403" not in operation["responses"]


def test_public_route_has_no_security():
    document = _document(RouteSpec("/health", "GET", "health", public=True, response=HealthOut))
    assert document["paths"]["/health"]["get"]["security"] == []
    assert "401" not in document["paths"]["/health"]["get"]["responses"]


def test_group_route_lists_403_and_groups():
    document = _document(RouteSpec("/admin/x", "POST", "x", groups=("admins",), status=202))
    operation = document["paths"]["/admin/x"]["post"]
    assert operation["x-required-groups"] == ["admins"]
    assert {"202", "401", "403"} <= set(operation["responses"])


def test_path_parameters_and_schemas_are_generated():
    document = _document(
        RouteSpec("/users/{username}", "GET", "u", body=HealthOut, response=SessionOut)
    )
    operation = document["paths"]["/users/{username}"]["get"]
    assert operation["parameters"][0] == {
        "name": "username",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    schemas = document["components"]["schemas"]
    assert "userId" in schemas["SessionOut"]["properties"]  # camelCase on the wire
    assert {"HealthOut", "SessionOut", "ErrorOut"} <= set(schemas)
