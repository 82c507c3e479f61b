"""Keep-alive latency of the embedded API: chalice local's handler with and without Nagle.

Serves the app's `GET /health` twice in this process, through chalice local's own server
classes: once with chalice's request handler as released, once with TCP_NODELAY (what
devstack/local_api.py sets). One keep-alive connection per server sends N requests, alternating
between the two so both see the same machine load; prints the medians, p95 and the ratio.
Also times a keep-alive DynamoDB GetItem against the embedded moto server (boto3 client).

    .venv/bin/python bench/keepalive.py [--requests 200]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _serve(app_obj, handler_cls):
    from chalice import local
    from chalice.config import Config

    config = Config(chalice_stage="local", config_from_disk={"stages": {"local": {}}})
    server = local.LocalDevServer(app_obj, config, "127.0.0.1", 0, handler_cls=handler_cls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server.server_address[1]


def _time(connection: http.client.HTTPConnection) -> float:
    started = time.perf_counter()
    connection.request("GET", "/health")
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 200, answer.status
    return (time.perf_counter() - started) * 1000


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered):7.2f} ms  p95 {p95:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from devstack.motoserver import MotoServer
    from devstack.provision import local_environment, provision
    from infra.stage_settings import stage_environment
    from tests.e2e.stack import free_port

    moto = MotoServer(free_port()).start()  # the app's settings name a provisioned stack
    os.environ.update(local_environment(moto.url))
    os.environ.update(provision(moto.url))
    os.environ.update(stage_environment("local"))
    from chalice import local

    import app as application

    class Released(local.ChaliceRequestHandler):
        def log_message(self, *args: object) -> None:  # the same (no) logging for both
            pass

    class NoDelay(Released):
        disable_nagle_algorithm = True

    # chalice local serves an app whose class it has swapped (create_local_server does this too)
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, application.app.__class__)
    application.app.__class__ = local.CustomLocalChalice
    servers = {
        "chalice local as released": _serve(application.app, Released),
        "TCP_NODELAY (devstack)": _serve(application.app, NoDelay),
    }
    connections = {
        name: http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for name, (_, port) in servers.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in servers}
    for connection in connections.values():
        _time(connection)  # connect, warm up
    for _ in range(args.requests):
        for name, connection in connections.items():
            samples[name].append(_time(connection))
    print(f"keep-alive GET /health, {args.requests} requests on one connection each, interleaved")
    for name, values in samples.items():
        print(f"  {name:28} {_summary(values)}")
    before, after = (statistics.median(v) for v in samples.values())
    print(f"  released / TCP_NODELAY: {before / after:.1f}x")
    for server, _ in servers.values():
        server.shutdown()
    _moto_get_item(moto, os.environ["TABLE_NAME"], args.requests)
    moto.stop()


def _moto_get_item(server, table: str, requests: int) -> None:
    """A keep-alive GetItem through boto3 against the embedded moto server (the floor of every
    DynamoDB call the app makes locally)."""
    from devstack.provision import clients

    dynamodb = clients(server.url)("dynamodb")
    key = {"PK": {"S": "BENCH"}, "SK": {"S": "A"}}
    dynamodb.put_item(TableName=table, Item=key)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        dynamodb.get_item(TableName=table, Key=key)
        times.append((time.perf_counter() - started) * 1000)
    print(f"keep-alive GetItem on the embedded moto (boto3)  {_summary(times)}")


if __name__ == "__main__":
    main()
