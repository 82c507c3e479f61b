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
    document = _document(RouteSpec("/me", "GET", "me", response_ref=SessionOut))
    operation = document["paths"]["/me"]["get"]
    assert operation["security"] == [{"cognito": []}]
    assert {"200", "401"} <= set(operation["responses"])
    assert "403" not in operation["responses"]


def test_public_route_has_no_security():
    document = _document(RouteSpec("/health", "GET", "health", public=True, response_ref=HealthOut))
    assert document["paths"]["/health"]["get"]["security"] == []
    assert "401" not in document["paths"]["/health"]["get"]["responses"]


def test_group_route_lists_403_and_groups():
    document = _document(RouteSpec("/admin/x", "POST", "x", groups=("admins",), status=202))
    operation = document["paths"]["/admin/x"]["post"]
    assert operation["x-required-groups"] == ["admins"]
    assert {"202", "401", "403"} <= set(operation["responses"])


def test_path_parameters_and_schemas_are_generated():
    document = _document(
        RouteSpec("/users/{username}", "GET", "u", body_ref=HealthOut, response_ref=SessionOut)
    )
    operation = document["paths"]["/users/{username}"]["get"]
    parameter = operation["parameters"][0]
    assert {k: parameter[k] for k in ("name", "in", "required")} == {
        "name": "username",
        "in": "path",
        "required": True,
    }
    assert parameter["description"] and parameter["schema"]["type"] == "string"
    schemas = document["components"]["schemas"]
    assert "userId" in schemas["SessionOut"]["properties"]  # camelCase on the wire
    assert {"HealthOut", "SessionOut", "ErrorOut"} <= set(schemas)


def _properties(schema, where):
    """(path, property schema) of every property in ``schema``, nested ones included."""
    if isinstance(schema, dict):
        for name, prop in (schema.get("properties") or {}).items():
            yield f"{where}.{name}", prop
            yield from _properties(prop, f"{where}.{name}")
        for key, value in schema.items():
            if key not in ("properties", "examples", "default"):
                yield from _properties(value, where)
    elif isinstance(schema, list):
        for item in schema:
            yield from _properties(item, where)


def _operations(document):
    return [
        (f"{method.upper()} {path}", operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_operation_has_a_description_and_one_declared_tag():
    document = build_document(application.ROUTES, title="Echomate API", version="1")
    declared = {tag["name"] for tag in document["tags"]}
    assert all(tag.get("description") for tag in document["tags"])
    bare = [name for name, op in _operations(document) if not op.get("description")]
    untagged = [
        name
        for name, op in _operations(document)
        if len(op.get("tags", [])) != 1 or op["tags"][0] not in declared
    ]
    assert bare == [] and untagged == []


def test_every_schema_property_and_parameter_has_a_description():
    document = build_document(application.ROUTES, title="Echomate API", version="1")
    undescribed = [
        path
        for name, schema in document["components"]["schemas"].items()
        for path, prop in _properties(schema, name)
        if not prop.get("description")
    ]
    assert undescribed == []
    parameters = [
        (name, parameter.get("name"))
        for name, op in _operations(document)
        for parameter in op.get("parameters", [])
        if "$ref" not in parameter and not parameter.get("description")
    ]
    assert parameters == []
    assert all(p["description"] for p in document["components"]["parameters"].values())
    assert all(h["description"] for h in document["components"]["headers"].values())


def test_every_request_body_has_an_example_its_model_accepts():
    document = build_document(application.ROUTES, title="Echomate API", version="1")
    missing = []
    for spec in application.ROUTES:
        if spec.body is None:
            continue
        body = document["paths"][spec.path][spec.method.lower()]["requestBody"]
        for media in body["content"].values():
            if "example" not in media:
                missing.append(f"{spec.method} {spec.path}")
                continue
            spec.body.model_validate(media["example"])  # realistic: the route would take it
    assert missing == []


def test_servers_formats_and_headers_are_declared():
    document = build_document(application.ROUTES, title="Echomate API", version="1")
    assert [s["url"] for s in document["servers"]] == [
        "http://127.0.0.1:8000",
        "https://{apiId}.execute-api.{region}.amazonaws.com/api",
    ]
    schemas = document["components"]["schemas"]
    assert schemas["PostOut"]["properties"]["createdAt"]["format"] == "date-time"
    assert schemas["Renditions"]["properties"]["thumb"]["format"] == "uri"
    posts = document["paths"]["/posts"]["post"]
    assert {"$ref": "#/components/parameters/Idempotency-Key"} in posts["parameters"]
    assert "Retry-After" in posts["responses"]["429"]["headers"]
    assert "X-RateLimit-Remaining" in posts["responses"]["201"]["headers"]
    feed = document["paths"]["/feed"]["get"]
    assert {"$ref": "#/components/parameters/If-None-Match"} in feed["parameters"]
    assert "ETag" in feed["responses"]["200"]["headers"]
    patch_me = document["paths"]["/me"]["patch"]["requestBody"]["content"]
    assert set(patch_me) == {"application/json", "application/merge-patch+json"}
    assert "X-RateLimit-Limit" not in document["paths"]["/health"]["get"]["responses"]["200"].get(
        "headers", {}
    )
