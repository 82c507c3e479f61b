"""`chalice local`, answering a request for no route as the cloud stage does, CORS on every
answer, and the API reference page.

chalice local emulates API Gateway's default answer to a path or method with no route: a 403
`{"message": "Missing Authentication Token"}`. In the cloud, infra/gateway_responses.py turns
that into a 404 in the app's `{"Code", "Message"}` envelope with CORS headers; this module gives
the embedded stack the same answer, rendered from the same table.

Where browsers trip, it also:
- answers a CORS preflight (OPTIONS) for any path with a 2xx: a typo'd route called with an
  `Authorization` header would otherwise fail its preflight, and JS would see "Failed to fetch"
  instead of the 404 envelope;
- puts the app's CORS headers on every answer that lacks them (chalice's own 405 has none), so
  JS can read every error;
- serves `GET /docs`: Swagger UI over `/openapi.json` (devstack/docs.py), here and not in the
  Lambda app, which stays out of the cold start.

Everything else is chalice's.

    python -m devstack.local_api local --stage local --port 8000 [--no-autoreload]
"""

from __future__ import annotations

import os
import sys
from typing import Any

from chalice import local

from devstack import docs, import_chalicelib
from infra.gateway_responses import gateway_responses, render
from infra.stage_settings import stage_environment


class NoRouteError(local.LocalGatewayException):
    CODE = 404


#: What a preflight for a path with no route allows: every method, so that the browser sends
#: the real request and JS reads its 404 envelope.
_ANY_METHOD = "GET,POST,PUT,PATCH,DELETE,OPTIONS"


def install(allow_origin: str) -> None:
    """Make LocalGateway answer as described above (module docstring)."""
    answer = gateway_responses(allow_origin)["MISSING_AUTHENTICATION_TOKEN"]
    handle_request = local.LocalGateway.handle_request
    # HOST=0.0.0.0 only: the app signs S3 URLs for 127.0.0.1 (its settings refuse any other
    # endpoint); a phone needs the machine's address. moto checks no URL signature, so naming
    # another host in them works locally (on AWS the app's own endpoint is public anyway).
    public_s3 = tuple(os.environ.get("DEVSTACK_PUBLIC_S3", "").split("=", 1)[:2])
    public_s3 = public_s3 if len(public_s3) == 2 else ()

    def answering_no_route(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        _record_statuses()
        cors = _cors_headers(self._app_object)
        docs = _docs(method, path)
        if docs is not None:
            return docs
        try:
            response = handle_request(self, method, path, headers, body)
        except local.ForbiddenError as exc:
            # chalice marks "no route" UnauthorizedException, an authorizer's denial otherwise
            if exc.headers.get("x-amzn-ErrorType") != "UnauthorizedException":
                raise _with_cors(exc, cors) from None
            if method == "OPTIONS":  # a preflight: let the browser send the request itself
                return _answer(200, {**cors, "Access-Control-Allow-Methods": _ANY_METHOD})
            extra, content = render(answer, "Missing Authentication Token")
            raise NoRouteError({**cors, **exc.headers, **extra}, content) from None
        except local.LocalGatewayException as exc:
            raise _with_cors(exc, cors) from None
        response["headers"] = {**cors, **response["headers"]}  # the app's own win
        if public_s3 and isinstance(response.get("body"), str):
            response["body"] = response["body"].replace(*public_s3)
        return response

    local.LocalGateway.handle_request = answering_no_route  # type: ignore[method-assign]


_recording: list[Any] = []


def _record_statuses() -> None:
    """Under the test suite (``ECHOMATE_OPERATIONS_DIR`` set by `make pytest`), leave every
    (method, route, status) the app answers in ``<dir>/<pid>.statuses``, as the in-process
    tiers do, for tests/infra/test_declared_statuses.py: the e2e and browser tiers' answers
    are checked against the OpenAPI document too. Hooked at the first request, once chalice
    has imported the app with the stage's variables."""
    folder = os.environ.get("ECHOMATE_OPERATIONS_DIR")
    application = sys.modules.get("app")
    if _recording or not folder or application is None:
        return
    import json
    import threading
    from pathlib import Path

    seen: set[tuple[str, str, int]] = set()
    lock = threading.Lock()
    target = Path(folder) / f"{os.getpid()}.statuses"

    def observe(method: str, route: str, status: int) -> None:
        with lock:
            if (method, route, status) in seen:
                return
            seen.add((method, route, status))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(sorted(seen)))

    application.ANSWER_OBSERVERS.append(observe)
    _recording.append(observe)


def _cors_headers(app_object: Any) -> dict[str, str]:
    """The app's CORS headers (app.py's CORSConfig), as chalice puts them on its routes."""
    config = app_object.api.cors
    if not config or config is True:
        return {"Access-Control-Allow-Origin": "*"}
    headers: dict[str, str] = config.get_access_control_headers()
    return headers


def _with_cors(exc: local.LocalGatewayException, cors: dict[str, str]) -> Exception:
    exc.headers = {**cors, **exc.headers}
    return exc


def _answer(status: int, headers: dict[str, str], body: bytes | None = None) -> dict[str, Any]:
    """A LocalGateway response (what the app's handler returns)."""
    return {"statusCode": status, "headers": headers, "multiValueHeaders": {}, "body": body}


def _docs(method: str, path: str) -> dict[str, Any] | None:
    """`GET /docs` (the reference page) and its assets under /docs/assets/; None otherwise."""
    route = path.split("?", 1)[0].rstrip("/")
    if method not in ("GET", "HEAD") or not (route == "/docs" or route.startswith("/docs/")):
        return None
    if route == "/docs":
        html = docs.page("/openapi.json", "/docs/assets/").encode()
        return _answer(200, {"Content-Type": "text/html; charset=utf-8"}, html)
    found = docs.asset(route.removeprefix("/docs/assets/"))
    if found is None:
        message = b'{"Code": "NotFoundError", "Message": "no such file of the docs page"}'
        return _answer(404, {"Content-Type": "application/json"}, message)
    data, content_type = found
    return _answer(200, {"Content-Type": content_type, "Cache-Control": "max-age=3600"}, data)


def tune_server() -> None:
    """TCP_NODELAY on every connection chalice local accepts, and a listen backlog of 128."""
    local.ChaliceRequestHandler.disable_nagle_algorithm = True
    local.ThreadedHTTPServer.request_queue_size = 128


def main() -> int:
    from chalice.cli import cli

    args = sys.argv[1:]
    # chalice's reloader restarts the server by running sys.argv again: make that this module
    sys.argv = [sys.executable, "-m", "devstack.local_api", *args]
    install(stage_environment("local").get("CORS_ALLOW_ORIGIN", "*"))
    tune_server()
    import_chalicelib()  # a request must not write a .pyc: the reloader would restart
    return cli.main(args=args, obj={}, prog_name="chalice")


if __name__ == "__main__":
    sys.exit(main())
