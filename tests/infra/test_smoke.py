"""`make smoke API=<url>` (infra/smoke.py) against the embedded stack, so it cannot rot: the same
script the deploy workflow runs against staging, here with a fresh sign-up (moto accepts any
confirmation code)."""

import pytest

from infra import smoke
from tests.e2e.stack import Stack, call, free_port

pytestmark = pytest.mark.e2e


def test_the_smoke_test_passes_on_the_embedded_stack_and_cleans_up(tmp_path):
    stack = Stack(tmp_path, free_port(), free_port())
    try:
        stack.wait_ready()
        lines = smoke.main(["--api", stack.api, "--wait", "30"])
        assert lines == 0, "\n".join(stack.lines[-40:])
        assert call(f"{stack.api}/health")[0] == 200
    finally:
        assert stack.stop() == 0


def test_a_failing_step_fails_the_smoke_test(tmp_path):
    assert smoke.main(["--api", f"http://127.0.0.1:{free_port()}"]) == 1  # nothing answers
