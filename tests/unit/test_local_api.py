"""devstack/local_api.py's server tuning: every accepted connection has TCP_NODELAY set."""

import socket
import threading
from urllib.request import urlopen

from chalice import Chalice, local
from chalice.config import Config

from devstack import local_api


def test_accepted_connections_send_without_nagles_delay(monkeypatch):
    monkeypatch.setattr(local.ChaliceRequestHandler, "disable_nagle_algorithm", False)
    monkeypatch.setattr(local.ThreadedHTTPServer, "request_queue_size", 5)
    local_api.tune_server()
    seen = []
    setup = local.ChaliceRequestHandler.setup

    def recording_setup(self):
        setup(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(local.ChaliceRequestHandler, "setup", recording_setup)
    app = Chalice(app_name="nodelay")

    @app.route("/health")
    def health():
        return {"ok": True}

    config = Config(chalice_stage="local", config_from_disk={"stages": {"local": {}}})
    server = local.create_local_server(app, config, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server.server_address[1]
        with urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server.server_close()
    assert seen and all(seen)
    assert server.server.request_queue_size == 128  # a burst of 30 connections is not reset
