"""Serves the demo web client (demo/) on its own origin, as a frontend would be deployed.

Static files only, plus ``/config.json`` telling the page where the API and the WebSocket are.
Being another origin than the API and the bucket, it meets CORS exactly as a real web app does.
"""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEMO = Path(__file__).resolve().parent.parent / "demo"


class _Handler(SimpleHTTPRequestHandler):
    config: bytes = b"{}"
    # ES modules must come with a JavaScript type; Python's table varies across versions
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/config.json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self.config)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(self.config)
            return
        super().do_GET()

    def end_headers(self) -> None:
        # the demo is read while it changes: never let the browser keep an old app.js
        if self.path.split("?", 1)[0] != "/config.json":
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per file is noise next to the API's log


class DemoServer:
    """demo/ on ``host``:``port`` (0: any free port) in a background thread."""

    def __init__(self, host: str, port: int, api_url: str, websocket_url: str = "") -> None:
        config = json.dumps({"api": api_url, "ws": websocket_url}).encode()
        handler = type("DemoHandler", (_Handler,), {"config": config})
        self._server = ThreadingHTTPServer((host, port), partial(handler, directory=str(DEMO)))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo", daemon=True)

    def start(self) -> DemoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
