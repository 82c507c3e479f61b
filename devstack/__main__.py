"""`python -m devstack` (what `make dev` runs): the whole backend on 127.0.0.1, no AWS account.

Starts a moto server (MOTO_PORT, default 5000), provisions infra/template.yaml on it, serves the
WebSocket API (WS_PORT; devstack/websocket.py: chalice local has none), starts the event pump,
and serves the API with `chalice local --stage local` (PORT, default 8000) and the demo web
client on its own origin (DEMO_PORT; by default any free port, like WS_PORT). Prints one line with
the API URL when it answers, one with the demo's, and stops everything on Ctrl-C.

HOST=0.0.0.0 (opt-in) serves all of it on every interface, for a phone or an emulator on the
same network: the API's S3 URLs then name the machine's address (PUBLIC_HOST, or the address
its hostname resolves to).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument(
        "--state-dir",
        default=os.environ.get("DEVSTACK_DIR", ".devstack"),
        help="where the generated outputs file is written",
    )
    parser.add_argument(
        "--no-reload", action="store_true", help="don't restart the API when the code changes"
    )
    parser.add_argument(
        "--demo-port",
        type=int,
        default=int(os.environ.get("DEMO_PORT", 0)),
        help="the demo web client's port (0: any free port)",
    )
    parser.add_argument(
        "--ws-port",
        type=int,
        default=int(os.environ.get("WS_PORT", 0)),
        help="the WebSocket API's port (0: any free port)",
    )
    parser.add_argument(
        "--host",
        default=_host_from_environment(),
        help="the address to listen on: 127.0.0.1 (default) or 0.0.0.0 for the whole network",
    )
    args = parser.parse_args()
    public = _public_address(args.host)

    moto_url = f"http://127.0.0.1:{args.moto_port}"
    from devstack.provision import S3_EVENTS_QUEUE, clients, local_environment, provision

    # Every AWS call of this process and its children goes to moto with dummy credentials.
    os.environ.update(local_environment(moto_url))
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"  # real TOTP codes

    from devstack.motoserver import MotoServer, wait_until

    # Ctrl-C and `kill` both stop cleanly. SIGINT is set explicitly: a shell starting this in the
    # background (a CI job, `make dev &`) hands it over ignored, and Python then keeps it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    moto = MotoServer(args.moto_port, host=args.host).start()
    chalice_local: subprocess.Popen | None = None
    pump = None
    demo = None
    websocket = None
    try:
        started = time.monotonic()
        settings = provision(moto_url)
        from devstack.websocket import WebSocketStack

        try:  # the app is imported at the first connection, with the settings below in place
            websocket = WebSocketStack(_load_app, args.host, args.ws_port).start()
        except OSError as exc:
            raise SystemExit(
                f"the WebSocket API cannot listen on port {args.ws_port} ({exc}): set WS_PORT=..."
            ) from None
        settings["WEBSOCKET_ENDPOINT"] = websocket.management_url  # where the app pushes
        settings["WEBSOCKET_URL"] = f"ws://{public}:{websocket.port}"  # where clients connect
        state_dir = (ROOT / args.state_dir).resolve()
        state_dir.mkdir(parents=True, exist_ok=True)
        outputs_file = state_dir / "outputs.json"
        outputs_file.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        os.environ["STACK_OUTPUTS_FILE"] = str(outputs_file)
        os.environ.update(settings)  # and over anything a shell exported under these names
        print(
            f"provisioned infra/template.yaml on {moto_url} in "
            f"{time.monotonic() - started:.1f}s; settings in {outputs_file}",
            flush=True,
        )

        pump = _start_pump(_load_app(), clients(moto_url), S3_EVENTS_QUEUE)
        # imported before `chalice local` watches the files: a .pyc written later restarts it
        from devstack.demo import DemoServer

        command = [  # `chalice local`, with the cloud's answer to a request for no route
            sys.executable,
            "-m",
            "devstack.local_api",
            "local",
            "--stage",
            "local",
            "--host",
            args.host,
            "--port",
            str(args.port),
        ]
        if args.no_reload:
            command.append("--no-autoreload")
        environment = os.environ.copy()
        if public != "127.0.0.1":  # S3 URLs in the API's answers must name a reachable address
            environment["DEVSTACK_PUBLIC_S3"] = f"{moto_url}={moto.url_on(public)}"
        chalice_local = subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True)
        api = f"http://127.0.0.1:{args.port}"
        wait_until(
            lambda: _healthy(api) or chalice_local.poll() is not None,
            60,
            f"the API did not answer on {api} within 60 s",
        )
        if chalice_local.poll() is not None:
            raise SystemExit(f"chalice local exited with {chalice_local.returncode}")
        print(f"Echomate API ready at {api} (moto {moto_url}; Ctrl-C stops)", flush=True)
        print(f"Echomate WebSocket at {settings['WEBSOCKET_URL']}?token=<ID token>", flush=True)
        try:
            demo = DemoServer(
                args.host, args.demo_port, f"http://{public}:{args.port}", settings["WEBSOCKET_URL"]
            ).start()
        except OSError as exc:
            raise SystemExit(
                f"the demo cannot listen on port {args.demo_port} ({exc}): set DEMO_PORT=..."
            ) from None
        docs = f"http://{public}:{args.port}/docs"
        print(f"Echomate demo at http://{public}:{demo.port} (API docs: {docs})", flush=True)
        if public != "127.0.0.1":
            print(f"on the network: API http://{public}:{args.port}, S3 {moto.url_on(public)}")
        # Not chalice_local.wait(): a blocked waitpid hears Ctrl-C only if the signal lands on
        # this thread, and with the pump, moto and the WebSocket threads running it may not (CI
        # saw Ctrl-C ignored until SIGTERM 30 s later). Python runs the handler at each wake-up.
        while chalice_local.poll() is None:
            time.sleep(0.2)
        return chalice_local.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        if pump is not None:
            pump.request_stop()  # it finishes its batch while the rest stops
        if chalice_local is not None:
            _timed("chalice local", lambda: _stop_process_group(chalice_local))
        if pump is not None:
            _timed("the event pump", pump.stop)
        if demo is not None:
            _timed("the demo", demo.stop)
        if websocket is not None:
            _timed("the WebSocket API", websocket.stop)
        _timed("moto", moto.stop)
        print("embedded stack stopped", flush=True)


def _timed(what: str, stop: Callable[[], object]) -> None:
    """Run ``stop``, saying so when it took long (a slow Ctrl-C names its culprit)."""
    started = time.monotonic()
    stop()
    took = time.monotonic() - started
    if took > 2:
        print(f"stopping {what} took {took:.1f}s", flush=True)


def _load_app():
    """The app module, imported as `chalice local` does (stage variables applied)."""
    from infra.stage_settings import stage_environment

    os.environ.update(stage_environment("local"))
    sys.path.insert(0, str(ROOT))
    import app as application
    from devstack import import_chalicelib

    import_chalicelib()  # before `chalice local` watches the files (see there)
    return application


def _start_pump(application, make_client, queue_name: str):
    """Pump the app's events (stream, S3, schedules) to its handlers."""
    from devstack.pump import EventPump

    pump = EventPump(application.app, make_client, queue_name).setup().start()
    for line in pump.describe():
        print(f"event pump: {line}", flush=True)
    return pump


def _stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM ``process`` and its children, SIGKILL after 10 s; fine if it already exited."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=10)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _healthy(api: str) -> bool:
    try:
        with urlopen(f"{api}/health", timeout=1) as answer:  # noqa: S310 (loopback only)
            return answer.status == 200
    except (URLError, OSError):
        return False


def _host_from_environment() -> str:
    """HOST, when it is an IP address (zsh sets HOST to the machine's name: not meant here)."""
    from ipaddress import ip_address

    host = os.environ.get("HOST", "127.0.0.1")
    try:
        ip_address(host)
    except ValueError:
        return "127.0.0.1"
    return host


def _public_address(host: str) -> str:
    """The address other devices reach this machine at, when listening on every interface."""
    if host != "0.0.0.0":  # noqa: S104 (only when asked for)
        return host
    import socket

    return os.environ.get("PUBLIC_HOST") or socket.gethostbyname(socket.gethostname())


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
