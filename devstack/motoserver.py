"""A moto server on 127.0.0.1 whose DynamoDB behaves transactionally.

moto's DynamoDB is not isolated under concurrency: concurrent TransactWriteItems interleave, and
a cancelled transaction restores a deep copy of the whole table, wiping what other requests wrote
meanwhile. The app's code is right for DynamoDB; the emulator is not. So this server handles
DynamoDB requests one at a time (and materialises each response under the lock), as the real
service's isolation would make them appear. Other services run concurrently.

It also patches moto's DynamoDB (devstack/motopatch.py): a transaction costs in proportion to the
items it touches rather than the table, memory stays flat, and ClientRequestToken is honoured.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

HOST = "127.0.0.1"


class _SerialDynamoDB:
    def __init__(self, app: Callable, record_to: str | None = None) -> None:
        self._app = app
        self._lock = threading.Lock()
        # bench/load.py replays the DynamoDB requests of a load run (its floor): one JSON line each
        self._record = open(record_to, "a", encoding="utf-8") if record_to else None  # noqa: SIM115

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            if environ.get("PATH_INFO", "").startswith("/moto-api/reset"):
                with self._lock:  # a reset puts moto's strong instance lists back: undo that
                    answer = [b"".join(self._app(environ, start_response))]
                    _patch_moto()
                return answer
            return self._app(environ, start_response)
        with self._lock:
            if self._record is not None:
                self._write_record(environ)
            return [b"".join(self._app(environ, start_response))]

    def _write_record(self, environ: dict[str, Any]) -> None:
        import io
        import json

        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        operation = environ["HTTP_X_AMZ_TARGET"].rsplit(".", 1)[-1]
        self._record.write(json.dumps({"op": operation, "body": body.decode()}) + "\n")
        self._record.flush()


class MotoServer:
    """moto in a background thread of this process, serving every service on one port."""

    def __init__(self, port: int, host: str = HOST) -> None:
        self.port = port
        self.host = host  # 0.0.0.0 for a phone on the network (HOST=0.0.0.0 make dev)
        self.url = f"http://{HOST}:{port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> MotoServer:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from devstack import s3policy

        check_port_free(self.port)
        _patch_moto()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request is noise
        record_to = os.environ.get("DEVSTACK_RECORD_DYNAMODB")  # a file: see bench/load.py
        app = _SerialDynamoDB(DomainDispatcherApplication(create_backend_app), record_to)
        app = s3policy.enforce(app)  # S3's checks of browser uploads, which moto skips
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        wait_until(lambda: _answers(f"{self.url}/moto-api/"), 30, "moto did not start")
        return self

    def url_on(self, address: str) -> str:
        """This server's URL at ``address``."""
        return f"http://{address}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _patch_moto() -> None:
    from devstack import motopatch

    try:
        motopatch.apply()
    except motopatch.UnsupportedMoto as exc:  # run moto as released, and say what that costs
        print(f"embedded moto unpatched ({exc}): transactions copy the table", file=sys.stderr)


def check_port_free(port: int) -> None:
    """Refuse to start on a busy port, and say what holds it."""
    with socket.socket() as probe:
        if probe.connect_ex((HOST, port)) != 0:
            return
    if _answers(f"http://{HOST}:{port}/moto-api/"):
        raise SystemExit(
            f"a moto server already answers on {HOST}:{port} (a stale `make dev`?): "
            f"stop it, or choose another port with MOTO_PORT=..."
        )
    raise SystemExit(f"port {port} on {HOST} is taken by another program: set MOTO_PORT=...")


def _answers(url: str) -> bool:
    try:
        with urlopen(url, timeout=1) as answer:  # noqa: S310 (loopback only)
            return answer.status == 200
    except (URLError, OSError):
        return False


def wait_until(condition: Callable[[], bool], seconds: float, failure: str) -> None:
    """Poll ``condition`` until it holds; SystemExit with ``failure`` after ``seconds``."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(failure)
        time.sleep(0.1)
