"""The OpenAPI 3.1 document, generated from the route table and the pydantic models.

``app.py`` describes each route once (``RouteSpec``) when it registers it; this module turns the
list into the document served at ``/openapi.json``. Pure: no I/O, unit-tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import BaseModel

from chalicelib.errors import (
    EchomateError,
    Forbidden,
    Invalid,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMedia,
)
from chalicelib.models import ErrorOut

if TYPE_CHECKING:  # pydantic.json_schema is imported at run time only when the document is built
    from pydantic.json_schema import JsonSchemaMode

    # One model and the side of it ("validation" or "serialization") whose schema is wanted.
    _SchemaRequest: TypeAlias = tuple[type[BaseModel], JsonSchemaMode]


@dataclass(frozen=True)
class RouteSpec:
    """What the document says of one route; also what app.py enforces for it."""

    path: str
    method: str
    summary: str
    public: bool = False
    groups: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[type[EchomateError], ...] = ()  # what it may raise besides the implied
    headers: tuple[str, ...] = field(default=())  # request headers it reads (If-Match, ...)
    limit: str | None = None  # the class of abuse limit it counts against (config.ROUTE_LIMITS)
    counted: bool = True  # whether it counts against the API's limits at all
    body_required: bool = True  # False: an empty body means all defaults


def build_document(routes: Iterable[RouteSpec], *, title: str, version: str) -> dict[str, Any]:
    """An OpenAPI 3.1 document describing ``routes``."""
    from pydantic.json_schema import models_json_schema  # only when the document is asked for

    routes = list(routes)
    inputs: list[_SchemaRequest] = [(r.body, "validation") for r in routes if r.body is not None]
    outputs: list[_SchemaRequest] = [
        (r.response, "serialization") for r in routes if r.response is not None
    ]
    _, defs = models_json_schema(
        list(dict.fromkeys([*inputs, *outputs, (ErrorOut, "serialization")])),
        by_alias=True,
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for spec in routes:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "cognito": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "A Cognito ID token (a `Bearer ` prefix is accepted).",
                }
            },
        },
    }


def _operation(spec: RouteSpec) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": f"{spec.method.lower()}{_camel_path(spec.path)}",
        "security": [] if spec.public else [{"cognito": []}],
    }
    if spec.groups:
        operation["x-required-groups"] = list(spec.groups)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    if spec.query is not None:
        schema = spec.query.model_json_schema(by_alias=True)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    parameters += [
        {"name": h, "in": "header", "required": False, "schema": {"type": "string"}}
        for h in spec.headers
    ]
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {
            "required": spec.body_required,
            "content": {"application/json": {"schema": _ref(spec.body)}},
        }
    ok: dict[str, Any] = {"description": "success"}
    if spec.response is not None:
        ok["content"] = {"application/json": {"schema": _ref(spec.response)}}
    responses: dict[str, Any] = {str(spec.status): ok}
    if spec.method == "GET" and spec.response is not None:
        responses["304"] = {
            "description": "not modified: the ETag sent in If-None-Match is still current"
        }
    # What any route may answer: a request a service refuses (400), a dependency down (503);
    # with a body, one too large (413) or not JSON (415)
    errors = set(spec.errors) | {Invalid, Unavailable}
    if spec.body is not None:
        errors |= {TooLarge, UnsupportedMedia}
    if not spec.public:
        errors.add(Unauthorized)
    if spec.groups:
        errors.add(Forbidden)
    for error in sorted(errors, key=lambda e: e.STATUS_CODE):
        responses[str(error.STATUS_CODE)] = {
            "description": error.DESCRIPTION,
            "content": {"application/json": {"schema": _ref(ErrorOut)}},
        }
    responses["500"] = {
        "description": "internal error (a bug, or a misconfigured stage): the envelope",
        "content": {"application/json": {"schema": _ref(ErrorOut)}},
    }
    operation["responses"] = responses
    return operation


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _camel_path(path: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", path.replace("{", "By/"))
    return "".join(w[:1].upper() + w[1:] for w in words)
