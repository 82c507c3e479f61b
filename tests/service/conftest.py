import pytest


@pytest.fixture(autouse=True)
def _aws(moto_aws):
    """Every test of this tier runs on moto in-process."""
