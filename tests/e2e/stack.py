"""A running embedded stack (`python -m devstack`) and an HTTP helper, for the e2e tests."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from tests.conftest import TEST_ENV

ROOT = Path(__file__).resolve().parents[2]
_EXEC_WITH_SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


class Stack:
    """A running `python -m devstack`, its output collected in the background."""

    def __init__(self, tmp: Path, moto_port: int, port: int, sigint_ignored: bool = False) -> None:
        """``sigint_ignored``: start it as a shell's background job is, SIGINT inherited ignored."""
        env = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
        self.api = f"http://127.0.0.1:{port}"
        self.moto = f"http://127.0.0.1:{moto_port}"
        self.lines: list[str] = []
        command = ["-m", "devstack", "--no-reload", "--moto-port", str(moto_port)]
        command += ["--port", str(port), "--state-dir", str(tmp)]
        if sigint_ignored:  # a tiny parent ignores SIGINT, then becomes the stack (exec keeps it)
            command = ["-c", _EXEC_WITH_SIGINT_IGNORED, *command]
        self.process = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        self.outputs_file = tmp / "outputs.json"

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def wait_ready(self, seconds: float = 120) -> float:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if any("Echomate API ready at" in line for line in self.lines):
                return time.monotonic() - started
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("stack not ready:\n" + "\n".join(self.lines[-40:]))

    def stop(self) -> int:
        """Ctrl-C it, as a developer does; its exit status. Fails with its output if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.terminate()  # its SIGTERM handler still stops chalice local and moto
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
            raise AssertionError(
                "the stack did not stop within 30 s of Ctrl-C:\n" + "\n".join(self.lines[-40:])
            ) from None

    def settings(self) -> dict:
        return json.loads(self.outputs_file.read_text())


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url, method="GET", token=None, body=None):
    """(status, JSON body) of a request; never raises on an HTTP error status."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = token
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urlopen(Request(url, data=data, headers=headers, method=method), timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
