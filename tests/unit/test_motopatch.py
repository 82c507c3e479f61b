"""devstack/motopatch.py without a server: the version guard and the token window."""

import pytest

from devstack import motopatch


def test_another_moto_version_is_refused_before_anything_changes(monkeypatch):
    import moto
    from moto.dynamodb import models

    monkeypatch.setattr(moto, "__version__", "5.3.0")
    before = models.DynamoDBBackend.transact_write_items
    with pytest.raises(motopatch.UnsupportedMoto, match=r"5\.2\.5.*5\.3\.0"):
        motopatch.apply()
    assert models.DynamoDBBackend.transact_write_items is before


def test_a_token_is_remembered_for_ten_minutes_then_forgotten():
    tokens = motopatch._Tokens()
    tokens.record("t", "request-a", succeeded=True, now=0.0)
    assert tokens.lookup("t", "request-a", now=599.0) is True
    with pytest.raises(Exception, match="non-identical"):
        tokens.lookup("t", "request-b", now=599.0)
    assert tokens.lookup("t", "request-b", now=601.0) is False  # a new request after the window


def test_a_failed_request_is_not_replayed_but_still_binds_its_token():
    tokens = motopatch._Tokens()
    tokens.record("t", "request-a", succeeded=False, now=0.0)
    assert tokens.lookup("t", "request-a", now=1.0) is False  # run it again
    with pytest.raises(Exception, match="non-identical"):
        tokens.lookup("t", "request-b", now=1.0)
