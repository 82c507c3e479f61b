import pytest

from tests.e2e.stack import free_port


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
