"""Echomate's API: routes, the authorizer, and the one place domain errors become HTTP.

Each view parses nothing itself and calls one chalicelib function. ``route`` registers a view with
Chalice and describes it for the OpenAPI document; its wrapper identifies the caller, checks the
route's groups, validates the body and query with the route's pydantic models and maps domain
errors to Chalice's ``{"Code", "Message"}`` envelope. Nothing here creates a boto3 client or
imports Pillow at import time.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Chalice, CognitoUserPoolAuthorizer, CORSConfig, Response
from chalice.app import CloudWatchEvent, DynamoDBEvent, S3Event, WebsocketEvent

from chalicelib import __version__, config, identity, lazy, logs, openapi
from chalicelib.config import SettingsError, startup_value
from chalicelib.errors import (
    Conflict,
    EchomateError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    UnsupportedMedia,
)
from chalicelib.limits import ROUTE_LIMITS
from chalicelib.openapi import Model, RouteSpec  # (light: pydantic only when building)

# Cold start: importing this module loads chalice and the light modules above, not pydantic, the
# models or the domain modules. Those are named here and imported at their first use (a route's
# first call imports what it needs), except for type checkers, which see the real thing.
#: the chalicelib modules the views call, each bound here to a ``lazy.LazyModule``
LAZY_MODULES = (
    "activity",
    "auth",
    "aws",
    "db",
    "events",
    "feed",
    "follows",
    "interactions",
    "jobs",
    "media",
    "models",
    "moderation",
    "posts",
    "push",
    "ratelimit",
    "realtime",
    "relations",
    "reports",
    "safety",
    "sessions",
    "tags",
    "users",
)
if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib import (  # the same names as LAZY_MODULES (tests/unit/test_lazy.py)
        activity,
        auth,
        aws,
        db,
        events,
        feed,
        follows,
        interactions,
        jobs,
        media,
        models,
        moderation,
        posts,
        push,
        ratelimit,
        realtime,
        relations,
        reports,
        safety,
        sessions,
        tags,
        users,
    )

    lazy_models = models
else:
    globals().update(lazy.modules("chalicelib", LAZY_MODULES))
    # the models a route declares, imported at its first call
    lazy_models = lazy.ModelRefs("chalicelib.models")

app = Chalice(app_name="echomate", configure_logs=False)
# chalice 1.34 still flags WebSocket APIs experimental: deploy and local refuse them unopted
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.debug = startup_value("ECHOMATE_DEBUG") == "true"  # validated with the rest on first use
logs.configure(startup_value("LOG_LEVEL", "INFO"))
app.api.cors = CORSConfig(
    allow_origin=startup_value("CORS_ALLOW_ORIGIN", "*"),
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match"],
    expose_headers=[
        "Retry-After",
        "ETag",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    ],
    max_age=600,
)

# Where API Gateway verifies tokens (the cloud), private routes carry the Cognito authorizer.
# Where nothing does (chalice local, chalice.test.Client), the app verifies them itself: chalice
# local's stand-in for the authorizer only base64-decodes the token and crashes on garbage.
if startup_value("VERIFY_TOKENS_IN_APP") == "true":
    AUTHORIZER = None
else:
    AUTHORIZER = CognitoUserPoolAuthorizer(
        "EchomateUserPool", provider_arns=[startup_value("COGNITO_USER_POOL_ARN")]
    )

ROUTES: list[RouteSpec] = []


def route(
    path: str,
    method: str = "GET",
    *,
    summary: str,
    description: str = "",
    tag: str = "",
    public: bool = False,
    groups: tuple[str, ...] = (),
    body: Model | None = None,
    query: Model | None = None,
    response: Model | tuple[Model, ...] | None = None,
    status: int = 200,
    also: tuple[tuple[int, str], ...] = (),
    errors: tuple[type[EchomateError], ...] = (),
    headers: tuple[str, ...] = (),
    content_types: tuple[str, ...] = ("application/json",),
    limit: str | None = None,
    counted: bool = True,
    body_required: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Register a view. Private unless ``public``; ``groups`` restricts it to those groups.
    Every call counts against the API's limits (per account and per address); ``limit`` names
    the class of write it is also counted as (``config.ROUTE_LIMITS``). A route that reads
    nothing (health, the document) is not ``counted``: counting would cost more than answering.

    The view receives ``caller`` (an ``identity.Identity``) when private, ``body`` and ``query``
    (validated models) when the route declares them, the path parameters, and, if it asks for
    them by name, ``client_ip`` and ``headers``. ``description`` (what the route does beyond
    its summary) and ``tag`` (its area, one of ``openapi.TAGS``) are for the OpenAPI document.
    """
    spec = RouteSpec(
        path=path,
        method=method,
        summary=summary,
        description=description,
        tag=tag,
        public=public,
        groups=groups,
        body_ref=body,
        query_ref=query,
        response_ref=response,
        status=status,
        also=also,
        errors=tuple(dict.fromkeys((*errors, RateLimited))) if counted else errors,
        headers=headers,
        limit=limit,
        counted=counted,
        body_required=body_required,
        content_types=content_types,
    )
    if limit is not None and limit not in ROUTE_LIMITS:
        raise ValueError(f"unknown route limit {limit!r}")

    def register(view: Callable[..., Any]) -> Callable[..., Response]:
        code = view.__code__  # its parameters' names (inspect.signature: 8 ms more cold start)
        wants = set(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])

        @functools.wraps(view)
        def handler(**params: str) -> Response:
            response = _handle(spec, view, wants, params)
            for observe in ANSWER_OBSERVERS:
                observe(spec.method, spec.path, response.status_code)
            return response

        app.route(
            path,
            methods=[method],
            authorizer=None if public else AUTHORIZER,
            content_types=list(content_types),
        )(handler)
        ROUTES.append(spec)
        return handler

    return register


#: called with (method, route path, status) of every answer a route gives: the tests record
#: them to check that the OpenAPI document declares each (empty in production: nothing runs)
ANSWER_OBSERVERS: list[Callable[[str, str, int], None]] = []


def _handle(
    spec: RouteSpec, view: Callable[..., Any], wants: set[str], params: dict[str, str]
) -> Response:
    request = app.current_request
    if request is None:  # Chalice sets it before it calls a view
        raise RuntimeError("no current request")
    logs.request_id.set(request.context.get("requestId", "-"))
    usage: ratelimit.Usage | None = None
    try:
        config.get_settings()  # fail fast, with every bad setting named, before touching anything
        kwargs: dict[str, Any] = dict(params)
        client_ip = (request.context.get("identity") or {}).get("sourceIp", "")
        if spec.counted:
            usage = ratelimit.hit("api_ip", client_ip or "unknown")
        if not spec.public:
            claims = (request.context.get("authorizer") or {}).get("claims")
            caller = identity.identify(request.headers, claims)
            sessions.check(caller.user_id, caller.issued_at, caller.session_id)
            usage = ratelimit.hit("api_account", caller.user_id)
            if spec.limit is not None:
                ratelimit.hit(f"{spec.limit}_account", caller.user_id)
            caller.require_group(*spec.groups)
            if "caller" in wants:
                kwargs["caller"] = caller
        _check_path(params)  # after the caller is known: a 401 stays a 401
        if spec.body is not None:
            empty = not request.raw_body and not spec.body_required
            data = {} if empty else _json_body(request.raw_body)
            kwargs["body"] = _validated(spec.body, data, "body")
        if spec.query is not None:
            multi: Any = request.query_params or {}
            for name in list(multi.keys()):
                if hasattr(multi, "getlist") and len(multi.getlist(name)) > 1:
                    raise Invalid(
                        f"{name}: given more than once", [{"field": name, "reason": "repeated"}]
                    )
            query = dict(multi)
            _check_values(query, "query")
            kwargs["query"] = _validated(spec.query, query, "query")
        if "client_ip" in wants:
            kwargs["client_ip"] = client_ip
        if "headers" in wants:
            kwargs["headers"] = request.headers
        with relations.viewing(None if spec.public else caller.user_id):
            answer = view(**kwargs)
        response = _respond(answer, spec.status)
        if spec.method == "GET":
            response = _conditional(response, request.headers.get("if-none-match"))
        return _with_usage(response, usage)
    except EchomateError as exc:
        return _with_usage(error_response(exc), usage)
    except SettingsError:
        app.log.exception("configuration error")
        return _envelope(500, "InternalServerError", "the service is misconfigured")
    except Exception as exc:
        bad = aws.bad_parameters(exc)  # any boto3 call (DynamoDB, S3) refusing a value: a 400
        if bad is not None:
            return _with_usage(error_response(bad), usage)
        app.log.exception("unhandled error in %s %s", spec.method, spec.path)
        return _envelope(500, "InternalServerError", "internal error")


def _check_path(params: dict[str, str]) -> None:
    """Path parameters in their alphabets (``models.PathParams``), or a 404 naming the one."""
    from pydantic import ValidationError

    try:
        models.PathParams.model_validate(params)
    except ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "path"
        raise NotFound(
            f"{field}: no such resource", [{"field": field, "reason": "format"}]
        ) from None


def _with_usage(response: Response, usage: ratelimit.Usage | None) -> Response:
    """The response with the caller's standing against the API's limit (``X-RateLimit-*``)."""
    if usage is not None:
        response.headers = {**usage.headers(), **(response.headers or {})}  # a 429 says its own
    return response


#: The largest JSON body any route takes (the biggest is a profile patch: 16 KB of documents,
#: as compact JSON; escapes can triple that). API Gateway's own cap is 10 MB.
MAX_BODY_BYTES = 64 * 1024
#: How deep a JSON body may nest. Python's json parser recurses (RecursionError near 1,000
#: levels on Lambda's stack); the deepest model here (a profile document) needs 7.
MAX_JSON_DEPTH = 16


def _json_body(raw: str | bytes | None) -> Any:
    """The request's JSON document: under MAX_BODY_BYTES, nested at most MAX_JSON_DEPTH deep,
    numbers finite, every string valid Unicode (no lone surrogates). Anything else is a 4xx."""
    if not raw:
        raise Invalid("body: a JSON object is required", [{"field": "body", "reason": "missing"}])
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge(
            f"body: at most {MAX_BODY_BYTES // 1024} KB",
            [{"field": "body", "reason": "too_large", "limit": MAX_BODY_BYTES}],
        )
    # The depth is counted on the raw text before parsing: the parser itself is what overflows.
    if _nesting_depth(raw) > MAX_JSON_DEPTH:
        raise Invalid(
            f"body: nested deeper than {MAX_JSON_DEPTH} levels",
            [{"field": "body", "reason": "too_deep", "limit": MAX_JSON_DEPTH}],
        )
    try:
        document = json.loads(raw, parse_constant=_no_constant)
    except _NotFinite as exc:
        raise Invalid(
            "body: numbers must be finite (no NaN or Infinity)",
            [{"field": "body", "reason": "not_finite", "message": str(exc)}],
        ) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Invalid("body: malformed JSON", [{"field": "body", "reason": "malformed"}]) from exc
    _check_values(document, "body")
    return document


class _NotFinite(ValueError):
    """NaN, Infinity, or a number too large for a float (``1e400``)."""


def _no_constant(name: str) -> Any:
    raise _NotFinite(name)


def _nesting_depth(raw: str | bytes) -> int:
    """The deepest ``[``/``{`` nesting of a JSON text, brackets inside strings not counted.
    Linear, no recursion; bytes and str alike (the structural characters are ASCII)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # most bodies: no walk needed
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _check_values(value: Any, where: str) -> None:
    """Refuse, naming the place, what no model should ever see: a float that overflowed to
    infinity (``1e400``) and a string or key with a lone surrogate (not encodable as UTF-8)."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise Invalid(
                    f"{path}: numbers must be finite",
                    [{"field": path, "reason": "not_finite"}],
                )
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, path)
                stack.append((child, f"{path}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(
            f"{path}: not valid Unicode text (a lone surrogate)",
            [{"field": path, "reason": "surrogate"}],
        ) from None


def _validated(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise Invalid(f"{where}: a JSON object is required", [{"field": where, "reason": "type"}])
    try:
        return model.model_validate(data)
    except RecursionError as exc:  # only reachable if a caller skipped _json_body's depth cap
        too_deep = [{"field": where, "reason": "too_deep"}]
        raise Invalid(f"{where}: nested too deep", too_deep) from exc
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(str(p) for p in err["loc"]) or where,
                "reason": err["type"],
                "message": err["msg"],
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        first = details[0]
        raise Invalid(f"{first['field']}: {first['message']}", details) from None


def _respond(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(body="", status_code=204 if status == 200 else status)
    if isinstance(result, models.ApiModel | db.Page):
        result = result.json_text()  # serialised once, by pydantic
    return Response(body=result, status_code=status, headers={"Content-Type": "application/json"})


def _conditional(response: Response, if_none_match: str | None) -> Response:
    """A weak ``ETag`` on a JSON 200 (a hash of the body the caller would get), and a 304 with
    no body when ``If-None-Match`` names it (or is ``*``): a client revalidating an unchanged
    profile or post downloads nothing. Rendition URLs are part of the body, so a post with
    media changes its tag when they are signed again."""
    import hashlib  # (with OpenSSL: 4 ms of cold start no route needs before its answer)

    if response.status_code != 200 or not isinstance(response.body, str):
        return response
    tag = 'W/"' + hashlib.sha256(response.body.encode()).hexdigest()[:27] + '"'
    headers = {**(response.headers or {}), "ETag": tag}
    given = {t.strip().removeprefix("W/") for t in (if_none_match or "").split(",") if t.strip()}
    if "*" in given or tag.removeprefix("W/") in given:
        headers.pop("Content-Type", None)
        return Response(body="", status_code=304, headers=headers)
    return Response(body=response.body, status_code=200, headers=headers)


def error_response(exc: EchomateError) -> Response:
    """The HTTP answer to a domain error: Chalice's envelope, plus details and Retry-After."""
    return _envelope(exc.STATUS_CODE, exc.CODE, exc.message, exc.details, exc.headers())


def _envelope(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"Code": code, "Message": message}
    if details:
        body["Details"] = details
    return Response(
        body=body,
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


# Health and docs -------------------------------------------------------------------------------
@route(
    "/health",
    public=True,
    counted=False,
    response=lazy_models.HealthOut,
    tag="meta",
    description="Answers 200 while the function runs; reads nothing else (no table, no Cognito) "
    "and counts against no limit.",
    summary="Liveness and version",
)
def get_health() -> models.HealthOut:
    return models.HealthOut(status="ok", version=__version__)


@route(
    "/openapi.json",
    public=True,
    counted=False,
    tag="meta",
    description="This document, generated from the route table and the pydantic models that "
    "validate requests. Counts against no limit.",
    summary="This OpenAPI 3.1 document",
)
def get_openapi() -> dict[str, Any]:
    return _openapi_document()


@functools.cache
def _openapi_document() -> dict[str, Any]:
    return openapi.build_document(ROUTES, title="Echomate API", version=__version__)


# Auth ------------------------------------------------------------------------------------------
@route(
    "/auth/session",
    response=lazy_models.SessionOut,
    tag="auth",
    description="Who the ID token says the caller is, without reading the profile: a cheap way to "
    "check a token. `username` is the handle as of the token's issue.",
    summary="The caller as the ID token shows them (extension: a cheap token check)",
)
def get_session(caller: identity.Identity) -> models.SessionOut:
    return caller.session()


@route(
    "/auth/signup",
    "POST",
    public=True,
    body=lazy_models.SignupIn,
    response=lazy_models.SignupOut,
    status=201,
    errors=(Conflict, RateLimited),
    tag="auth",
    description="Reserves the handle, creates the Cognito user and the profile; the account is "
    "unconfirmed until the e-mailed code is sent to `POST /auth/confirm` (removed if left "
    "unconfirmed for 7 days). 409 if the e-mail or the handle (in any case) is taken, 400 naming "
    "the password rules broken; counted per address (`signup_ip`).",
    summary="Create an account (unconfirmed)",
)
def sign_up(body: models.SignupIn, client_ip: str) -> models.SignupOut:
    return auth.sign_up(body, client_ip)


@route(
    "/auth/confirm",
    "POST",
    public=True,
    body=lazy_models.ConfirmIn,
    response=lazy_models.ConfirmOut,
    errors=(RateLimited,),
    tag="auth",
    description="Confirms the account with the code Cognito e-mailed; a wrong or expired code is a"
    " 400. The account can sign in from then on. Counted per address and account (`code_*`).",
    summary="Confirm the account with the e-mailed code",
)
def confirm_sign_up(body: models.ConfirmIn, client_ip: str) -> models.ConfirmOut:
    auth.confirm(body, client_ip)
    return models.ConfirmOut()


@route(
    "/auth/resend-code",
    "POST",
    public=True,
    body=lazy_models.EmailIn,
    response=lazy_models.AcceptedOut,
    status=202,
    errors=(RateLimited,),
    tag="auth",
    description="E-mails a new confirmation code. Always 202, whether or not the account exists or"
    " is confirmed already (no account discovery).",
    summary="Send a new confirmation code (always accepted)",
)
def resend_code(body: models.EmailIn, client_ip: str) -> models.AcceptedOut:
    auth.resend_code(body.email, client_ip)
    return models.AcceptedOut()


@route(
    "/auth/login",
    "POST",
    public=True,
    body=lazy_models.LoginIn,
    response=(lazy_models.TokensOut, lazy_models.ChallengeOut),
    errors=(Unauthorized, Forbidden, RateLimited),
    tag="auth",
    description="Signs in with e-mail and password: 200 with tokens, or 200 with a "
    "`SOFTWARE_TOKEN_MFA` challenge when TOTP MFA is on (answer it at `POST /auth/mfa/challenge`)."
    " A wrong password and an unknown account are the same 401; an unconfirmed account is a 403 "
    "(`user_not_confirmed`); a disabled one a 401. Counted per address and account (`login_*`).",
    summary="Sign in: tokens, or the TOTP challenge",
)
def log_in(body: models.LoginIn, client_ip: str) -> models.TokensOut | models.ChallengeOut:
    return auth.log_in(body, client_ip)


@route(
    "/auth/mfa/challenge",
    "POST",
    public=True,
    body=lazy_models.MfaChallengeIn,
    response=lazy_models.TokensOut,
    errors=(
        Unauthorized,
        RateLimited,
    ),
    tag="auth",
    description="Completes a sign-in that asked for TOTP: the login's `session` and the "
    "authenticator's current code give the tokens. A wrong code or an expired session is a 401.",
    summary="Answer the TOTP challenge",
)
def answer_mfa_challenge(body: models.MfaChallengeIn, client_ip: str) -> models.TokensOut:
    return auth.answer_mfa(body, client_ip)


@route(
    "/auth/refresh",
    "POST",
    public=True,
    body=lazy_models.RefreshIn,
    response=lazy_models.TokensOut,
    errors=(Unauthorized,),
    tag="auth",
    description="New ID and access tokens from the refresh token (no new refresh token: keep the "
    "one you have). On a 401 from any route, refresh once and retry; if the refresh is refused "
    "(401: signed out, password reset, disabled, expired), sign in again.",
    summary="New ID and access tokens (no new refresh token); 401 for a refused refresh token",
)
def refresh_tokens(body: models.RefreshIn) -> models.TokensOut:
    return auth.refresh(body.refresh_token)


@route(
    "/auth/forgot-password",
    "POST",
    public=True,
    body=lazy_models.EmailIn,
    response=lazy_models.AcceptedOut,
    status=202,
    errors=(RateLimited,),
    tag="auth",
    description="E-mails a password reset code for `POST /auth/reset-password`. Always 202, "
    "whether or not the account exists.",
    summary="E-mail a reset code (always accepted)",
)
def forgot_password(body: models.EmailIn, client_ip: str) -> models.AcceptedOut:
    auth.forgot_password(body.email, client_ip)
    return models.AcceptedOut()


@route(
    "/auth/reset-password",
    "POST",
    public=True,
    body=lazy_models.ResetPasswordIn,
    response=lazy_models.PasswordChangedOut,
    errors=(RateLimited,),
    tag="auth",
    description="Sets a new password with the e-mailed reset code; every session of the account "
    "ends, refresh tokens too. A wrong or expired code is a 400.",
    summary="Set a new password with the reset code",
)
def reset_password(body: models.ResetPasswordIn, client_ip: str) -> models.PasswordChangedOut:
    auth.reset_password(body, client_ip)
    return models.PasswordChangedOut()


@route(
    "/auth/change-password",
    "POST",
    body=lazy_models.ChangePasswordIn,
    response=lazy_models.PasswordChangedOut,
    errors=(Forbidden,),
    tag="auth",
    description="Changes the caller's password (the old one must be right); every other session of"
    " the account ends. `accessToken` must be the caller's (403 otherwise).",
    summary="Change the password",
)
def change_password(
    caller: identity.Identity, body: models.ChangePasswordIn
) -> models.PasswordChangedOut:
    auth.change_password(caller, body)
    return models.PasswordChangedOut()


@route(
    "/auth/logout",
    "POST",
    body=lazy_models.AccessTokenIn,
    status=204,
    errors=(Forbidden,),
    tag="auth",
    description="Global sign-out: every refresh token of the account stops working, and ID tokens "
    "issued before now get 401s (within 30 s on every instance).",
    summary="Sign out of every device",
)
def log_out(caller: identity.Identity, body: models.AccessTokenIn) -> None:
    auth.log_out(caller, body.access_token)


@route(
    "/auth/mfa/setup",
    "POST",
    body=lazy_models.AccessTokenIn,
    response=lazy_models.MfaSetupOut,
    errors=(Forbidden,),
    tag="auth",
    description="Starts TOTP MFA: a new secret and its `otpauth://` URI for an authenticator app. "
    "MFA is on only once `POST /auth/mfa/verify` accepts a code.",
    summary="Start TOTP MFA: a secret and an otpauth:// URI",
)
def set_up_mfa(caller: identity.Identity, body: models.AccessTokenIn) -> models.MfaSetupOut:
    return auth.set_up_mfa(caller, body.access_token)


@route(
    "/auth/mfa/verify",
    "POST",
    body=lazy_models.MfaVerifyIn,
    response=lazy_models.MfaStatusOut,
    errors=(Forbidden, RateLimited),
    tag="auth",
    description="Checks a code of the secret from `POST /auth/mfa/setup` and turns TOTP MFA on: "
    "later sign-ins answer a challenge. A wrong code is a 400.",
    summary="Check a TOTP code and turn MFA on",
)
def verify_mfa(caller: identity.Identity, body: models.MfaVerifyIn) -> models.MfaStatusOut:
    return auth.verify_mfa(caller, body.access_token, body.code)


@route(
    "/auth/mfa",
    "DELETE",
    body=lazy_models.AccessTokenIn,
    status=204,
    errors=(Forbidden,),
    tag="auth",
    description="Turns TOTP MFA off: sign-in takes the password alone again.",
    summary="Turn TOTP MFA off",
)
def disable_mfa(caller: identity.Identity, body: models.AccessTokenIn) -> None:
    auth.disable_mfa(caller, body.access_token)


# Users -----------------------------------------------------------------------------------------
@route(
    "/me",
    response=lazy_models.MeOut,
    errors=(NotFound,),
    tag="users",
    description="The caller's own profile, with e-mail, settings and `version` (send it as "
    "`If-Match` to `PATCH /me`).",
    summary="The caller's own profile",
)
def get_me(caller: identity.Identity) -> models.MeOut:
    return users.me(caller.user_id)


@route(
    "/me",
    "PATCH",
    body=lazy_models.MePatch,
    response=lazy_models.MeOut,
    errors=(Conflict, TooLarge),
    headers=("If-Match",),
    content_types=("application/json", "application/merge-patch+json"),
    tag="users",
    description="A JSON merge patch (RFC 7396), as `application/json` or "
    "`application/merge-patch+json`: fields sent are set, null removes (`profile` and `settings` "
    "merge recursively). Only the changed paths are written, in one conditional update; `If-Match:"
    " <version>` makes a stale edit a 409. `avatar` takes the id of a ready avatar upload of the "
    "caller's; `private` switches the account private or public. Answers the updated `GET /me` "
    "view, with its new `version`.",
    summary="JSON merge patch (RFC 7396) of name, profile, settings (and avatar)",
)
def update_me(
    caller: identity.Identity, body: models.MePatch, headers: dict[str, str]
) -> models.MeOut:
    return users.update_me(caller.user_id, body, _if_match(headers))


@route(
    "/me/username",
    "PUT",
    body=lazy_models.UsernameIn,
    response=lazy_models.MeOut,
    errors=(Conflict, RateLimited),
    tag="users",
    description="Changes the caller's handle: 409 if taken in any case, at most 2 changes per 14 "
    "days (429 with `Retry-After`). Posts, comments and notifications show the new handle at once;"
    " ID tokens carry it from the next refresh or sign-in.",
    summary="Change the caller's username (unique, any case; 2 changes in 14 days)",
)
def change_username(caller: identity.Identity, body: models.UsernameIn) -> models.MeOut:
    return auth.change_username(caller, body)


@route(
    "/me",
    "DELETE",
    response=lazy_models.DeletionOut,
    status=202,
    tag="users",
    description="Deletes the Cognito user at once (the tokens stop working), then, in the "
    "background, everything the account owns: posts, media, likes, comments, follows (others' "
    "counters corrected), notifications, exports, the handle.",
    summary="Delete the account and everything it owns (in the background)",
)
def delete_me(caller: identity.Identity) -> models.DeletionOut:
    return jobs.start_account_deletion(caller.user_id)


@route(
    "/me/export",
    response=lazy_models.ExportOut,
    status=202,
    also=((200, "the archive is ready: `url` links to it"),),
    tag="users",
    description="The caller's data as a ZIP archive (JSON files, the photos and an `index.html` to"
    " browse them): 202 with a pending job while it is made, then 200 with a presigned `url` valid"
    " 3600 s. A pending or ready export younger than 24 h is answered again instead of starting a "
    "new one.",
    summary="Export the caller's data: a job, then a link to a ZIP archive (JSON, photos, a page)",
)
def export_me(caller: identity.Identity) -> Response:
    job = jobs.request_export(caller.user_id)
    return _respond(job, 200 if job.status == "ready" else 202)


@route(
    "/users",
    limit="search",
    query=lazy_models.SearchQuery,
    response=lazy_models.UserPage,
    tag="users",
    description="Users whose handle or a word of whose name starts with `q` (2-30 characters; any "
    "case, any accent), paginated. Unconfirmed accounts and users blocked either way are left out."
    " Counted as a search (`search_account`).",
    summary="Search users by handle or name prefix (case- and accent-insensitive)",
)
def search_users(query: models.SearchQuery) -> db.Page[models.UserSummary]:
    return users.search(query.q, query.limit, query.cursor)


@route(
    "/users/{username}",
    response=lazy_models.PublicProfileOut,
    errors=(NotFound,),
    tag="users",
    description="Anyone's profile as others see it: never e-mail or settings; with the caller's "
    "relation to it (`isFollowing`, `isFollowedBy`, `requested`, `blocking`, `muting`). 404 for an"
    " unknown or unconfirmed user and for a user who blocks the caller.",
    summary="A user's public profile",
)
def get_user(caller: identity.Identity, username: str) -> models.PublicProfileOut:
    return users.public_profile(caller.user_id, username)


@route(
    "/users/{username}/follow",
    "PUT",
    limit="follows",
    response=lazy_models.FollowOut,
    errors=(NotFound, Conflict, Invalid),
    tag="users",
    description="Follows a user (counters moved in one transaction; their last 100 posts join the "
    "caller's feed), or, for a private account, asks to (`requested: true`; the owner answers at "
    "`/me/follow-requests`). Idempotent. 400 on oneself, 409 (`blocking`) while the caller blocks "
    "them, 404 if they block the caller.",
    summary="Follow a user, or ask to when the account is private (idempotent; 409 while the "
    "caller blocks them)",
)
def follow_user(caller: identity.Identity, username: str) -> models.FollowOut:
    return follows.follow(caller.user_id, username)


@route(
    "/users/{username}/follow",
    "DELETE",
    limit="follows",
    response=lazy_models.FollowOut,
    errors=(NotFound, Invalid),
    tag="users",
    description="Unfollows a user (their posts leave the caller's feed), or withdraws a pending "
    "request. Idempotent; 400 on oneself.",
    summary="Unfollow a user, or withdraw a pending request (idempotent)",
)
def unfollow_user(caller: identity.Identity, username: str) -> models.FollowOut:
    return follows.unfollow(caller.user_id, username)


@route(
    "/users/{username}/block",
    "PUT",
    limit="follows",
    response=lazy_models.BlockOut,
    errors=(NotFound, Invalid),
    tag="safety",
    description="Blocks a user. Idempotent; 400 on oneself. Follows both ways and pending requests"
    " go; neither sees the other anywhere (feed, explore, search, comments, likers, lists, "
    "activity); the blocked user gets 404s for the caller's profile and content.",
    summary="Block a user (idempotent): follows both ways go; neither sees the other anywhere",
)
def block_user(caller: identity.Identity, username: str) -> models.BlockOut:
    return safety.block(caller.user_id, username)


@route(
    "/users/{username}/block",
    "DELETE",
    limit="follows",
    response=lazy_models.BlockOut,
    errors=(NotFound, Invalid),
    tag="safety",
    description="Unblocks a user. Idempotent; no follow is restored.",
    summary="Unblock a user (idempotent)",
)
def unblock_user(caller: identity.Identity, username: str) -> models.BlockOut:
    return safety.unblock(caller.user_id, username)


@route(
    "/me/blocks",
    query=lazy_models.PageQuery,
    response=lazy_models.UserPage,
    tag="safety",
    description="The users the caller blocks, most recently blocked first, paginated.",
    summary="The users the caller blocks, newest first",
)
def list_blocks(caller: identity.Identity, query: models.PageQuery) -> db.Page[models.UserSummary]:
    return safety.blocks(caller.user_id, query.limit, query.cursor)


@route(
    "/users/{username}/mute",
    "PUT",
    limit="follows",
    body=lazy_models.MuteIn,
    body_required=False,
    response=lazy_models.MuteOut,
    errors=(NotFound, Invalid),
    tag="safety",
    description="Mutes a user, one way (they see no difference): their posts leave the caller's "
    "feed and explore, and with `notifications` (the default) their likes, comments and follows "
    "notify the caller no more. For `durationSeconds` or until undone; muting again replaces the "
    "terms. The body may be empty.",
    summary="Mute a user (their posts leave the feed and explore; optionally for a time)",
)
def mute_user(caller: identity.Identity, username: str, body: models.MuteIn) -> models.MuteOut:
    return safety.mute(caller.user_id, username, body)


@route(
    "/users/{username}/mute",
    "DELETE",
    limit="follows",
    response=lazy_models.MuteOut,
    errors=(NotFound, Invalid),
    tag="safety",
    description="Ends a mute. Idempotent.",
    summary="Unmute a user (idempotent)",
)
def unmute_user(caller: identity.Identity, username: str) -> models.MuteOut:
    return safety.unmute(caller.user_id, username)


@route(
    "/me/mutes",
    query=lazy_models.PageQuery,
    response=lazy_models.MutePage,
    tag="safety",
    description="The users the caller mutes, most recently muted first, each with `until` and "
    "`notifications`, paginated.",
    summary="The users the caller mutes, newest first, with until when",
)
def list_mutes(caller: identity.Identity, query: models.PageQuery) -> db.Page[models.MutedOut]:
    return safety.mutes(caller.user_id, query.limit, query.cursor)


@route(
    "/users/{username}/followers",
    query=lazy_models.PageQuery,
    response=lazy_models.UserPage,
    errors=(NotFound, Forbidden),
    tag="users",
    description="The accounts following a user, most recent first, paginated. For a private "
    "account, anyone but the account and its followers gets a 403 (`private_account`).",
    summary="Who follows a user, newest first (403 for a private account's outsiders)",
)
def list_followers(
    caller: identity.Identity, username: str, query: models.PageQuery
) -> db.Page[models.UserSummary]:
    return follows.followers(caller.user_id, username, query.limit, query.cursor)


@route(
    "/users/{username}/following",
    query=lazy_models.PageQuery,
    response=lazy_models.UserPage,
    errors=(NotFound, Forbidden),
    tag="users",
    description="The accounts a user follows, most recent first, paginated. For a private account,"
    " anyone but the account and its followers gets a 403 (`private_account`).",
    summary="Whom a user follows, newest first (403 for a private account's outsiders)",
)
def list_following(
    caller: identity.Identity, username: str, query: models.PageQuery
) -> db.Page[models.UserSummary]:
    return follows.following(caller.user_id, username, query.limit, query.cursor)


@route(
    "/me/follow-requests",
    query=lazy_models.PageQuery,
    response=lazy_models.FollowRequestPage,
    tag="users",
    description="Requests to follow the caller's private account, newest first, paginated; answer "
    "each with `accept` or `reject`.",
    summary="Follow requests waiting for the caller (a private account), newest first",
)
def list_follow_requests(
    caller: identity.Identity, query: models.PageQuery
) -> db.Page[models.FollowRequestOut]:
    return follows.requests(caller.user_id, query.limit, query.cursor)


@route(
    "/me/follow-requests/{username}/accept",
    "POST",
    limit="follows",
    response=lazy_models.FollowerOut,
    errors=(NotFound,),
    tag="users",
    description="Accepts a follow request: a normal follow from now on (counters, feed backfill; "
    "the owner gets a `follow` notification, the requester `follow_accepted`). Accepting one "
    "already accepted answers 200; 404 (`no_request`) when there is no request.",
    summary="Accept a follow request: the requester follows the caller from now on",
)
def accept_follow_request(caller: identity.Identity, username: str) -> models.FollowerOut:
    return follows.accept(caller.user_id, username)


@route(
    "/me/follow-requests/{username}/reject",
    "POST",
    limit="follows",
    status=204,
    errors=(NotFound,),
    tag="users",
    description="Rejects a follow request; the requester is not told. 404 (`no_request`) when "
    "there is no request.",
    summary="Reject a follow request (the requester is not told)",
)
def reject_follow_request(caller: identity.Identity, username: str) -> None:
    follows.reject(caller.user_id, username)


@route(
    "/me/followers/{username}",
    "DELETE",
    limit="follows",
    status=204,
    errors=(NotFound, Invalid),
    tag="users",
    description="Removes a follower: their follow and counters go, and the caller's posts leave "
    "their feed. Idempotent; 404 for an unknown user, 400 for oneself.",
    summary="Remove a follower (idempotent)",
)
def remove_follower(caller: identity.Identity, username: str) -> None:
    follows.remove_follower(caller.user_id, username)


#: the largest profile version an If-Match may name (DynamoDB numbers have 38 digits; a version
#: grows by one a write, so 18 digits are more than any profile will see)
_MAX_VERSION_DIGITS = 18


def _if_match(headers: dict[str, str]) -> int | None:
    """The profile version ``If-Match`` names, or None. RFC 9110: ``*`` matches any current
    representation (no condition); an entity-tag is ``"1"`` (``W/"1"`` and a bare ``1`` are
    taken too, as clients send them); one version only: a list is a 400, as is anything else."""
    value = (headers.get("if-match") or "").strip()
    if not value or value == "*":
        return None
    tag = value.removeprefix("W/")
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    # ASCII digits only: str.isdigit() also takes "²" and "٣", which int() then refuses
    if not (1 <= len(tag) <= _MAX_VERSION_DIGITS and tag.isascii() and tag.isdigit()):
        raise Invalid(
            'If-Match: must be one version (an integer, as "3")',
            [{"field": "If-Match", "reason": "type"}],
        )
    return int(tag)


# Media -----------------------------------------------------------------------------------------
@route(
    "/media",
    "POST",
    limit="media",
    body=lazy_models.MediaRequestIn,
    response=lazy_models.MediaUploadOut,
    status=201,
    headers=("Idempotency-Key",),
    errors=(Conflict, TooLarge, UnsupportedMedia),
    tag="media",
    description="Creates a `pending` media item and answers a presigned POST: send `upload.fields`"
    " and then the file (as the field `file`) as multipart/form-data to `upload.url`, within "
    "`expiresIn` seconds. The policy pins the key, the content type and the exact length. S3's "
    "upload event then makes it `ready` (renditions, blurhash) or `rejected`: poll `GET "
    "/media/{mediaId}`. 415 for a type outside jpeg/png/webp/heic/heif, 413 over the size limit, "
    "409 (`too_many_pending`) at 20 unfinished uploads; `Idempotency-Key` honoured.",
    summary="Ask for an upload: a presigned POST for one image; Idempotency-Key honoured",
)
def request_upload(
    caller: identity.Identity, body: models.MediaRequestIn, headers: dict[str, str]
) -> models.MediaUploadOut:
    return media.request_upload(caller.user_id, body, headers.get("idempotency-key"))


@route(
    "/media/{mediaId}",
    response=lazy_models.MediaOut,
    errors=(NotFound,),
    tag="media",
    description="A media item: `pending` until processed, then `ready` with size, blurhash and "
    "rendition URLs (the same URLs for an hour), or `rejected` with the reason. 404 for someone "
    "else's unfinished upload and for media of posts the caller cannot see.",
    summary="A media item: status, size, blurhash and rendition URLs",
)
def get_media(caller: identity.Identity, mediaId: str) -> models.MediaOut:
    return media.get_for(caller.user_id, mediaId)


@route(
    "/media/{mediaId}",
    "PATCH",
    limit="media",
    body=lazy_models.MediaPatchIn,
    response=lazy_models.MediaOut,
    errors=(Forbidden, NotFound, Conflict),
    tag="media",
    description="Sets or removes (null) the alt text and the focal point, also after the media is "
    "on a post: the post's views change in the same transaction. A new focus renders only the "
    "thumb again, at a new URL. An empty body is a 400; someone else's media a 403.",
    summary="Set the alt text and focus of a media item (owner; also once it is published)",
)
def describe_media(
    caller: identity.Identity, mediaId: str, body: models.MediaPatchIn
) -> models.MediaOut:
    return media.describe(caller.user_id, mediaId, body)


@route(
    "/media/{mediaId}",
    "DELETE",
    status=204,
    errors=(Forbidden, NotFound, Conflict),
    tag="media",
    description="Deletes a media item and its objects (owner only). 409 (`attached`, with "
    "`attachedTo`) while it is on a post or is the avatar; 403 for someone else's ready media, 404"
    " for someone else's unfinished upload.",
    summary="Delete a media item and its objects (owner only)",
)
def delete_media(caller: identity.Identity, mediaId: str) -> None:
    media.delete(caller.user_id, mediaId)


# Posts, feed, search ---------------------------------------------------------------------------
@route(
    "/posts",
    "POST",
    limit="posts",
    body=lazy_models.PostIn,
    response=lazy_models.PostOut,
    status=201,
    headers=("Idempotency-Key",),
    errors=(Conflict,),
    tag="posts",
    description="Creates a post: a caption (its `#hashtags` and `@mentions` picked out), 0-10 of "
    "the caller's own ready post media, a visibility. Followers get it in their feeds (fan-out in "
    "the background), mentioned users a notification. `Idempotency-Key` replays the first answer "
    "for 24 h; another body under the key is a 409.",
    summary="Create a post (0-10 ready media of one's own); Idempotency-Key honoured",
)
def create_post(
    caller: identity.Identity, body: models.PostIn, headers: dict[str, str]
) -> models.PostOut:
    return posts.create_post(caller.user_id, body, headers.get("idempotency-key"))


@route(
    "/posts/{postId}",
    response=lazy_models.PostOut,
    errors=(NotFound,),
    tag="posts",
    description="A post as the caller sees it, with `likedByMe` and `bookmarkedByMe`. 404 when the"
    " caller may not see it: followers-only or of a private account and not a follower, a block "
    "either way, or gone (moderators see every post).",
    summary="A post",
)
def get_post(caller: identity.Identity, postId: str) -> models.PostOut:
    return posts.get_post(caller.user_id, postId, moderator=caller.is_moderator)


@route(
    "/posts/{postId}",
    "PATCH",
    limit="posts",
    body=lazy_models.PostPatchIn,
    response=lazy_models.PostOut,
    errors=(Forbidden, NotFound, Conflict, Invalid),
    headers=("If-Match",),
    tag="posts",
    description="Edits a post (author only): fields left out stay, `mediaIds` is the whole new "
    "list. Each edit adds one to `version` and keeps the version it replaces (`/history`); "
    "`If-Match: <version>` makes a stale edit a 409 (`currentVersion` in `Details`), as does an "
    "edit racing another. Users newly mentioned are notified.",
    summary="Edit a post (author): caption, media, visibility, sensitivity; the version it "
    "replaces is kept",
)
def edit_post(
    caller: identity.Identity, postId: str, body: models.PostPatchIn, headers: dict[str, str]
) -> models.PostOut:
    return posts.edit_post(caller.user_id, postId, body, _if_match(headers))


@route(
    "/posts/{postId}/history",
    query=lazy_models.PageQuery,
    response=lazy_models.PostVersionPage,
    errors=(NotFound,),
    tag="posts",
    description="The post's earlier versions, oldest first, each as it was until the edit after "
    "it; for whoever may see the post.",
    summary="A post's earlier versions, oldest first (whoever may see the post)",
)
def post_history(
    caller: identity.Identity, postId: str, query: models.PageQuery
) -> db.Page[models.PostVersionOut]:
    return posts.history(caller.user_id, postId, query.limit, query.cursor)


@route(
    "/posts/{postId}/bookmark",
    "PUT",
    limit="likes",
    response=lazy_models.BookmarkOut,
    errors=(NotFound,),
    tag="posts",
    description="Saves a post to the caller's bookmarks (private to the caller). Idempotent: "
    "saving again keeps its place. 404 for a post the caller cannot see.",
    summary="Save a post (idempotent; private to the caller)",
)
def bookmark_post(caller: identity.Identity, postId: str) -> models.BookmarkOut:
    return posts.bookmark(caller.user_id, postId)


@route(
    "/posts/{postId}/bookmark",
    "DELETE",
    limit="likes",
    response=lazy_models.BookmarkOut,
    errors=(NotFound,),
    tag="posts",
    description="Removes a post from the caller's bookmarks. Idempotent.",
    summary="Unsave a post (idempotent)",
)
def unbookmark_post(caller: identity.Identity, postId: str) -> models.BookmarkOut:
    return posts.unbookmark(caller.user_id, postId)


@route(
    "/tags/{tag}",
    response=lazy_models.TagOut,
    tag="posts",
    description="A hashtag (any spelling, normalised): how many public posts carry it now, and "
    "whether the caller follows it.",
    summary="A hashtag: its public post count and whether the caller follows it",
)
def get_tag(caller: identity.Identity, tag: str) -> models.TagOut:
    return tags.about(caller.user_id, tag)


@route(
    "/tags/{tag}/follow",
    "PUT",
    limit="follows",
    response=lazy_models.TagFollowOut,
    errors=(Conflict,),
    tag="posts",
    description="Follows a hashtag: its public posts join the caller's home feed at read time "
    "(never from users blocked either way or muted). Idempotent; at most 25 tags (409 `too_many`).",
    summary="Follow a hashtag: its public posts join the home feed (idempotent)",
)
def follow_tag(caller: identity.Identity, tag: str) -> models.TagFollowOut:
    return tags.follow(caller.user_id, tag)


@route(
    "/tags/{tag}/follow",
    "DELETE",
    limit="follows",
    response=lazy_models.TagFollowOut,
    tag="posts",
    description="Unfollows a hashtag. Idempotent.",
    summary="Unfollow a hashtag (idempotent)",
)
def unfollow_tag(caller: identity.Identity, tag: str) -> models.TagFollowOut:
    return tags.unfollow(caller.user_id, tag)


@route(
    "/me/followed-tags",
    query=lazy_models.PageQuery,
    response=lazy_models.FollowedTagPage,
    tag="posts",
    description="The hashtags the caller follows, most recently followed first, paginated.",
    summary="The hashtags the caller follows, newest first",
)
def list_followed_tags(
    caller: identity.Identity, query: models.PageQuery
) -> db.Page[models.FollowedTagOut]:
    return tags.followed(caller.user_id, query.limit, query.cursor)


@route(
    "/me/bookmarks",
    query=lazy_models.PageQuery,
    response=lazy_models.PostPage,
    tag="posts",
    description="The caller's saved posts, most recently saved first, paginated; posts the caller "
    "can no longer see are left out (a page may be short: follow `nextCursor`).",
    summary="The caller's saved posts, newest saved first (those they can still see)",
)
def list_bookmarks(caller: identity.Identity, query: models.PageQuery) -> db.Page[models.PostOut]:
    return posts.bookmarks(caller.user_id, query.limit, query.cursor)


@route(
    "/posts/{postId}",
    "DELETE",
    status=204,
    errors=(Forbidden, NotFound),
    tag="posts",
    description="Deletes a post (its author, or a moderator). Its likes, comments, reports, "
    "hashtags, feed copies, notifications and media go in the background.",
    summary="Delete a post (author or moderator); what hangs on it goes in the background",
)
def delete_post(caller: identity.Identity, postId: str) -> None:
    posts.delete_post(caller, postId)


@route(
    "/users/{username}/posts",
    query=lazy_models.PageQuery,
    response=lazy_models.PostPage,
    errors=(NotFound, Forbidden),
    tag="feed",
    description="A user's posts, newest first, paginated: those the caller may see. 403 "
    "(`private_account`) for a private account to anyone but it and its followers; 404 if the user"
    " blocks the caller.",
    summary="A user's posts, newest first (403 for a private account's outsiders)",
)
def list_user_posts(
    caller: identity.Identity, username: str, query: models.PageQuery
) -> db.Page[models.PostOut]:
    return posts.user_posts(caller.user_id, username, query.limit, query.cursor)


@route(
    "/feed",
    query=lazy_models.PageQuery,
    response=lazy_models.PostPage,
    tag="feed",
    description="The home feed: the caller's own posts, those of the users they follow and the "
    "public posts of the hashtags they follow, newest first, paginated; without users blocked "
    "either way or muted. About 1,000 entries deep.",
    summary="Home feed: own and followed users' posts, newest first",
)
def list_feed(caller: identity.Identity, query: models.PageQuery) -> db.Page[models.PostOut]:
    return feed.feed(caller.user_id, query.limit, query.cursor)


@route(
    "/explore",
    query=lazy_models.PageQuery,
    response=lazy_models.PostPage,
    tag="feed",
    description="Recent public posts of public accounts, newest first, paginated; without users "
    "blocked either way or muted.",
    summary="Recent public posts, newest first",
)
def list_explore(caller: identity.Identity, query: models.PageQuery) -> db.Page[models.PostOut]:
    return feed.explore(caller.user_id, query.limit, query.cursor)


@route(
    "/search/posts",
    limit="search",
    query=lazy_models.TagQuery,
    response=lazy_models.PostPage,
    tag="feed",
    description="Public posts of public accounts carrying a hashtag (any spelling, normalised), "
    "newest first, paginated. Counted as a search (`search_account`).",
    summary="Public posts with a hashtag, newest first",
)
def search_posts(caller: identity.Identity, query: models.TagQuery) -> db.Page[models.PostOut]:
    return posts.search_tag(caller.user_id, query.tag, query.limit, query.cursor)


# Interactions and activity ---------------------------------------------------------------------
@route(
    "/posts/{postId}/like",
    "PUT",
    limit="likes",
    response=lazy_models.LikeOut,
    errors=(NotFound,),
    tag="interactions",
    description="Likes a post (the counter moves in the same transaction). Idempotent. The author "
    "is notified (the first 50 likes, then milestones), and pushed with likes grouped. 404 for a "
    "post the caller cannot see.",
    summary="Like a post (idempotent)",
)
def like_post(caller: identity.Identity, postId: str) -> models.LikeOut:
    return interactions.like(caller.user_id, postId)


@route(
    "/posts/{postId}/like",
    "DELETE",
    limit="likes",
    response=lazy_models.LikeOut,
    errors=(NotFound,),
    tag="interactions",
    description="Removes the caller's like. Idempotent.",
    summary="Unlike a post (idempotent)",
)
def unlike_post(caller: identity.Identity, postId: str) -> models.LikeOut:
    return interactions.unlike(caller.user_id, postId)


@route(
    "/posts/{postId}/likes",
    query=lazy_models.PageQuery,
    response=lazy_models.UserPage,
    errors=(NotFound,),
    tag="interactions",
    description="The users who like a post, paginated; without users blocked either way. 404 for a"
    " post the caller cannot see.",
    summary="Who liked a post",
)
def list_likers(
    caller: identity.Identity, postId: str, query: models.PageQuery
) -> db.Page[models.UserSummary]:
    return interactions.likers(caller.user_id, postId, query.limit, query.cursor)


@route(
    "/posts/{postId}/comments",
    "POST",
    limit="comments",
    body=lazy_models.CommentIn,
    response=lazy_models.CommentOut,
    status=201,
    headers=("Idempotency-Key",),
    errors=(NotFound, Conflict),
    tag="interactions",
    description="Comments on a post, or, with `replyTo`, replies to one of its comments (one "
    "level: a reply to a reply joins the same top comment). The post's author (or the comment's, "
    "for a reply) and mentioned users are notified; subscribers on the WebSocket get it. "
    "`Idempotency-Key` honoured (per post).",
    summary="Comment on a post (or reply to a comment); Idempotency-Key honoured",
)
def add_comment(
    caller: identity.Identity, postId: str, body: models.CommentIn, headers: dict[str, str]
) -> models.CommentOut:
    return interactions.add_comment(caller.user_id, postId, body, headers.get("idempotency-key"))


@route(
    "/posts/{postId}/comments",
    query=lazy_models.PageQuery,
    response=lazy_models.CommentPage,
    errors=(NotFound,),
    tag="interactions",
    description="A post's top comments, oldest first, each with `replyCount`, paginated; without "
    "users blocked either way.",
    summary="A post's comments, oldest first",
)
def list_comments(
    caller: identity.Identity, postId: str, query: models.PageQuery
) -> db.Page[models.CommentOut]:
    return interactions.comments(caller.user_id, postId, query.limit, query.cursor)


@route(
    "/posts/{postId}/comments/{commentId}/replies",
    query=lazy_models.PageQuery,
    response=lazy_models.CommentPage,
    errors=(NotFound,),
    tag="interactions",
    description="The replies to a top comment, oldest first, paginated. 404 for a reply's id.",
    summary="The replies to a comment, oldest first",
)
def list_replies(
    caller: identity.Identity, postId: str, commentId: str, query: models.PageQuery
) -> db.Page[models.CommentOut]:
    return interactions.replies(caller.user_id, postId, commentId, query.limit, query.cursor)


@route(
    "/posts/{postId}/comments/{commentId}",
    "DELETE",
    limit="comments",
    status=204,
    errors=(Forbidden, NotFound),
    tag="interactions",
    description="Deletes a comment (its author, the post's author or a moderator); a top comment "
    "takes its replies with it. Counters are corrected.",
    summary="Delete a comment (its author, the post's author or a moderator)",
)
def delete_comment(caller: identity.Identity, postId: str, commentId: str) -> None:
    interactions.delete_comment(caller, postId, commentId)


@route(
    "/activity",
    query=lazy_models.PageQuery,
    response=lazy_models.ActivityPage,
    tag="activity",
    description="The caller's notifications (likes, comments, replies, mentions, follows, follow "
    "requests and acceptances), newest first, paginated, each with `read`. Kept 90 days; none from"
    " users blocked either way.",
    summary="The caller's notifications, newest first",
)
def list_activity(
    caller: identity.Identity, query: models.PageQuery
) -> db.Page[models.ActivityOut]:
    return activity.list_activity(caller.user_id, query.limit, query.cursor)


@route(
    "/activity/read",
    "POST",
    body=lazy_models.ReadIn,
    status=204,
    tag="activity",
    description="Moves the caller's read mark: notifications up to `upTo` are read.",
    summary="Mark notifications up to a time as read",
)
def mark_activity_read(caller: identity.Identity, body: models.ReadIn) -> None:
    activity.mark_read(caller.user_id, body.up_to)


# Moderation ------------------------------------------------------------------------------------
@route(
    "/admin/users/{username}/disable",
    "POST",
    groups=(identity.ADMINS,),
    response=lazy_models.DisabledOut,
    errors=(NotFound,),
    tag="moderation",
    description="Disables an account (admins): it can no longer sign in or refresh, its sessions "
    "end, and its tokens get 401s. Logged in the moderation log.",
    summary="Disable an account: no more sign-in or refresh",
)
def disable_user(caller: identity.Identity, username: str) -> models.DisabledOut:
    return moderation.disable_user(caller, username)


@route(
    "/posts/{postId}/report",
    "POST",
    limit="reports",
    body=lazy_models.ReportIn,
    response=lazy_models.AcceptedOut,
    status=202,
    errors=(NotFound, Invalid),
    tag="moderation",
    description="Reports a post: the v1 `{reason}`, or `{category, details?}`. Reports on one "
    "target form a case; a repeat by the same reporter while the case is open is a 202 that adds "
    "nothing. 400 for one's own post.",
    summary="Report a post (a repeat while the case is open adds nothing)",
)
def report_post(
    caller: identity.Identity, postId: str, body: models.ReportIn
) -> models.AcceptedOut:
    reports.report_post(caller.user_id, postId, body)
    return models.AcceptedOut()


@route(
    "/posts/{postId}/comments/{commentId}/report",
    "POST",
    limit="reports",
    body=lazy_models.CategoryReportIn,
    response=lazy_models.AcceptedOut,
    status=202,
    errors=(NotFound, Invalid),
    tag="moderation",
    description="Reports a comment (a reply too). A repeat while the case is open adds nothing; "
    "400 for one's own comment.",
    summary="Report a comment (a repeat while the case is open adds nothing)",
)
def report_comment(
    caller: identity.Identity, postId: str, commentId: str, body: models.CategoryReportIn
) -> models.AcceptedOut:
    reports.report_comment(caller.user_id, postId, commentId, body)
    return models.AcceptedOut()


@route(
    "/users/{username}/report",
    "POST",
    limit="reports",
    body=lazy_models.CategoryReportIn,
    response=lazy_models.AcceptedOut,
    status=202,
    errors=(NotFound, Invalid),
    tag="moderation",
    description="Reports an account (one may report an account one blocks). A repeat while the "
    "case is open adds nothing; 400 for oneself, 404 if the account blocks the caller.",
    summary="Report an account (a repeat while the case is open adds nothing)",
)
def report_user(
    caller: identity.Identity, username: str, body: models.CategoryReportIn
) -> models.AcceptedOut:
    reports.report_user(caller.user_id, username, body)
    return models.AcceptedOut()


@route(
    "/admin/reports",
    groups=(identity.MODERATORS, identity.ADMINS),
    query=lazy_models.ReportQuery,
    response=lazy_models.ReportPage,
    tag="moderation",
    description="The moderation queue (moderators, admins): one row per reported target, `open` "
    "cases by their latest report or `resolved` ones by resolution, newest first, paginated.",
    summary="The moderation queue: one row per reported target, newest report first "
    "(moderators, admins)",
)
def list_reports(query: models.ReportQuery) -> db.Page[models.ReportOut]:
    return reports.queue(query.status, query.limit, query.cursor)


@route(
    "/admin/reports/{reportId}/resolve",
    "POST",
    groups=(identity.MODERATORS, identity.ADMINS),
    body=lazy_models.ResolveIn,
    response=lazy_models.ReportOut,
    errors=(NotFound, Conflict, Invalid),
    tag="moderation",
    description="Closes every open report on the case's target (moderators; `disable`: admins "
    "only) and answers the resolved row: `dismiss`, `remove` (the post or comment goes; 400 for a "
    "user) or `disable` (the account behind the target). 409 (`resolved`) for a case already "
    "closed. Logged; reporters are not told.",
    summary="Resolve every open report on a target: dismiss, remove it, or disable the "
    "account (admins)",
)
def resolve_report(
    caller: identity.Identity, reportId: str, body: models.ResolveIn
) -> models.ReportOut:
    return reports.resolve(caller, reportId, body)


# Push ------------------------------------------------------------------------------------------
@route(
    "/me/push-subscriptions",
    "POST",
    body=lazy_models.PushSubscriptionIn,
    response=lazy_models.PushSubscriptionOut,
    status=201,
    errors=(Invalid, Conflict),
    tag="push",
    description="Registers a phone for push notifications through SNS. The same token again "
    "answers the same device; a token another account had moves to the caller. 400 for a platform "
    "the stage has no SNS platform application for, 409 (`too_many`) past 20 devices.",
    summary="Register a phone for push notifications (the same token again: the same device)",
)
def add_push_subscription(
    caller: identity.Identity, body: models.PushSubscriptionIn
) -> models.PushSubscriptionOut:
    return push.register(caller.user_id, body.platform, body.token)


@route(
    "/me/push-subscriptions",
    response=lazy_models.PushSubscriptionList,
    tag="push",
    description="The caller's registered phones, oldest first.",
    summary="The caller's phones registered for push, oldest first",
)
def list_push_subscriptions(caller: identity.Identity) -> models.PushSubscriptionList:
    return models.PushSubscriptionList(items=push.devices(caller.user_id))


@route(
    "/me/push-subscriptions/{deviceId}",
    "DELETE",
    status=204,
    errors=(NotFound,),
    tag="push",
    description="Stops pushing to a phone: the device and its SNS endpoint go. 404 for a device "
    "that is not the caller's.",
    summary="Stop pushing to a phone",
)
def remove_push_subscription(caller: identity.Identity, deviceId: str) -> None:
    push.unregister(caller.user_id, deviceId)


# Real time (WebSocket API; chalicelib/realtime.py) ----------------------------------------------
@app.on_ws_connect()
def ws_connect(event: WebsocketEvent) -> dict[str, Any]:
    """A client opens the channel with ``?token=<ID token>`` (browsers cannot set headers on a
    WebSocket) or an ``Authorization`` header; a bad token is refused (401)."""
    raw = event.to_dict()
    token = (raw.get("queryStringParameters") or {}).get("token")
    if not token:
        headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        token = headers.get("authorization", "").removeprefix("Bearer ").strip() or None
    try:
        realtime.connect(event.connection_id, token)
    except EchomateError as exc:
        return {"statusCode": exc.STATUS_CODE, "body": _error_text(exc.CODE, exc.message)}
    except Exception:
        app.log.exception("WebSocket connect failed")
        return {"statusCode": 500, "body": _error_text("InternalServerError", "internal error")}
    return {"statusCode": 200}


@app.on_ws_message()
def ws_message(event: WebsocketEvent) -> None:
    """ping, subscribe, unsubscribe: the answer goes back down the connection."""
    realtime.reply(event.connection_id, realtime.receive(event.connection_id, event.body))


@app.on_ws_disconnect()
def ws_disconnect(event: WebsocketEvent) -> None:
    realtime.disconnect(event.connection_id)


def _error_text(code: str, message: str) -> str:
    return json.dumps({"Code": code, "Message": message})


# Background work -------------------------------------------------------------------------------
@app.on_dynamodb_record(
    stream_arn=startup_value(
        "TABLE_STREAM_ARN", "arn:aws:dynamodb:us-east-1:0:table/unset/stream/0"
    ),
    batch_size=50,
    starting_position="TRIM_HORIZON",
)
def handle_table_changes(event: DynamoDBEvent) -> None:
    """Stream records of the table: fan-out, notifications, jobs (chalicelib/events.py)."""
    logs.request_id.set(getattr(event.context, "aws_request_id", "-"))
    context: Any = event.context  # Lambda's context object (None under the local event pump)
    remaining = context.get_remaining_time_in_millis() / 1000 if context else 60
    events.dispatch(event, seconds=max(1.0, remaining - 10))


@app.schedule("rate(15 minutes)")
def sweep_jobs(event: CloudWatchEvent) -> None:
    """Restart background jobs whose run died (they stay pending); remove accounts never
    confirmed (their e-mail and handle are free again)."""
    jobs.sweep_stale_jobs()
    auth.expire_unconfirmed()


@app.on_s3_event(
    bucket=startup_value("MEDIA_BUCKET", "unset-media-bucket"),
    prefix="uploads/",
    events=["s3:ObjectCreated:*"],
)
def handle_upload(event: S3Event) -> None:
    """An upload landed: validate it and make its renditions (Pillow is imported here only)."""
    logs.request_id.set(getattr(event.context, "aws_request_id", "-"))
    media.process_upload(event.bucket, event.key)


@app.schedule("rate(1 hour)")
def clean_up_media(event: CloudWatchEvent) -> None:
    """Remove uploads never finished and media never attached, after a day."""
    media.cleanup()
