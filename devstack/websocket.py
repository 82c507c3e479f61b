"""The embedded stack's WebSocket API: what API Gateway plays on AWS, for `chalice local`,
which has no WebSocket support.

Two servers, in one background thread's event loop:

- the WebSocket endpoint (``ws://127.0.0.1:8001`` under `make dev`; ``WS_PORT``): a client
  connects with ``?token=<ID token>``; the handshake runs the app's very own ``$connect``
  handler (``app.ws_connect``) with the event API Gateway would send, and is refused with that
  handler's status and body when it refuses; each message runs ``$default`` (``app.ws_message``)
  and a close runs ``$disconnect`` (``app.ws_disconnect``), in worker threads, as Lambda would;
- API Gateway's management API (``POST/GET/DELETE /@connections/{id}``, on a free loopback
  port): where the app's pushes go (``WEBSOCKET_ENDPOINT``), so the same boto3
  ``apigatewaymanagementapi`` client that talks to API Gateway on AWS delivers frames here,
  and an unknown or closed connection answers 410 ``GoneException`` as API Gateway does.

Connection ids look like API Gateway's (12 random bytes, base64). Nothing here is imported by
the Lambda app.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

#: the stage name in the events (API Gateway's WebSocket stage chalice deploys is ``api``)
STAGE = "api"


class WebSocketStack:
    """The WebSocket endpoint on ``host``:``port`` (0: any free port) and the management API
    stand-in on 127.0.0.1, calling the WebSocket handlers of the app module ``load_app()``
    returns (app.py; loaded at the first connection, once the stack's settings are set)."""

    def __init__(self, load_app: Callable[[], Any], host: str, port: int) -> None:
        self._load_app = load_app
        self._host = host
        self._port = port
        self._connections: dict[str, Any] = {}  # id -> websockets ServerConnection
        self._connected_at: dict[str, float] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopping: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._run, name="websocket", daemon=True)
        self._failure: BaseException | None = None
        self.port = 0
        management = _management_handler(self)
        self._management = ThreadingHTTPServer(("127.0.0.1", 0), management)
        self._management.daemon_threads = True
        self.management_url = f"http://127.0.0.1:{self._management.server_address[1]}"
        self._management_thread = threading.Thread(
            target=self._management.serve_forever, name="websocket-management", daemon=True
        )

    @property
    def _app(self) -> Any:
        return self._load_app()

    # Lifecycle ---------------------------------------------------------------------------------
    def start(self) -> WebSocketStack:
        self._management_thread.start()
        self._thread.start()
        self._ready.wait(30)
        if self._failure is not None:
            raise OSError(str(self._failure))
        return self

    def stop(self) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set_result, None)
        self._thread.join(10)
        self._management.shutdown()
        self._management.server_close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # the port taken, ...: start() reports it
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve

        self._stopping = self._loop.create_future()
        async with serve(
            self._session,
            self._host,
            self._port,
            process_request=self._handshake,
            ping_interval=None,  # API Gateway sends no pings: clients send {"action": "ping"}
            max_size=128 * 1024,  # API Gateway: 128 KB a message (32 KB frames)
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stopping

    # WebSocket side ----------------------------------------------------------------------------
    async def _handshake(self, connection: Any, request: Any) -> Any:
        """``$connect``: the app's handler decides; its refusal is the handshake's answer."""
        connection_id = base64.b64encode(secrets.token_bytes(12)).decode()
        query = dict(parse_qsl(urlsplit(request.path).query))
        event = self._event("$connect", connection_id, queryStringParameters=query or None)
        event["headers"] = dict(request.headers.raw_items())
        answer = await asyncio.to_thread(self._app.ws_connect, event, None)
        status = int((answer or {}).get("statusCode", 200))
        if status != 200:
            response = connection.respond(status, str((answer or {}).get("body") or ""))
            response.headers["Content-Type"] = "application/json"
            return response
        connection.echomate_id = connection_id
        self._connections[connection_id] = connection
        self._connected_at[connection_id] = time.time()
        return None

    async def _session(self, connection: Any) -> None:
        """Each message runs ``$default``; the close runs ``$disconnect``."""
        connection_id = connection.echomate_id
        try:
            async for message in connection:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                event = self._event("$default", connection_id, body=text)
                await asyncio.to_thread(self._quietly, self._app.ws_message, event)
        except Exception:  # a broken socket: it is closed all the same
            log.debug("connection %s broke", connection_id, exc_info=True)
        finally:
            self._connections.pop(connection_id, None)
            self._connected_at.pop(connection_id, None)
            event = self._event("$disconnect", connection_id)
            await asyncio.to_thread(self._quietly, self._app.ws_disconnect, event)

    def _quietly(self, handler: Any, event: dict[str, Any]) -> None:
        try:
            handler(event, None)
        except Exception:  # Lambda would log it and go on; so does the stand-in
            log.exception("WebSocket handler %s failed", getattr(handler, "name", handler))

    def _event(self, route: str, connection_id: str, **extra: Any) -> dict[str, Any]:
        """The Lambda event API Gateway sends a WebSocket route's integration."""
        kinds = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}
        return {
            "requestContext": {
                "routeKey": route,
                "eventType": kinds.get(route, "MESSAGE"),
                "connectionId": connection_id,
                "domainName": f"127.0.0.1:{self.port}",
                "apiId": "local",
                "stage": STAGE,
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": "127.0.0.1"},
            },
            "isBase64Encoded": False,
            **extra,
        }

    # Management API side -----------------------------------------------------------------------
    def post(self, connection_id: str, data: bytes) -> bool:
        """Send a frame to a connection (text when it is UTF-8); False when it is gone."""
        connection = self._connections.get(connection_id)
        if connection is None:
            return False
        try:
            frame: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            frame = data
        future = asyncio.run_coroutine_threadsafe(connection.send(frame), self._loop)
        try:
            future.result(10)
        except Exception:
            return False
        return True

    def close(self, connection_id: str) -> bool:
        connection = self._connections.get(connection_id)
        if connection is None:
            return False
        asyncio.run_coroutine_threadsafe(connection.close(), self._loop)
        return True

    def describe(self, connection_id: str) -> dict[str, Any] | None:
        connected_at = self._connected_at.get(connection_id)
        if connected_at is None:
            return None
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(connected_at))
        return {
            "connectedAt": stamp,
            "lastActiveAt": stamp,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": ""},
        }


def _management_handler(stack: WebSocketStack) -> type[BaseHTTPRequestHandler]:
    class Management(BaseHTTPRequestHandler):
        """``/@connections/{id}`` (also under a stage prefix, as ``.../api/@connections``)."""

        protocol_version = "HTTP/1.1"

        def _connection_id(self) -> str | None:
            path = urlsplit(self.path).path
            _, marker, rest = path.partition("/@connections/")
            return unquote(rest) if marker and rest else None

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length)
            connection_id = self._connection_id()
            if connection_id is None:
                self._answer(404, {"message": "Not Found"})
            elif stack.post(connection_id, data):
                self._answer(200, None)
            else:
                self._gone()

        def do_DELETE(self) -> None:
            connection_id = self._connection_id()
            if connection_id is not None and stack.close(connection_id):
                self._answer(204, None)
            else:
                self._gone()

        def do_GET(self) -> None:
            connection_id = self._connection_id()
            found = stack.describe(connection_id) if connection_id else None
            if found is None:
                self._gone()
            else:
                self._answer(200, found)

        def _gone(self) -> None:
            self._answer(410, {"message": None}, {"x-amzn-ErrorType": "GoneException"})

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status, HTTPStatus(status).phrase)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Management
