from pathlib import Path

import pytest

from tests.e2e.stack import free_port

_HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this tier is marked `e2e`: `pytest -m "not e2e"` is the quick loop."""
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def port():
    return free_port()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One embedded stack for the e2e session, on free ports."""
    from tests.e2e.stack import Stack

    stack = Stack(tmp_path_factory.mktemp("devstack"), free_port(), free_port())
    stack.ready_after = stack.wait_ready()
    yield stack
    stack.stop()
