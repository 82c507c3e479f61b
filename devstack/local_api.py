"""`chalice local`, answering a request for no route as the cloud stage does.

chalice local emulates API Gateway's default answer to a path or method with no route: a 403
`{"message": "Missing Authentication Token"}`. In the cloud, infra/gateway_responses.py turns
that into a 404 in the app's `{"Code", "Message"}` envelope with CORS headers; this module gives
the embedded stack the same answer, rendered from the same table. Everything else is chalice's.

    python -m devstack.local_api local --stage local --port 8000 [--no-autoreload]
"""

from __future__ import annotations

import sys
from typing import Any

from chalice import local

from infra.gateway_responses import gateway_responses, render
from infra.stage_settings import stage_environment


class NoRouteError(local.LocalGatewayException):
    CODE = 404


def install(allow_origin: str) -> None:
    """Make LocalGateway answer a request for no route with the cloud's gateway response."""
    answer = gateway_responses(allow_origin)["MISSING_AUTHENTICATION_TOKEN"]
    handle_request = local.LocalGateway.handle_request

    def answering_no_route(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            return handle_request(self, method, path, headers, body)
        except local.ForbiddenError as exc:
            # chalice marks "no route" UnauthorizedException, an authorizer's denial otherwise
            if exc.headers.get("x-amzn-ErrorType") != "UnauthorizedException":
                raise
            extra, content = render(answer, "Missing Authentication Token")
            raise NoRouteError({**exc.headers, **extra}, content) from None

    local.LocalGateway.handle_request = answering_no_route  # type: ignore[method-assign]


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
    return cli.main(args=args, obj={}, prog_name="chalice")


if __name__ == "__main__":
    sys.exit(main())
