"""The embedded stack as a developer runs it: `python -m devstack`, then real HTTP."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import boto3
import pytest

from tests import support
from tests.conftest import TEST_ENV
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


class Stack:
    """A running `python -m devstack`, its output collected in the background."""

    def __init__(self, tmp: Path, moto_port: int, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
        self.api = f"http://127.0.0.1:{port}"
        self.moto = f"http://127.0.0.1:{moto_port}"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devstack",
                "--no-reload",
                "--moto-port",
                str(moto_port),
                "--port",
                str(port),
                "--state-dir",
                str(tmp),
            ],
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
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)

    def settings(self) -> dict:
        return json.loads(self.outputs_file.read_text())


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


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("devstack"), free_port(), free_port())
    stack.ready_after = stack.wait_ready()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def tokens(stack):
    settings = stack.settings()
    idp = boto3.client("cognito-idp", endpoint_url=stack.moto, region_name="us-east-1")
    return support.sign_up(
        idp,
        settings["COGNITO_APP_CLIENT_ID"],
        "e2e@example.com",
        username="e2e",
        pool_id=settings["COGNITO_USER_POOL_ID"],
    )


def test_health_answers(stack):
    assert call(f"{stack.api}/health") == (200, {"status": "ok", "version": "0.1.0"})


def test_openapi_document_is_served(stack):
    status, document = call(f"{stack.api}/openapi.json")
    assert status == 200 and "/auth/session" in document["paths"]


def test_real_token_identifies_the_caller(stack, tokens):
    status, body = call(f"{stack.api}/auth/session", token=tokens["IdToken"])
    assert status == 200
    assert body["userId"] == support.claims_of(tokens["IdToken"])["sub"]
    assert body["username"] == "e2e"


@pytest.mark.parametrize(
    "forge", ["missing", "garbage", "unsigned", "expired", "tampered", "access"]
)
def test_forged_tokens_are_401_not_a_dropped_connection(stack, tokens, forge):
    claims = support.claims_of(tokens["IdToken"])
    token = {
        "missing": None,
        "garbage": "garbage",
        "unsigned": support.unsigned_token(claims),
        "expired": support.signed_token(support.expired_claims(claims)),
        "tampered": support.tampered(tokens["IdToken"], sub="someone-else"),
        "access": tokens["AccessToken"],
    }[forge]
    status, body = call(f"{stack.api}/auth/session", token=token)
    assert status == 401
    assert body["Code"] == "UnauthorizedError"


def test_nothing_listens_beyond_loopback(stack):
    settings = stack.settings()
    assert settings["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert settings["COGNITO_JWKS_URL"].startswith("http://127.0.0.1:")


def test_ctrl_c_stops_cleanly_and_a_rerun_works(stack, tmp_path):
    moto_port = int(stack.moto.rsplit(":", 1)[1])
    port = int(stack.api.rsplit(":", 1)[1])
    assert stack.stop() == 0
    assert "embedded stack stopped" in stack.lines
    again = Stack(tmp_path, moto_port, port)
    try:
        again.wait_ready()
        assert call(f"{again.api}/health")[0] == 200
    finally:
        assert again.stop() == 0
