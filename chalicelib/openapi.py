"""The OpenAPI 3.1 document, generated from the route table and the pydantic models.

``app.py`` describes each route once (``RouteSpec``) when it registers it; this module turns the
list into the document served at ``/openapi.json``. Pure: no I/O, unit-tested. Importing it
loads neither pydantic nor the models (``app.py`` needs ``RouteSpec`` at import time): they are
imported when the document is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

from chalicelib.errors import (
    EchomateError,
    Forbidden,
    Invalid,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMedia,
)
from chalicelib.lazy import ModelRef, resolve

if TYPE_CHECKING:  # pydantic is imported at run time only when the document is built
    from pydantic import BaseModel
    from pydantic.json_schema import JsonSchemaMode

    # One model and the side of it ("validation" or "serialization") whose schema is wanted.
    _SchemaRequest: TypeAlias = tuple[type[BaseModel], JsonSchemaMode]

#: a model, or a reference to one that is imported at its first use (``app.py`` names them so)
Model: TypeAlias = "type[BaseModel] | ModelRef"


class RouteSpec(NamedTuple):
    """What the document says of one route; also what app.py enforces for it."""

    path: str
    method: str
    summary: str
    description: str = ""  # what the operation does, beyond its summary (every route has one)
    tag: str = ""  # its area: one of TAGS
    public: bool = False
    groups: tuple[str, ...] = ()
    # the models as declared (``body``, ``query`` and ``response`` give the classes themselves)
    body_ref: Model | None = None
    query_ref: Model | None = None
    # what a success answers: a model, or several (the answer is one of them: no RootModel, whose
    # import alone builds a validator and loads importlib.metadata, ~25 ms of cold start)
    response_ref: Model | tuple[Model, ...] | None = None
    status: int = 200
    # other successes answered with the same body, and what each means (export: 202 then 200)
    also: tuple[tuple[int, str], ...] = ()
    errors: tuple[type[EchomateError], ...] = ()  # what it may raise besides the implied
    headers: tuple[str, ...] = ()  # request headers it reads (If-Match, ...)
    limit: str | None = None  # the class of abuse limit it counts against (limits.ROUTE_LIMITS)
    counted: bool = True  # whether it counts against the API's limits at all
    body_required: bool = True  # False: an empty body means all defaults
    content_types: tuple[str, ...] = ("application/json",)  # of the body

    @property
    def body(self) -> type[BaseModel] | None:
        """The model that validates the body (imported now if it was only named)."""
        return None if self.body_ref is None else resolve(self.body_ref)

    @property
    def query(self) -> type[BaseModel] | None:
        """The model that validates the query string."""
        return None if self.query_ref is None else resolve(self.query_ref)

    @property
    def response(self) -> type[BaseModel] | tuple[type[BaseModel], ...] | None:
        """What a success answers: a model, or the models it is one of."""
        if isinstance(self.response_ref, tuple):
            return tuple(resolve(model) for model in self.response_ref)
        return None if self.response_ref is None else resolve(self.response_ref)


#: every operation's area, in the order the reference shows them
TAGS: dict[str, str] = {
    "auth": "Accounts and tokens (Cognito): sign-up, confirmation, sign-in with optional TOTP, "
    "refresh, passwords, sign-out, MFA. Public unless marked.",
    "users": "Profiles: the caller's own (`/me`), others' public views, search, handles, "
    "follows, follow requests of private accounts, export and deletion.",
    "safety": "Blocks (both ways: neither sees the other) and mutes (one way, optionally timed).",
    "media": "Image uploads: a presigned POST straight to S3, then `pending` → `ready` "
    "(renditions and blurhash) or `rejected`; alt text and focal point.",
    "posts": "Posts (up to 10 photos, caption, hashtags, mentions), edits and their history, "
    "bookmarks, hashtags and followed hashtags.",
    "feed": "Lists of posts: the home feed, explore, a user's posts, hashtag search.",
    "interactions": "Likes, comments and one level of replies.",
    "activity": "The caller's notifications and their read mark.",
    "moderation": "Reports (posts, comments, users) and the moderators' queue; admins disable "
    "accounts.",
    "push": "Phones registered for push notifications (APNs, FCM through SNS).",
    "meta": "Liveness and this document.",
}

SERVERS: list[dict[str, Any]] = [
    {"url": "http://127.0.0.1:8000", "description": "The embedded stack (`make dev`)"},
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com/api",
        "description": "A deployed stage (`chalice url --stage <stage>` prints it)",
        "variables": {
            "apiId": {
                "default": "abcdef1234",
                "description": "The stage's REST API id (API Gateway)",
            },
            "region": {"default": "us-east-1", "description": "The stage's AWS region"},
        },
    },
]

#: the path parameters, by the name the routes give them (``models.PathParams``: a value outside
#: its alphabet is a 404)
PATH_PARAMETERS: dict[str, tuple[str, dict[str, Any]]] = {
    "username": (
        "A user's handle, in any case.",
        {"type": "string", "pattern": r"^[A-Za-z0-9_.]{1,30}$"},
    ),
    "postId": ("A post's id.", {"type": "string", "pattern": r"^[0-9A-Za-z]{1,64}$"}),
    "mediaId": ("A media item's id.", {"type": "string", "pattern": r"^[0-9A-Za-z]{1,64}$"}),
    "commentId": (
        "A comment's id (a reply's too).",
        {"type": "string", "pattern": r"^[0-9A-Za-z]{1,64}$"},
    ),
    "reportId": (
        "The id of any report of a case (the queue shows the first one's).",
        {"type": "string", "pattern": r"^[0-9A-Za-z]{1,64}$"},
    ),
    "deviceId": (
        "A registered phone's id (`deviceId`).",
        {"type": "string", "pattern": r"^[0-9a-f]{32}$"},
    ),
    "tag": (
        "A hashtag in any spelling: with or without `#` (`%23`), any case, composed or not; "
        "1 to 100 letters, digits and `_` (400 otherwise).",
        {"type": "string", "minLength": 1},
    ),
}

#: request headers a route may read (``RouteSpec.headers``), as reusable parameters
HEADER_PARAMETERS: dict[str, dict[str, Any]] = {
    "Idempotency-Key": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Makes the create safe to retry: the same key with the same body within "
        "24 h answers the first answer again and creates nothing; another body under the key "
        "is a 409 (`reused`). Per user and route (and per post for a comment).",
        "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_.:-]{1,128}$"},
        "example": "3f0c9e52-8a1b-4f63-9d2e-7b5a1c0e4d21",
    },
    "If-Match": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": 'The version the edit is based on (`"3"`, `W/"3"` or `3`; `*` is no '
        "condition): a stale one is a 409 naming `currentVersion`; a list or anything else "
        "is a 400.",
        "schema": {"type": "string"},
        "example": '"3"',
    },
    "If-None-Match": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "The `ETag` of an earlier answer (or `*`): while the answer is unchanged "
        "it is an empty 304.",
        "schema": {"type": "string"},
        "example": 'W/"4c1f0a9b2e7d3c5a8f6b1e0d9c2"',
    },
}

RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "A weak tag of the JSON body; send it back as `If-None-Match`.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "X-RateLimit-Limit": {
        "description": "Requests allowed in the window of the API-wide limit (`api_account` on "
        "private routes, `api_ip` on public ones; on a 429, of the limit hit).",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the window (0 on a 429).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Reset": {
        "description": "When the window ends, in epoch seconds.",
        "schema": {"type": "integer"},
    },
}
_RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

#: JSON Schema keywords pydantic leaves untranslated on a constrained union member
_LEFT_CONSTRAINTS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum"}


def build_document(routes: Iterable[RouteSpec], *, title: str, version: str) -> dict[str, Any]:
    """An OpenAPI 3.1 document describing ``routes``."""
    from pydantic import BaseModel
    from pydantic.json_schema import models_json_schema

    from chalicelib import models
    from chalicelib.models import ErrorOut

    routes = list(routes)
    inputs: list[_SchemaRequest] = [(r.body, "validation") for r in routes if r.body is not None]
    outputs: list[_SchemaRequest] = [
        (model, "serialization")
        for r in routes
        if r.response is not None
        for model in (r.response if isinstance(r.response, tuple) else (r.response,))
    ]
    _, defs = models_json_schema(
        list(dict.fromkeys([*inputs, *outputs, (ErrorOut, "serialization")])),
        by_alias=True,
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = _translated(defs.get("$defs", {}))
    for name, schema in schemas.items():
        model = getattr(models, name, None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            _describe_properties(schema, model)
    paths: dict[str, dict[str, Any]] = {}
    for spec in routes:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    used = {spec.tag for spec in routes}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Echomate's REST API: a photo-sharing backend on AWS Lambda. JSON in "
            "and out, camelCase fields, ISO 8601 UTC timestamps; errors are "
            '`{"Code", "Message", "Details"?}`. Lists are paginated with `?limit=` (1-100, '
            "default 20) and `?cursor=` (the previous page's `nextCursor`). The contract, with "
            "the behaviour behind each route, is docs/api.md.",
        },
        "servers": SERVERS,
        "tags": [{"name": n, "description": d} for n, d in TAGS.items() if n in used],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "parameters": HEADER_PARAMETERS,
            "headers": RESPONSE_HEADERS,
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
        "tags": [spec.tag] if spec.tag else [],
        "summary": spec.summary,
        "description": spec.description,
        "operationId": f"{spec.method.lower()}{_camel_path(spec.path)}",
        "security": [] if spec.public else [{"cognito": []}],
    }
    if spec.groups:
        operation["x-required-groups"] = list(spec.groups)
    parameters: list[dict[str, Any]] = []
    for name in re.findall(r"{(\w+)}", spec.path):
        description, schema = PATH_PARAMETERS.get(name, ("", {"type": "string"}))
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": description,
                "schema": schema,
            }
        )
    if spec.query is not None:
        schema = _translated(spec.query.model_json_schema(by_alias=True))
        _describe_properties(schema, spec.query)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = dict(prop)
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "description": prop.pop("description", ""),
                    "schema": prop,
                }
            )
    headers = [*spec.headers]
    if spec.method == "GET" and spec.response is not None:
        headers.append("If-None-Match")
    parameters += [{"$ref": f"#/components/parameters/{h}"} for h in headers]
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        media: dict[str, Any] = {"schema": _ref(spec.body)}
        extra = spec.body.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        if isinstance(examples, list) and examples:
            media["example"] = examples[0]
        operation["requestBody"] = {
            "required": spec.body_required,
            "description": _first_line(spec.body.__doc__)
            + ("" if spec.body_required else " An empty body takes every default."),
            "content": {content_type: media for content_type in spec.content_types},
        }
    ok: dict[str, Any] = {"description": "success"}
    if spec.response is not None:
        answered = spec.response if isinstance(spec.response, tuple) else (spec.response,)
        refs = [_ref(model) for model in answered]
        ok["content"] = {
            "application/json": {"schema": refs[0] if len(refs) == 1 else {"anyOf": refs}}
        }
    responses: dict[str, Any] = {str(spec.status): ok}
    if spec.method == "GET" and spec.response is not None:
        ok["headers"] = {"ETag": _header("ETag")}
        responses["304"] = {
            "description": "not modified: the ETag sent in If-None-Match is still current",
            "headers": {"ETag": _header("ETag")},
        }
    for status, meaning in spec.also:
        responses[str(status)] = {**ok, "description": meaning}
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
        answer: dict[str, Any] = {
            "description": error.DESCRIPTION,
            "content": {"application/json": {"schema": _ref_to("ErrorOut")}},
        }
        if error is RateLimited:
            answer["headers"] = {"Retry-After": _header("Retry-After")}
        responses[str(error.STATUS_CODE)] = answer
    if spec.counted:  # every answer after the count carries the caller's standing (not a 500)
        for answer in responses.values():
            answer.setdefault("headers", {}).update({h: _header(h) for h in _RATE_HEADERS})
    responses["500"] = {
        "description": "internal error (a bug, or a misconfigured stage): the envelope",
        "content": {"application/json": {"schema": _ref_to("ErrorOut")}},
    }
    operation["responses"] = responses
    return operation


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return _ref_to(model.__name__)


def _ref_to(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _first_line(text: str | None) -> str:
    """A model's docstring as one paragraph of plain text (reST's double backquotes made one)."""
    return " ".join((text or "").split()).replace("``", "`")


def _camel_path(path: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", path.replace("{", "By/"))
    return "".join(w[:1].upper() + w[1:] for w in words)


def _translated(schema: Any) -> Any:
    """``schema`` with pydantic's leftovers made JSON Schema: a ``ge``/``le``/``gt`` it could
    not translate (a bound on a union member, e.g. ``durationSeconds``) becomes ``minimum``...
    (validation enforces them either way); model docstrings lose reST's double backquotes."""
    if isinstance(schema, list):
        return [_translated(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _translated(prop) for name, prop in value.items()}
        elif key == "description" and isinstance(value, str):
            out[key] = value.replace("``", "`")
        elif key in ("examples", "default", "const", "enum"):  # data, not schema
            out[key] = value
        else:
            out[_LEFT_CONSTRAINTS.get(key) or key] = _translated(value)
    return out


def _describe_properties(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Give each property of ``model``'s schema the docstring under its field in
    chalicelib/models.py (a description set with ``Field`` stays)."""
    docs = _field_docs()
    generate = model.model_config.get("alias_generator")
    for name, field_info in model.model_fields.items():
        # (a field whose type was a forward reference has no alias until the model is built)
        alias = field_info.alias or (generate(name) if callable(generate) else name)
        prop = schema.get("properties", {}).get(alias)
        if prop is None or prop.get("description"):
            continue
        for cls in model.__mro__:
            doc = docs.get(cls.__name__, {}).get(name)
            if doc is not None:
                prop["description"] = doc
                break


_FIELD_DOCS: dict[str, dict[str, str]] = {}


def _field_docs() -> dict[str, dict[str, str]]:
    """{class name: {field: the string under it}} of chalicelib/models.py, read once: the
    convention of pydantic's ``use_attribute_docstrings``, read when the document is built
    instead of at import (a cold start does not pay for it)."""
    import ast
    import inspect

    from chalicelib import models

    if not _FIELD_DOCS:
        tree = ast.parse(inspect.getsource(models))
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            fields: dict[str, str] = {}
            for before, after in zip(node.body, node.body[1:], strict=False):
                if (
                    isinstance(before, ast.AnnAssign)
                    and isinstance(before.target, ast.Name)
                    and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)
                ):
                    fields[before.target.id] = inspect.cleandoc(after.value.value)
            _FIELD_DOCS[node.name] = fields
    return _FIELD_DOCS
